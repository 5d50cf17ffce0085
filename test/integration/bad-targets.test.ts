// Scraping real HTTP targets on loopback through the whole pipeline (service → pool → loop
// → HTTP client → WASM parser and cache → storage), one job per way a target can misbehave.
// Time is a manual clock; only the HTTP exchanges run in real time.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../core/config/load.ts";
import { createLogger } from "../../core/log/logger.ts";
import { Registry } from "../../core/metrics/registry.ts";
import { ManualClock } from "../../core/scrape/clock.ts";
import { ScrapeService } from "../../core/scrape/service.ts";
import { MemoryStorage } from "../../storage/memory.ts";

const INTERVAL = 10_000;
const T0 = 1_800_000_000_000; // a multiple of the interval, so phases are easy to reason about
const text = (body: string, status = 200, type = "text/plain; version=0.0.4") => new Response(body, { status, headers: { "Content-Type": type } });
const bigBody = Array.from({ length: 10_000 }, (_, i) => `m{i="${i}"} ${i}`).join("\n") + "\n";
let good = "a 1\nb 2\n";

const routes: Record<string, () => Response | Promise<Response>> = {
  "/ok": () => text(good),
  "/timeout": () => new Promise<Response>((r) => setTimeout(() => r(text("late 1\n")), 2_000)),
  "/500": () => text("oops", 500),
  "/204": () => new Response(null, { status: 204 }),
  "/empty": () => text(""),
  "/big": () => text(bigBody),
  "/gzip-garbage": () => new Response("definitely not gzip", { headers: { "Content-Type": "text/plain", "Content-Encoding": "gzip" } }),
  "/wrong-type": () => text("a 1\n", 200, "application/json"),
  "/parse-9000": () => text(Array.from({ length: 8999 }, (_, i) => `ok_${i} 1`).join("\n") + "\nbad{ 1\n"),
  "/duplicates": () => text("d 1\nd 2\n"),
  "/sample-limit": () => text(Array.from({ length: 100 }, (_, i) => `s{i="${i}"} 1`).join("\n") + "\n"),
};

let server: ReturnType<typeof Bun.serve>;
let service: ScrapeService;
let storage: MemoryStorage;
const clock = new ManualClock(T0);

function job(name: string, path: string, extra = "") {
  return `  - job_name: ${name}\n    scrape_interval: 10s\n    scrape_timeout: 300ms\n    metrics_path: ${path}\n${extra}    static_configs:\n      - targets: ['127.0.0.1:${server.port}']\n`;
}

beforeAll(async () => {
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => (routes[new URL(req.url).pathname] ?? (() => text("no route", 404)))() });
  storage = new MemoryStorage(() => clock.now());
  service = await ScrapeService.create({ storage, registry: new Registry(), log: createLogger({ level: "error", format: "logfmt", write: () => {} }), clock });
  const yaml =
    "scrape_configs:\n" +
    job("ok", "/ok") +
    job("refused", "/ok", "").replace(`127.0.0.1:${server.port}`, "127.0.0.1:1") +
    job("timeout", "/timeout") +
    job("status500", "/500") +
    job("status204", "/204") +
    job("empty", "/empty") +
    job("body-limit", "/big", "    body_size_limit: 1KB\n") +
    job("gzip-garbage", "/gzip-garbage") +
    job("wrong-type", "/wrong-type") +
    job("parse-9000", "/parse-9000") +
    job("duplicates", "/duplicates") +
    job("sample-limit", "/sample-limit", "    sample_limit: 10\n");
  await service.applyConfig(parseConfig(yaml, "bad-targets.yml"));
});

afterAll(async () => {
  await service.stop();
  server.stop(true);
});

/** Advances one interval and waits (in real time) until every target has scraped again. */
async function tick(): Promise<void> {
  const before = new Map([...service.manager.pools()].map(([name, p]) => [name, p.activeTargets()[0]?.status.lastScrape ?? 0]));
  await clock.advance(INTERVAL);
  const deadline = Date.now() + 5_000;
  for (;;) {
    const done = [...service.manager.pools()].every(([name, p]) => (p.activeTargets()[0]?.status.lastScrape ?? 0) > before.get(name)! || false);
    if (done || Date.now() > deadline) return;
    await Bun.sleep(10);
    await clock.advance(0);
  }
}

const status = (job: string) => service.manager.pools().get(job)!.activeTargets()[0]!.status;
const ups = (job: string) => storage.select([{ type: "=", name: "__name__", value: "up" }, { type: "=", name: "job", value: job }], 0, Infinity)[0]?.samples.map((s) => s.v) ?? [];
const report = (name: string, job: string) => storage.select([{ type: "=", name: "__name__", value: name }, { type: "=", name: "job", value: job }], 0, Infinity)[0]?.samples.map((s) => s.v) ?? [];
const samplesOf = (job: string) => storage.select([{ type: "=", name: "job", value: job }, { type: "!~", name: "__name__", value: "up|scrape_.*" }], 0, Infinity);

describe("a misbehaving target gives up=0, a clear lastError and its report series, commits nothing else, and keeps being scraped", () => {
  beforeAll(async () => {
    await tick();
    await tick();
  });

  const failing: Array<[string, RegExp]> = [
    ["refused", /connection refused/],
    ["timeout", /context deadline exceeded \(scrape timeout 300ms\)/],
    ["status500", /server returned HTTP status 500 Internal Server Error/],
    ["status204", /server returned HTTP status 204 No Content/],
    ["body-limit", /body size limit exceeded/],
    ["gzip-garbage", /gzip/],
    ["wrong-type", /received unsupported Content-Type "application\/json" and no fallback_scrape_protocol specified for target/],
    ["parse-9000", /parse error at line 9000/],
    ["sample-limit", /^sample limit exceeded$/],
  ];
  for (const [name, error] of failing) {
    test(`${name}: up=0 with lastError ${error}`, () => {
      expect(status(name).health).toBe("down");
      expect(status(name).lastError).toMatch(error);
      expect(ups(name)).toEqual([0, 0]);
      expect(report("scrape_duration_seconds", name)).toHaveLength(2);
      expect(samplesOf(name)).toEqual([]);
    });
  }

  test("sample-limit still reports every sample in its counts", () => {
    expect(report("scrape_samples_scraped", "sample-limit")).toEqual([100, 100]);
    expect(report("scrape_samples_post_metric_relabeling", "sample-limit")).toEqual([100, 100]);
  });

  test("an empty 200 body is up=1 with no samples", () => {
    expect(status("empty")).toMatchObject({ health: "up", lastError: "" });
    expect(ups("empty")).toEqual([1, 1]);
    expect(report("scrape_samples_scraped", "empty")).toEqual([0, 0]);
  });

  test("duplicate series are up=1: the first value is kept, the duplicate counted", () => {
    expect(status("duplicates").health).toBe("up");
    expect(samplesOf("duplicates")[0]!.samples.map((s) => s.v)).toEqual([1, 1]);
  });

  test("a healthy target is scraped at every interval", () => {
    expect(status("ok")).toMatchObject({ health: "up", lastError: "" });
    expect(ups("ok")).toEqual([1, 1]);
    expect(samplesOf("ok").map((s) => s.labels.get("__name__"))).toEqual(["a", "b"]);
  });

  test("a series that disappears from a healthy target gets a stale marker", async () => {
    good = "a 5\n";
    await tick();
    const b = storage.select([{ type: "=", name: "__name__", value: "b" }], 0, Infinity)[0]!;
    expect(b.samples.at(-1)!.stale).toBe(true);
  });
});
