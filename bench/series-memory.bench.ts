/**
 * Memory per active series of the whole ingest path, in one process and without HTTP: T
 * targets of the k8s-http workload (bench/harness/k8s-http.ts) scraped by real scrapers into
 * a real TSDB (temp dir), a few rounds each, then a breakdown: RSS, the JS heap, the WASM
 * core's memory, and the head's own accounting of its structures.
 *
 *   bun bench/series-memory.bench.ts [targets] [series-per-target] [rounds]   (default 50 20000 3)
 */
import { heapStats } from "bun:jsc";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../core/config/load.ts";
import { createLogger } from "../core/log/logger.ts";
import { Registry } from "../core/metrics/registry.ts";
import { compileRelabel } from "../core/relabel/index.ts";
import { ScrapeMetrics } from "../core/scrape/metrics.ts";
import { TargetScraper } from "../core/scrape/scraper.ts";
import { populateTarget } from "../core/scrape/target.ts";
import { Tsdb } from "../storage/tsdb/index.ts";
import { core as sharedCore } from "../wasm/index.ts";
import { ExpositionParser, Format } from "../wasm/parser.ts";
import { K8sHttpWorkload } from "./harness/k8s-http.ts";

const TARGETS = Number(process.argv[2] ?? 50);
const SERIES = Number(process.argv[3] ?? 20_000);
const ROUNDS = Number(process.argv[4] ?? 3);
const INTERVAL = 10_000;

const rss = () => process.memoryUsage.rss();
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
Bun.gc(true);
const rss0 = rss();
const heap0 = heapStats().heapSize;
const core = await sharedCore();
const wasm0 = core.exports.memory.buffer.byteLength;
const allocated = () => (core.exports as unknown as { allocHeapBytes(): number }).allocHeapBytes();
const alloc0 = allocated();

const dir = mkdtempSync(join(tmpdir(), "gleaner-series-memory-"));
const log = createLogger({ level: "error", format: "logfmt" });
const now = Date.now();
const db = await Tsdb.open({ dir, retentionMs: 0, retentionBytes: 0, registry: new Registry(), log, fsyncIntervalMs: 1000, flushIntervalMs: 3_600_000, now: () => now + ROUNDS * INTERVAL });
const workload = new K8sHttpWorkload(SERIES);
const cfg = parseConfig("scrape_configs:\n  - job_name: bench\n", "bench.yml").scrape_configs[0]!;
const parser = new ExpositionParser(core);
const metrics = new ScrapeMetrics(new Registry());
const scrapers = Array.from({ length: TARGETS }, (_, k) => {
  const populated = populateTarget(new Map([["__address__", `10.0.${k >> 8}.${k & 255}:8080`]]), cfg, compileRelabel(cfg.relabel_configs));
  if (populated.kind !== "target") throw new Error("no target");
  let step = 0;
  const scraper = new TargetScraper(populated.target, cfg, {
    core, parser, storage: db, metrics, log,
    fetch: async () => ({ ok: true, body: workload.body(step, k), contentType: "text/plain; version=0.0.4" }),
    selectFormat: () => Format.Text,
  });
  return { scraper, setStep: (s: number) => (step = s) };
});
const signal = new AbortController().signal;
const started = performance.now();
for (let round = 0; round < ROUNDS; round++) {
  const t0 = performance.now();
  await Promise.all(scrapers.map(async (s) => {
    s.setStep(1000 + round);
    const err = await s.scraper.scrape(now + round * INTERVAL, null, signal);
    if (err !== null) throw new Error(err);
  }));
  console.log(`round ${round + 1}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
}
const seconds = (performance.now() - started) / 1000;
Bun.gc(true);
const series = db.head.seriesCount;
const r = rss() - rss0;
const heap = heapStats();
const wasm = core.exports.memory.buffer.byteLength - wasm0;
const per = (b: number) => `${(b / series).toFixed(0)} B/series`;
console.log(`${TARGETS} targets × ${workload.seriesPerTarget} series = ${series.toLocaleString("en-US")} series, ${ROUNDS} rounds in ${seconds.toFixed(1)} s`);
console.log(`RSS growth          ${mib(r).padStart(9)}  ${per(r)}`);
console.log(`JS heap growth      ${mib(heap.heapSize - heap0).padStart(9)}  ${per(heap.heapSize - heap0)}  (${heap.objectCount.toLocaleString("en-US")} objects)`);
console.log(`WASM memory growth  ${mib(wasm).padStart(9)}  ${per(wasm)} reserved, ${per(allocated() - alloc0)} allocated`);
const caches = scrapers.reduce((n, s) => n + s.scraper.cacheBytes, 0);
console.log(`  scrape caches             ${per(caches)} (slots and front-coded keys)`);
console.log(`  open chunks (${db.head.chunkCount.toLocaleString("en-US")}), arenas  ${per(allocated() - alloc0 - caches)} (the rest of the allocated WASM memory)`);
const breakdown = db.head.memoryBreakdown?.();
if (breakdown) for (const [what, bytes] of Object.entries(breakdown)) console.log(`  head ${what.padEnd(22)} ${per(bytes)}`);
const top = Object.entries(heap.objectTypeCounts).sort((a, b) => b[1] - a[1]).slice(0, 8);
console.log(`most common JS objects: ${top.map(([k, v]) => `${k} ${v.toLocaleString("en-US")}`).join(", ")}`);
await db.close();
rmSync(dir, { recursive: true, force: true });
