/**
 * The whole scrape step of one target, minus HTTP and storage: parse in WASM, resolve every
 * series through the scrape cache, append (to a storage that only counts), stale markers,
 * report. First scrape (every series a miss: labels decoded, relabeled, refs created)
 * against repeat scrapes (every series a cache hit), and the JS heap objects a repeat
 * scrape leaves behind per sample.
 *
 *   bun bench/scrape.bench.ts [series]      (default 200000)
 */
import { heapStats } from "bun:jsc";
import { parseConfig } from "../core/config/load.ts";
import { createLogger } from "../core/log/logger.ts";
import { Registry } from "../core/metrics/registry.ts";
import { compileRelabel } from "../core/relabel/index.ts";
import { ScrapeMetrics } from "../core/scrape/metrics.ts";
import { TargetScraper } from "../core/scrape/scraper.ts";
import { populateTarget } from "../core/scrape/target.ts";
import { CountingStorage } from "./support/counting-storage.ts";
import { createCore } from "../wasm/index.ts";
import { ExpositionParser, Format } from "../wasm/parser.ts";
import { median, timeNs } from "./timing.ts";
import { ScrapeCache } from "../wasm/cache.ts";

const N = Number(process.argv[2] ?? 200_000);


// A realistic high-cardinality body: counters, gauges and histograms over many label sets.
let text = "# TYPE http_requests_total counter\n";
const lines: string[] = [];
for (let i = 0; lines.length < N; i++) {
  const svc = `svc-${i % 97}`;
  const pod = `pod-${i}`;
  lines.push(`http_requests_total{service="${svc}",pod="${pod}",code="200",method="GET"} ${i * 3}`);
  lines.push(`process_resident_memory_bytes{service="${svc}",pod="${pod}"} ${1e8 + i}`);
  for (const le of ["0.005", "0.05", "0.5", "5", "+Inf"]) lines.push(`request_duration_seconds_bucket{service="${svc}",pod="${pod}",le="${le}"} ${i}`);
}
text += lines.slice(0, N).join("\n") + "\n";
const body = new TextEncoder().encode(text);

const cfg = parseConfig("scrape_configs:\n  - job_name: bench\n", "bench.yml").scrape_configs[0]!;
const populated = populateTarget(new Map([["__address__", "bench:9100"]]), cfg, compileRelabel(cfg.relabel_configs));
if (populated.kind !== "target") throw new Error("no target");
const core = await createCore();
const storage = new CountingStorage();
const scraper = new TargetScraper(populated.target, cfg, {
  core,
  parser: new ExpositionParser(core),
  storage,
  fetch: async () => ({ ok: true, body, contentType: "text/plain; version=0.0.4" }),
  selectFormat: () => Format.Text,
  metrics: new ScrapeMetrics(new Registry()),
  log: createLogger({ level: "error", format: "logfmt" }),
});
const signal = new AbortController().signal;

let t = 1_700_000_000_000;
const first0 = Bun.nanoseconds();
const err = await scraper.scrape(t, null, signal);
const firstNs = Bun.nanoseconds() - first0;
if (err !== null) throw new Error(err);

const repeat: number[] = [];
for (let k = 0; k < 9; k++) {
  t += 15_000;
  const s = Bun.nanoseconds();
  await scraper.scrape(t, null, signal);
  repeat.push(Bun.nanoseconds() - s);
}

Bun.gc(true);
const before = heapStats().objectCount;
await scraper.scrape((t += 15_000), null, signal);
const after = heapStats().objectCount;

// The WASM part of a repeat scrape, measured alone: copy + parse, then the batch lookup.
const parser = new ExpositionParser(core);
const cache = new ScrapeCache(core);
const primed = parser.parse(body, Format.Text);
if (!primed.ok) throw new Error(primed.reason);
const refsPtr = core.exports.alloc(N * 8);
cache.beginScrape();
for (let i = 0; i < primed.count; i++) cache.insert(primed.seriesStart[i]!, primed.seriesEnd[i]! - primed.seriesStart[i]!, i + 1);
const parseNs = timeNs(() => void parser.parse(body, Format.Text), 9);
const lookupNs = timeNs(() => {
  const r = parser.parse(body, Format.Text);
  if (!r.ok) return;
  cache.beginScrape();
  cache.lookupSeries(r.seriesStart.byteOffset, r.seriesEnd.byteOffset, r.count, refsPtr, refsPtr + N * 4);
}, 9) - parseNs;

const mb = body.length / 2 ** 20;
const fmt = (ns: number) => `${(ns / 1e6).toFixed(1)} ms, ${(N / (ns / 1e9) / 1e6).toFixed(2)} M samples/s, ${(mb / (ns / 1e9)).toFixed(0)} MB/s`;
console.log(`${N} samples, ${mb.toFixed(1)} MiB of text`);
console.log(`first scrape (all misses: labels, relabeling, refs): ${fmt(firstNs)}`);
console.log(`repeat scrape (all cache hits), median of 9:        ${fmt(median(repeat))}`);
const rep = median(repeat);
console.log(`  of which WASM: copy + parse ${(parseNs / 1e6).toFixed(1)} ms, cache batch lookup ${(lookupNs / 1e6).toFixed(1)} ms = ${(((parseNs + lookupNs) / rep) * 100).toFixed(0)}%; JS (append loop, stale markers, report) ${(((rep - parseNs - lookupNs) / rep) * 100).toFixed(0)}%`);
console.log(`JS heap objects left by one repeat scrape: ${after - before} (${((after - before) / N).toFixed(4)} per sample)`);
