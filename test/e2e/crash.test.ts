// kill -9 the compiled binary at random moments while it scrapes, many times in a row:
// after each restart every scrape it had applied is there, and no scrape is there in part.
import { beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../core/log/logger.ts";
import { Registry } from "../../core/metrics/registry.ts";
import { Tsdb } from "../../storage/tsdb/index.ts";
import { rng } from "../support/random.ts";
import { compiledBinary, startGleaner, tempDir } from "./harness.ts";

const SERIES = 50;
let binary = "";
beforeAll(async () => {
  binary = await compiledBinary();
}, 120_000);

test("kill -9 at random points loses no applied scrape and never leaves half a scrape", async () => {
  let seq = 0;
  const target = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () => {
      seq++;
      return new Response(Array.from({ length: SERIES }, (_, i) => `crash_test{i="${i}"} ${seq}`).join("\n") + "\n", { headers: { "Content-Type": "text/plain" } });
    },
  });
  const work = tempDir("gleaner-crash-");
  writeFileSync(join(work, "gleaner.yml"), `scrape_configs:\n  - job_name: crash\n    scrape_interval: 100ms\n    scrape_timeout: 90ms\n    static_configs:\n      - targets: ['127.0.0.1:${target.port}']\n`);
  const random = rng(20261122);
  let acknowledged = 0;
  try {
    for (let round = 0; round < 8; round++) {
      const { g, base } = await startGleaner([binary], ["--config.file=gleaner.yml", "--storage.tsdb.path=data"], work);
      const until = Date.now() + 300 + random() * 900;
      // Samples the head applied, which happens only after their WAL record is durable.
      let applied = 0;
      while (Date.now() < until) {
        const m = /^prometheus_tsdb_head_samples_appended_total\{type="float"\} (\d+)$/m.exec(await (await fetch(`${base}/metrics`)).text());
        applied = Number(m?.[1] ?? 0);
        await Bun.sleep(20);
      }
      g.proc.kill("SIGKILL");
      await g.exit();
      acknowledged += applied;
    }
  } finally {
    target.stop(true);
  }

  const db = await Tsdb.open({ dir: join(work, "data"), retentionMs: 0, retentionBytes: 0, registry: new Registry(), log: createLogger({ level: "error", format: "logfmt", write: () => {} }) });
  const data = db.select([{ type: "=", name: "__name__", value: "crash_test" }], -Infinity, Infinity);
  expect(data).toHaveLength(SERIES);
  // Every scrape is whole: each timestamp has all SERIES samples, with one value.
  const byTime = new Map<number, Set<number>>();
  let stored = 0;
  for (const s of data) {
    for (const x of s.samples) {
      if (x.stale) continue;
      stored++;
      const values = byTime.get(x.t) ?? new Set<number>();
      values.add(x.v);
      byTime.set(x.t, values);
    }
  }
  for (const [t, values] of byTime) {
    expect(values.size, `scrape at ${t}`).toBe(1);
    const count = data.filter((s) => s.samples.some((x) => x.t === t && !x.stale)).length;
    expect(count, `scrape at ${t}`).toBe(SERIES);
  }
  // Nothing applied was lost: the scraped series' share of what the head reported applied
  // (each scrape also applies 5 report samples) is all there.
  const reportSamples = db.select([{ type: "=", name: "job", value: "crash" }, { type: "=~", name: "__name__", value: "up|scrape_.*" }], -Infinity, Infinity).reduce((n, s) => n + s.samples.filter((x) => !x.stale).length, 0);
  expect(stored + reportSamples).toBeGreaterThanOrEqual(acknowledged);
  expect(byTime.size).toBeGreaterThan(10);
  await db.close();
}, 120_000);
