/**
 * PromQL benchmark: `sum by (job) (rate(x[5m]))` as a range query over 10,000 series for
 * 1 hour at 15 s steps, data in a Tsdb in a temp dir (chunks in the block store and the head).
 *
 *   node_modules/.bin/bun bench/promql.bench.ts [series = 10000]
 *
 * Prints the load time and the median of 7 query runs after a warm-up (ms), plus a few
 * other query shapes on the same data. The Prometheus side of the comparison is run by the
 * API benchmark against the same data through the HTTP API.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../core/log/logger.ts";
import { Registry } from "../core/metrics/registry.ts";
import { Labels } from "../core/model/labels.ts";
import { QueryEngine } from "../core/query/engine.ts";
import { Tsdb } from "../storage/tsdb/index.ts";
import { median } from "./timing.ts";

const seriesCount = Number(process.argv[2] ?? 10_000);
const step = 15_000;
const base = 1_763_800_000_000;
const start = base + 5 * 60_000;
const end = start + 3_600_000;
const samplesPerSeries = (end - base) / step + 1;

const dir = await mkdtemp(join(tmpdir(), "gleaner-promql-bench-"));
const db = await Tsdb.open({
  dir,
  retentionMs: 0,
  retentionBytes: 0,
  registry: new Registry(),
  log: createLogger({ level: "error", format: "logfmt", write: () => {} }),
  fsyncIntervalMs: 0,
  flushIntervalMs: 3_600_000,
  now: () => end,
});

try {
  const labels = Array.from({ length: seriesCount }, (_, i) => Labels.from({ __name__: "x", job: `job-${i % 10}`, instance: `host-${i}:9100` }));
  const refs = new Array<number>(seriesCount).fill(0);
  const t0 = performance.now();
  for (let k = 0; k < samplesPerSeries; k++) {
    const app = db.appender();
    const t = base + k * step;
    for (let i = 0; i < seriesCount; i++) {
      // Counters with different rates and an occasional reset.
      const v = (k * (1 + (i % 7)) + i) % 100_000;
      const ref = app.append(refs[i]!, refs[i] === 0 ? labels[i]! : null, t, v);
      if (ref > 0) refs[i] = ref;
    }
    await app.commit();
  }
  await db.flush();
  const loadMs = performance.now() - t0;
  console.log(`loaded ${seriesCount} series × ${samplesPerSeries} samples (${((seriesCount * samplesPerSeries) / 1e6).toFixed(2)} M) in ${(loadMs / 1000).toFixed(1)} s`);

  const engine = new QueryEngine(db);
  const time = async (label: string, run: () => Promise<unknown>, runs = 7): Promise<number> => {
    await run();
    const ms: number[] = [];
    for (let k = 0; k < runs; k++) {
      const t = performance.now();
      await run();
      ms.push(performance.now() - t);
    }
    const m = median(ms);
    console.log(`${label}: ${m < 1 ? m.toFixed(3) : m.toFixed(1)} ms (median of ${runs})`);
    return m;
  };

  const q = "sum by (job) (rate(x[5m]))";
  const res = await engine.range(q, start, end, step);
  if (res.value.type !== "matrix" || res.value.series.length !== 10 || res.value.series[0]!.t.length !== 241) throw new Error(`unexpected result shape for ${q}`);
  console.log(`peak samples ${res.stats.peakSamples}, total ${res.stats.totalQueryableSamples}`);
  await time(`range ${q}, 1h at 15s (241 steps)`, () => engine.range(q, start, end, step));
  const sel = performance.now();
  db.selectColumns([{ type: "=", name: "__name__", value: "x" }], start - 300_000, end);
  console.log(`  of which selectColumns (decode ${seriesCount} series): ~${(performance.now() - sel).toFixed(1)} ms (one run)`);
  await time(`instant ${q}`, () => engine.instant(q, end));
  // Small queries: what a dashboard panel of one series pays (no slicing happens in them).
  await time('instant x{instance="host-1:9100"} (one series)', () => engine.instant('x{instance="host-1:9100"}', end), 201);
  await time('instant rate(x{instance="host-1:9100"}[5m]) * 2 (one series)', () => engine.instant('rate(x{instance="host-1:9100"}[5m]) * 2', end), 201);
  await time("range x (raw selector, 10k series × 241 steps)", () => engine.range("x", start, end, step), 3);
  await time("range avg_over_time(x[10m]) > bool on(job, instance) x", () => engine.range("avg_over_time(x[10m]) > bool on(job, instance) x", start, end, step), 3);
} finally {
  await db.close();
  await rm(dir, { recursive: true, force: true });
}
