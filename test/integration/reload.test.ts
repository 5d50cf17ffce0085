// Config reloads and the scrape cache (spec §4.11): a job whose only changes are the
// interval, timeout, sample_limit or HTTP client keeps its targets' caches; any other change
// starts them fresh. Seen through scrape_series_added.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { parseConfig } from "../../core/config/load.ts";
import { createLogger } from "../../core/log/logger.ts";
import { Registry } from "../../core/metrics/registry.ts";
import { ManualClock } from "../../core/scrape/clock.ts";
import { cacheReusable } from "../../core/scrape/scraper.ts";
import { ScrapeService } from "../../core/scrape/service.ts";
import { MemoryStorage } from "../../storage/memory.ts";

let server: ReturnType<typeof Bun.serve>;
beforeAll(() => {
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("a 1\nb 2\nc 3\n", { headers: { "Content-Type": "text/plain" } }) });
});
afterAll(() => server.stop(true));

const config = (extra: string) =>
  parseConfig(`scrape_configs:\n  - job_name: j\n    scrape_interval: 10s\n${extra}    static_configs:\n      - targets: ['127.0.0.1:${server.port}']\n`, "reload.yml");

test("cacheReusable() ignores interval, timeout, sample_limit and the HTTP client only", () => {
  const base = config("").scrape_configs[0]!;
  expect(cacheReusable(base, config("    scrape_timeout: 5s\n    sample_limit: 10\n    basic_auth:\n      username: u\n").scrape_configs[0]!)).toBe(true);
  expect(cacheReusable(base, config("    honor_labels: true\n").scrape_configs[0]!)).toBe(false);
  expect(cacheReusable(base, config("    metric_relabel_configs:\n      - regex: x\n        action: labeldrop\n").scrape_configs[0]!)).toBe(false);
});

async function scrapeOnce(service: ScrapeService, clock: ManualClock): Promise<void> {
  const pool = service.manager.pools().get("j")!;
  const before = pool.activeTargets()[0]?.status.lastScrape ?? 0;
  await clock.advance(10_000);
  for (let i = 0; i < 200 && (pool.activeTargets()[0]?.status.lastScrape ?? 0) === before; i++) {
    await Bun.sleep(10);
    await clock.advance(0);
  }
}

test("a reload that changes only sample_limit keeps the cache; changing honor_labels does not", async () => {
  const clock = new ManualClock(1_800_000_000_000);
  const storage = new MemoryStorage(() => clock.now());
  const service = await ScrapeService.create({ storage, registry: new Registry(), log: createLogger({ level: "error", format: "logfmt", write: () => {} }), clock });
  await service.applyConfig(config(""));
  await scrapeOnce(service, clock);
  await service.applyConfig(config("    sample_limit: 100\n"));
  await scrapeOnce(service, clock);
  await service.applyConfig(config("    sample_limit: 100\n    honor_labels: true\n"));
  await scrapeOnce(service, clock);
  const added = storage.select([{ type: "=", name: "__name__", value: "scrape_series_added" }], 0, Infinity)[0]!.samples.map((s) => s.v);
  expect(added).toEqual([3, 0, 3]);
  await service.stop();
});

test("a reload that changes the series' labels marks the old series stale (end-of-run markers of the old loop)", async () => {
  const clock = new ManualClock(1_800_000_000_000);
  const storage = new MemoryStorage(() => clock.now());
  const service = await ScrapeService.create({ storage, registry: new Registry(), log: createLogger({ level: "error", format: "logfmt", write: () => {} }), clock });
  await service.applyConfig(config(""));
  await scrapeOnce(service, clock);
  await service.applyConfig(config("    metric_relabel_configs:\n      - target_label: v\n        replacement: '2'\n"));
  await scrapeOnce(service, clock);
  // The old loop's markers come one tick, one interval and 10% later.
  await scrapeOnce(service, clock);
  await scrapeOnce(service, clock);
  const old = storage.select([{ type: "=", name: "__name__", value: "a" }, { type: "=", name: "v", value: "" }], 0, Infinity)[0]!;
  expect(old.samples.at(-1)!.stale).toBe(true);
  const renamed = storage.select([{ type: "=", name: "__name__", value: "a" }, { type: "=", name: "v", value: "2" }], 0, Infinity)[0]!;
  expect(renamed.samples.some((x) => x.stale)).toBe(false);
  await service.stop();
});
