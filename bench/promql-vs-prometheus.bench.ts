/**
 * PromQL speed against Debian's Prometheus on the same data, over HTTP: `sum by (job)
 * (rate(x[5m]))` over 10,000 counter series for 1 hour at 15 s steps (241 steps).
 *
 * The data is one generated OpenMetrics file: `promtool tsdb create-blocks-from openmetrics`
 * backfills it into Prometheus, gleaner's test loader appends it to a running gleaner server's
 * TSDB. Both answer the same POST /api/v1/query_range; we report the median of several runs
 * (after one warm-up each) and check that both return the same series.
 *
 *   bun bench/promql-vs-prometheus.bench.ts [series=10000] [runs=7]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../core/log/logger.ts";
import { Server } from "../core/server.ts";
import { VERSION } from "../core/version.ts";
import { builtinPlugins } from "../plugins/discovery/index.ts";
import { freePort } from "../test/support/peers.ts";
import { loadOpenMetrics } from "../test/support/openmetrics-loader.ts";

const SERIES = Number(process.argv[2] ?? 10_000);
const RUNS = Number(process.argv[3] ?? 7);
const JOBS = 10;
const STEP_S = 15;
const QUERY = "sum by (job) (rate(x[5m]))";

const dir = mkdtempSync(join(tmpdir(), "gleaner-bench-promql-"));
// One hour of query window plus the 5m rate window before it, a sample every 15 s.
const T0 = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3 * 3600;
const SAMPLES = (65 * 60) / STEP_S + 1;

function generate(): string {
  const parts: string[] = ["# HELP x A counter-like series.\n# TYPE x unknown\n"];
  for (let k = 0; k < SAMPLES; k++) {
    const t = T0 + k * STEP_S;
    let chunk = "";
    for (let i = 0; i < SERIES; i++) chunk += `x{job="job${i % JOBS}",instance="host${i}:9100"} ${k * STEP_S * (1 + (i % 7)) + (k % 5)} ${t}\n`;
    parts.push(chunk);
  }
  parts.push("# EOF\n");
  return parts.join("");
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Matrix = Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;

/** The answers must agree (1e-9 relative) before their speed means anything. */
function sameResult(a: Matrix, b: Matrix): boolean {
  const key = (m: Record<string, string>) => JSON.stringify(Object.entries(m).sort());
  const byKey = new Map(b.map((s) => [key(s.metric), s.values]));
  return a.length === b.length && a.every((s) => {
    const other = byKey.get(key(s.metric));
    return other !== undefined && other.length === s.values.length && s.values.every(([t, v], i) => t === other[i]![0] && Math.abs(Number(v) - Number(other[i]![1])) <= 1e-9 * Math.abs(Number(v)));
  });
}

async function timeQueries(base: string): Promise<{ ms: number[]; series: number; result: Matrix }> {
  const body = new URLSearchParams({ query: QUERY, start: String(T0 + 300), end: String(T0 + 3900), step: String(STEP_S) });
  const once = async () => {
    const t = performance.now();
    const res = await fetch(`${base}/api/v1/query_range`, { method: "POST", body, headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    const json = (await res.json()) as { status: string; data?: { result: Matrix }; error?: string };
    if (json.status !== "success") throw new Error(`${base}: ${json.error}`);
    return { ms: performance.now() - t, series: json.data!.result.length, result: json.data!.result };
  };
  const { result } = await once();
  const ms: number[] = [];
  let series = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = await once();
    ms.push(r.ms);
    series = r.series;
  }
  return { ms, series, result };
}

console.log(`generating ${SERIES} series × ${SAMPLES} samples …`);
const text = generate();
const file = join(dir, "data.om");
writeFileSync(file, text);

const t0 = performance.now();
const create = Bun.spawnSync(["/usr/bin/promtool", "tsdb", "create-blocks-from", "openmetrics", file, join(dir, "prom")], { stdout: "ignore", stderr: "pipe" });
if (create.exitCode !== 0) throw new Error(`promtool create-blocks failed: ${create.stderr.toString()}`);
console.log(`promtool backfill: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
writeFileSync(join(dir, "prometheus.yml"), "global:\n  scrape_interval: 1h\n");
const promPort = await freePort();
const prom = Bun.spawn(["/usr/bin/prometheus", `--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "prom")}`, "--storage.tsdb.retention.time=100y", `--web.listen-address=127.0.0.1:${promPort}`], { stdout: "ignore", stderr: "ignore" });
const promUrl = `http://127.0.0.1:${promPort}`;

writeFileSync(join(dir, "gleaner.yml"), "global:\n  scrape_interval: 1h\n");
const server = new Server({
  configFile: join(dir, "gleaner.yml"),
  storagePath: join(dir, "gleaner"),
  retentionTime: 0,
  listenAddress: "127.0.0.1:0",
  enableLifecycle: false,
  log: createLogger({ level: "error", format: "logfmt", write: () => {} }),
  plugins: builtinPlugins(),
});
await server.start();
const t1 = performance.now();
const loaded = await loadOpenMetrics(server.storage!, text);
console.log(`gleaner load: ${loaded} samples in ${((performance.now() - t1) / 1000).toFixed(1)} s`);

for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${promUrl}/-/ready`)).status === 200) break;
  } catch {
    // not listening yet
  }
  if (i > 600) throw new Error("prometheus did not become ready");
  await Bun.sleep(100);
}

const version = Bun.spawnSync(["/usr/bin/prometheus", "--version"]).stdout.toString().split("\n")[0];
const g = await timeQueries(server.url.origin);
const p = await timeQueries(promUrl);
console.log(`query: ${QUERY} over ${SERIES} series, 1 h at ${STEP_S} s steps (241 steps); median of ${RUNS} runs after one warm-up`);
console.log(`gleaner ${VERSION} (bun ${Bun.version}): ${median(g.ms).toFixed(1)} ms (runs: ${g.ms.map((x) => x.toFixed(0)).join(", ")}; ${g.series} series)`);
console.log(`${version}: ${median(p.ms).toFixed(1)} ms (runs: ${p.ms.map((x) => x.toFixed(0)).join(", ")}; ${p.series} series)`);
console.log(sameResult(g.result, p.result) ? "results: identical within 1e-9" : "WARNING: the results differ");

prom.kill("SIGTERM");
await prom.exited;
await server.stop("bench done");
rmSync(dir, { recursive: true, force: true });
process.exit(0);
