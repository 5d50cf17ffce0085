/**
 * Many targets at once: N targets × S series at a fixed interval, scraped by gleaner's whole
 * scrape path (service, pools, loops, HTTP client, WASM parser and cache) into a storage
 * that only counts, so the scrape layer is measured on its own. Reports CPU per sample,
 * missed intervals and the spread of scrape intervals. The target server runs in its own
 * process; its CPU is reported separately. `gleaner bench` runs the same workload through
 * the whole program (TSDB included) and side by side with Prometheus.
 *
 *   bun bench/many-targets.bench.ts [targets=1000] [series=1000] [interval=10s] [seconds=60] [storage=counting|tsdb]
 *
 * With `tsdb` the samples go to gleaner's TSDB in a temporary directory (WAL with fsync per
 * commit, head chunks, block store), and its disk use is reported too.
 */
import { parseConfig } from "../core/config/load.ts";
import { parseDuration } from "../core/config/duration.ts";
import { createLogger } from "../core/log/logger.ts";
import { Registry } from "../core/metrics/registry.ts";
import { ScrapeService } from "../core/scrape/service.ts";
import { CountingStorage } from "./support/counting-storage.ts";
import { procStat } from "./support/proc.ts";
import { Tsdb } from "../storage/tsdb/index.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [targets = 1000, series = 1000] = process.argv.slice(2, 4).map(Number);
const intervalText = process.argv[4] ?? "10s";
const seconds = Number(process.argv[5] ?? 60);
const interval = parseDuration(intervalText);


// The generator of `gleaner bench` (bench/harness/target-server.ts), in its own process.
const server = Bun.spawn([process.execPath, new URL("./harness/target-server.ts", import.meta.url).pathname, "--series", String(series), "--interval", intervalText], { stdout: "pipe", stderr: "inherit" });
const reader = server.stdout.getReader();
const first = new TextDecoder().decode((await reader.read()).value);
const port = Number(/listening (\d+)/.exec(first)?.[1]);

const addresses = Array.from({ length: targets }, (_, i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}:${port}`);
const config = parseConfig(
  `scrape_configs:\n  - job_name: bench\n    scrape_interval: ${intervalText}\n    scrape_timeout: ${intervalText}\n    static_configs:\n      - targets: [${addresses.map((a) => `'${a}'`).join(", ")}]\n`,
  "bench.yml",
);
const storageKind = process.argv[6] ?? "counting";
const dataDir = mkdtempSync(join(tmpdir(), "gleaner-bench-tsdb-"));
const counting = new CountingStorage();
const registry = new Registry();
const tsdb = storageKind === "tsdb" ? await Tsdb.open({ dir: dataDir, retentionMs: 0, retentionBytes: 0, registry, log: createLogger({ level: "warn", format: "logfmt" }) }) : null;
const storage = tsdb ?? counting;
const appendedTotal = () => (tsdb ? tsdb.head.counters.samplesAppended : counting.samples);
const service = await ScrapeService.create({ storage, registry, log: createLogger({ level: "warn", format: "logfmt" }) });
await service.applyConfig(config);

const status = () => service.manager.pools().get("bench")!.activeTargets().map((t) => t.status);
const warmup = Number(process.env.WARMUP_S ?? 0) * 1000 || interval + 5_000;
console.log(`${targets} targets × ${series} series every ${intervalText}; warm-up ${warmup / 1000}s, then ${seconds}s measured`);
await Bun.sleep(warmup);

const scrapes0 = new Map(status().map((s, i) => [i, s.lastScrape]));
const cpu0 = procStat("self").cpu;
const srv0 = procStat(server.pid).cpu;
const samples0 = appendedTotal();
const t0 = performance.now();
let counted = 0;
let late = 0;
const seen = status().map((s) => s.lastScrape);
const deadline = Date.now() + seconds * 1000;
const durations: number[] = [];
while (Date.now() < deadline) {
  await Bun.sleep(200);
  status().forEach((s, i) => {
    if (s.lastScrape !== seen[i]) {
      if (seen[i]! > 0 && s.lastScrape - seen[i]! > interval * 1.5) late++;
      seen[i] = s.lastScrape;
      counted++;
      durations.push(s.lastScrapeDurationMs);
    }
  });
}
const wall = (performance.now() - t0) / 1000;
const cpu = procStat("self").cpu - cpu0;
const srv = procStat(server.pid).cpu - srv0;
const samples = appendedTotal() - samples0;
const expected = (targets * seconds * 1000) / interval;
const errors = status().filter((s) => s.health !== "up");
durations.sort((a, b) => a - b);
const q = (p: number) => durations[Math.min(durations.length - 1, Math.floor(p * durations.length))] ?? NaN;

console.log(`scrapes: ${counted} (expected ~${expected.toFixed(0)}), late (> 1.5 intervals apart): ${late}, targets not up: ${errors.length}${errors[0] ? ` (${errors[0].lastError})` : ""}`);
console.log(`samples appended: ${samples} = ${(samples / wall / 1e3).toFixed(0)}k/s`);
console.log(`gleaner CPU: ${cpu.toFixed(2)} s over ${wall.toFixed(1)} s (${((cpu / wall) * 100).toFixed(0)}% of one core) = ${((cpu * 1e6) / samples).toFixed(2)} µs per sample`);
console.log(`target server CPU: ${srv.toFixed(2)} s (${((srv / wall) * 100).toFixed(0)}% of one core)`);
console.log(`scrape duration p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms`);
const intervals = registry.expose().split("\n").filter((l) => l.startsWith("prometheus_target_interval_length_seconds{"));
console.log(intervals.join("\n"));
const rss = process.memoryUsage().rss;
console.log(`RSS: ${(rss / 2 ** 20).toFixed(0)} MiB = ${(rss / (targets * series)).toFixed(0)} B per active series`);
await service.stop();
if (tsdb !== null) {
  await tsdb.flush();
  const walBytes = tsdb.wal.stats().bytesWritten;
  const total = tsdb.head.counters.samplesAppended;
  console.log(`WAL: ${(walBytes / total).toFixed(2)} bytes per sample written; block store ${(tsdb.blocks.sizeBytes() / 2 ** 20).toFixed(1)} MiB`);
  const q0 = performance.now();
  const sel = tsdb.select([{ type: "=~", name: "instance", value: "127\\.0\\.1\\.(1|2|3|4)?[0-9]:.*" }, { type: "=", name: "__name__", value: "http_requests_total" }], Date.now() - 2 * 3_600_000, Date.now());
  console.log(`query: ${sel.length} series over 2h in ${(performance.now() - q0).toFixed(0)} ms`);
  await tsdb.close();
  const r0 = performance.now();
  const reopened = await Tsdb.open({ dir: dataDir, retentionMs: 0, retentionBytes: 0, registry: new Registry(), log: createLogger({ level: "warn", format: "logfmt" }) });
  console.log(`start-up (block store series + WAL replay of ${reopened.head.seriesCount} series): ${((performance.now() - r0) / 1000).toFixed(2)} s`);
  await reopened.close();
}
rmSync(dataDir, { recursive: true, force: true });
scrapes0.clear();
server.kill();
process.exit(0);
