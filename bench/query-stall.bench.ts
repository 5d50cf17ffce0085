/**
 * Event-loop stalls during big reads: queries and API calls over ~1M series in a Tsdb, with a
 * 5 ms setInterval probe running meanwhile. Reports each call's duration and the longest gap
 * the probe saw (how long the event loop was held at a stretch: /-/healthy, /metrics and the
 * scrape loops wait that long). DESIGN: never more than ~100 ms.
 *
 *   node_modules/.bin/bun bench/query-stall.bench.ts [series = 1000000] [only calls whose label contains this]
 *
 * Data: `x{job, instance}` counters, 181 samples at 10 s (30 min): the first 120 of each
 * series are cut and flushed to the block store, the rest sit in the head's open chunks.
 * Requests go through the Hono routes (JSON encoding and, where asked, gzip included), one at
 * a time; bytes are the body as sent.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { createLogger } from "../core/log/logger.ts";
import { Registry } from "../core/metrics/registry.ts";
import { Labels } from "../core/model/labels.ts";
import { QueryEngine } from "../core/query/engine.ts";
import { registerFederateRoute } from "../core/web/federate.ts";
import { gzipResponses } from "../core/web/http-compat.ts";
import { registerQueryRoutes } from "../core/web/query.ts";
import { registerSeriesRoutes } from "../core/web/series.ts";
import { Tsdb } from "../storage/tsdb/index.ts";

const seriesCount = Number(process.argv[2] ?? 1_000_000);
const step = 10_000;
const samples = 181;
const base = 1_763_800_000_000;
const end = base + (samples - 1) * step;

const dir = await mkdtemp(join(tmpdir(), "gleaner-stall-bench-"));
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

/** Runs `fn` with a 5 ms interval probe; the longest gap between two probe ticks (or the call's start and the first tick). */
async function probe(run: () => Promise<unknown>): Promise<{ ms: number; stallMs: number }> {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    if (t - last > worst) worst = t - last;
    last = t;
  }, 5);
  const t0 = performance.now();
  last = t0;
  await run();
  const t1 = performance.now();
  if (t1 - last > worst) worst = t1 - last;
  clearInterval(timer);
  return { ms: t1 - t0, stallMs: worst };
}

try {
  const t0 = performance.now();
  const refs = new Array<number>(seriesCount).fill(0);
  const labels = (i: number) => Labels.from({ __name__: "x", job: `job-${i % 10}`, instance: `host-${i}:9100` });
  for (let k = 0; k < samples; k++) {
    const app = db.appender();
    const t = base + k * step;
    for (let i = 0; i < seriesCount; i++) {
      const ref = app.append(refs[i]!, refs[i] === 0 ? labels(i) : null, t, k * (1 + (i % 7)) + i);
      if (ref > 0) refs[i] = ref;
    }
    await app.commit();
  }
  await db.flush();
  console.log(`loaded ${seriesCount} series × ${samples} samples in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const engine = new QueryEngine(db, { timeoutMs: 600_000 });
  const app = new Hono();
  app.use("/api/*", gzipResponses);
  app.use("/federate", gzipResponses);
  registerQueryRoutes(app, { engine: () => engine, timeoutMs: 600_000 });
  registerSeriesRoutes(app, () => db);
  registerFederateRoute(app, { querier: () => db, lookbackDeltaMs: 300_000, externalLabels: () => ({}), now: () => end });

  const endS = end / 1000;
  const calls: Array<[string, string, string?]> = [
    ["instant sum(rate(x[5m]))", `/api/v1/query?query=${encodeURIComponent("sum(rate(x[5m]))")}&time=${endS}`],
    ["instant count by (job) (x)", `/api/v1/query?query=${encodeURIComponent("count by (job) (x)")}&time=${endS}`],
    ["range sum by (job) (rate(x[5m])), 5m at 1m", `/api/v1/query_range?query=${encodeURIComponent("sum by (job) (rate(x[5m]))")}&start=${endS - 300}&end=${endS}&step=60`],
    ["instant x (every series in the answer)", `/api/v1/query?query=x&time=${endS}`],
    ["/api/v1/series?match[]=x", `/api/v1/series?match[]=x&start=${endS - 600}`],
    ["/api/v1/labels", `/api/v1/labels`],
    ["/api/v1/label/instance/values", `/api/v1/label/instance/values`],
    ["/federate?match[]=x", `/federate?match[]=x`],
    ["/api/v1/series?match[]=x, gzipped", `/api/v1/series?match[]=x&start=${endS - 600}`, "gzip"],
    ["instant x, gzipped", `/api/v1/query?query=x&time=${endS}`, "gzip"],
  ];
  const only = process.argv[3] ?? "";
  for (const [label, path, encoding] of calls) {
    if (!label.includes(only)) continue;
    console.error(`--- start: ${label}`);
    let status = 0;
    let bytes = 0;
    const r = await probe(async () => {
      const res = await app.request(path, encoding !== undefined ? { headers: { "Accept-Encoding": encoding } } : {});
      status = res.status;
      bytes = (await res.arrayBuffer()).byteLength;
    });
    console.error(`--- done: ${label}`);
    console.log(`${label}: ${(r.ms / 1000).toFixed(2)} s, longest event-loop stall ${r.stallMs.toFixed(0)} ms (HTTP ${status}, ${(bytes / 1e6).toFixed(1)} MB)`);
  }
} finally {
  await db.close();
  await rm(dir, { recursive: true, force: true });
}
