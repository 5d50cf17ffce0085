/**
 * The many-targets workload (bench/many-targets.bench.ts) scraped by Debian's Prometheus
 * instead, for a side-by-side figure on the same machine: CPU per sample and RSS per series
 * of the prometheus process, read from /proc, with Prometheus's own sample counter.
 *
 *   bun bench/prometheus.bench.ts [targets=1000] [series=1000] [interval=10s] [seconds=60]
 *   (WARMUP_S sets the warm-up; default interval + 5 s)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDuration } from "../core/config/duration.ts";
import { freePort } from "../test/support/peers.ts";
import { procStat } from "./support/proc.ts";

const [targets = 1000, series = 1000] = process.argv.slice(2, 4).map(Number);
const intervalText = process.argv[4] ?? "10s";
const seconds = Number(process.argv[5] ?? 60);
const interval = parseDuration(intervalText);
const warmup = Number(process.env.WARMUP_S ?? 0) * 1000 || interval + 5_000;

const server = Bun.spawn([process.execPath, new URL("./support/target-server.ts", import.meta.url).pathname, "--series", String(series)], { stdout: "pipe", stderr: "inherit" });
const first = new TextDecoder().decode((await server.stdout.getReader().read()).value);
const port = Number(/listening (\d+)/.exec(first)?.[1]);
const dir = mkdtempSync(join(tmpdir(), "gleaner-bench-prom-"));
const addresses = Array.from({ length: targets }, (_, i) => `'127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}:${port}'`);
writeFileSync(join(dir, "prometheus.yml"), `global:\n  scrape_interval: ${intervalText}\n  scrape_timeout: ${intervalText}\nscrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: [${addresses.join(", ")}]\n`);
const promPort = await freePort();
const prom = Bun.spawn(["/usr/bin/prometheus", `--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdout: "ignore", stderr: "ignore" });
const appended = async () => {
  const text = await (await fetch(`http://127.0.0.1:${promPort}/metrics`)).text();
  return Number(/^prometheus_tsdb_head_samples_appended_total(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? NaN);
};
const version = Bun.spawnSync(["/usr/bin/prometheus", "--version"]).stdout.toString().split("\n")[0];
console.log(`${version}: ${targets} targets × ${series} series every ${intervalText}; warm-up ${warmup / 1000}s, then ${seconds}s measured`);
await Bun.sleep(warmup);
const p0 = procStat(prom.pid);
const s0 = await appended();
const t0 = performance.now();
await Bun.sleep(seconds * 1000);
const p1 = procStat(prom.pid);
const s1 = await appended();
const wall = (performance.now() - t0) / 1000;
const samples = s1 - s0;
const cpu = p1.cpu - p0.cpu;
console.log(`samples appended: ${samples} = ${(samples / wall / 1e3).toFixed(0)}k/s`);
console.log(`prometheus CPU: ${cpu.toFixed(2)} s over ${wall.toFixed(1)} s (${((cpu / wall) * 100).toFixed(0)}% of one core) = ${((cpu * 1e6) / samples).toFixed(2)} µs per sample`);
console.log(`prometheus RSS: ${(p1.rss / 2 ** 20).toFixed(0)} MiB = ${(p1.rss / (targets * series)).toFixed(0)} B per active series`);
prom.kill("SIGTERM");
await prom.exited;
server.kill();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
