/**
 * One `gleaner bench` session: starts the generator (its own process), then for each run
 * and each scraper in turn (gleaner first, then the peers, alternating when there are several
 * runs) starts the scraper on a generated config, lets it warm up, measures a window, and
 * stops it. Everything is read from outside: /proc for CPU and memory of the scraper's whole
 * process tree, the scraper's own counters for samples and series, its /api/v1/targets for
 * scrape durations and intervals.
 *
 * A run that cannot be trusted — the generator saturated, the scraper failed to start or to
 * scrape, other processes busy on the host — carries the reasons and no verdict is drawn
 * from it.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/free-port.ts";
import { diskUsage, hostCpu, procStat, treeStat } from "../support/proc.ts";
import { fetchTargets, IDENTITY, SCRAPERS, selfCommand, type Counters, type ScraperName, type TargetState } from "./scrapers.ts";
import type { WorkloadFormat, WorkloadShape } from "./workload.ts";

export interface BenchOptions {
  targets: number;
  series: number;
  intervalText: string;
  intervalMs: number;
  durationMs: number;
  warmupMs: number;
  format: WorkloadFormat;
  shape: WorkloadShape;
  churn: number;
  replay?: string;
  /** Scrapers after gleaner. */
  vs: ScraperName[];
  runs: number;
  profileDir?: string;
  /** Keep gleaner out (measure peers only). */
  skipGleaner?: boolean;
  /** Called about once a second with a one-line status. */
  progress?: (line: string) => void;
}

export interface Measurement {
  windowS: number;
  samplesPerS: number;
  expectedSamplesPerS: number;
  cpuUsPerSample: number;
  cpuCores: number;
  rssBytes: number;
  peakRssBytes: number;
  rssPerSeries: number;
  peakRssPerSeries: number;
  /** The scraper's own series count at the end. */
  series: number;
  scrapes: number;
  scrapeP50Ms: number;
  scrapeP99Ms: number;
  lateIntervals: number;
  missedIntervals: number;
  diskBytes: number;
  diskBytesPerSample: number;
  generatorCpuPct: number;
  otherHostCpuPct: number;
}

export interface RunResult {
  scraper: ScraperName;
  version: string;
  run: number;
  trusted: boolean;
  /** Why the run cannot be trusted (empty when it can). */
  reasons: string[];
  measured: Measurement | null;
}

export interface BenchReport {
  date: string;
  host: { cpus: number; model: string; memBytes: number; kernel: string };
  workload: {
    targets: number;
    seriesPerTarget: number;
    activeSeries: number;
    interval: string;
    durationS: number;
    warmupS: number;
    format: WorkloadFormat;
    shape: WorkloadShape;
    churn: number;
    replay: string | null;
  };
  runs: RunResult[];
}

/** Thresholds past which a run is not trusted. */
export const TRUST = {
  /** Generator CPU, in % of one core. */
  generatorCpuPct: 80,
  /** CPU used by other processes on the host during the window, in % of one core. */
  otherHostCpuPct: 30,
};

interface Generator {
  pid: number;
  port: number;
  seriesPerTarget: number;
  stop(): void;
}

async function startGenerator(o: BenchOptions): Promise<Generator> {
  const args = ["bench", "target-server", "--series", String(o.series), "--interval", o.intervalText, "--format", o.format, "--churn", String(o.churn), "--workload", o.shape];
  if (o.replay !== undefined) args.push("--replay", o.replay);
  const proc = Bun.spawn([...selfCommand(), ...args], { stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  const first = await Promise.race([reader.read(), proc.exited.then(() => null)]);
  const text = first?.value ? new TextDecoder().decode(first.value) : "";
  const m = /listening (\d+) series (\d+)/.exec(text);
  if (m === null) {
    const err = await new Response(proc.stderr).text().catch(() => "");
    proc.kill();
    throw new Error(`Cannot start the bench target server: ${err.trim().split("\n").at(-1) ?? "it exited"}`);
  }
  reader.releaseLock();
  return { pid: proc.pid, port: Number(m[1]), seriesPerTarget: Number(m[2]), stop: () => proc.kill() };
}

/** `count` loopback addresses on one port: 127.0.x.y, so each target has its own instance. */
export function targetAddresses(count: number, port: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}:${port}`);
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const sleep = (ms: number) => Bun.sleep(Math.max(0, ms));

async function readCounters(base: string, name: ScraperName): Promise<Counters> {
  const res = await fetch(`${base}/metrics`, { headers: IDENTITY });
  if (!res.ok) throw new Error(`GET ${base}/metrics: HTTP ${res.status}`);
  return SCRAPERS[name].counters(await res.text());
}

async function waitReady(base: string, name: ScraperName, exited: Promise<number>, timeoutMs: number): Promise<string | null> {
  const path = name === "victoriametrics" ? "/health" : "/-/ready";
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (done) return "it exited during start-up";
    try {
      if ((await fetch(base + path)).ok) return null;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  return `not ready after ${timeoutMs / 1000} s`;
}

function tail(file: string): string {
  try {
    const lines = readFileSync(file, "utf8").trim().split("\n");
    return lines.slice(-3).join(" | ").slice(0, 400);
  } catch {
    return "";
  }
}

/** Runs one scraper once against the generator. */
async function runOnce(o: BenchOptions, gen: Generator, name: ScraperName, run: number, label: string): Promise<RunResult> {
  const spec = SCRAPERS[name];
  const result: RunResult = { scraper: name, version: spec.version(), run, trusted: false, reasons: [], measured: null };
  if (spec.binary !== null && !(await Bun.file(spec.binary).exists())) {
    result.reasons.push(`${spec.binary} is not installed (apt-get install -y ${spec.pkg})`);
    return result;
  }
  const dir = mkdtempSync(join(tmpdir(), `gleaner-bench-${name}-`));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const targets = targetAddresses(o.targets, gen.port);
  const job = { targets, intervalText: o.intervalText, dir, port, ...(o.profileDir !== undefined && name === "gleaner" ? { profileDir: o.profileDir } : {}) };
  const { argv, env } = spec.command(job);
  const stderrFile = join(dir, "stderr.log");
  const proc = Bun.spawn(argv, { cwd: dir, stdout: "ignore", stderr: Bun.file(stderrFile), env: { ...process.env, ...env } });
  try {
    const notReady = await waitReady(base, name, proc.exited, 60_000);
    if (notReady !== null) {
      result.reasons.push(`${name} failed to start: ${notReady}${tail(stderrFile) ? ` (${tail(stderrFile)})` : ""}`);
      return result;
    }
    // The warm-up starts once every target has been scraped (Prometheus delivers its first
    // targets only after its discovery manager's 5 s batching delay).
    const firstBy = Date.now() + 60_000 + 3 * o.intervalMs;
    for (;;) {
      const st = await fetchTargets(base).catch(() => [] as TargetState[]);
      const scraped = st.filter((t) => t.lastScrape > 0).length;
      if (scraped >= o.targets) break;
      if (Date.now() > firstBy) {
        result.reasons.push(`${name} scraped only ${scraped} of ${o.targets} targets in ${Math.round((60_000 + 3 * o.intervalMs) / 1000)} s`);
        return result;
      }
      o.progress?.(`${label} waiting for the first scrape of every target (${scraped}/${o.targets})`);
      await sleep(250);
    }
    const warmEnd = Date.now() + o.warmupMs;
    while (Date.now() < warmEnd) {
      o.progress?.(`${label} warming up ${Math.ceil((warmEnd - Date.now()) / 1000)} s`);
      await sleep(Math.min(1000, warmEnd - Date.now()));
    }
    result.measured = await measure(o, gen, name, base, proc.pid, label, spec.dataDir(job));
    const m = result.measured;
    const st = await fetchTargets(base).catch(() => [] as TargetState[]);
    const down = st.filter((t) => t.health !== "up");
    if (m.generatorCpuPct > TRUST.generatorCpuPct) result.reasons.push(`generator saturated: the target server used ${m.generatorCpuPct.toFixed(0)}% of a core`);
    if (m.otherHostCpuPct > TRUST.otherHostCpuPct) result.reasons.push(`host busy: other processes used ${m.otherHostCpuPct.toFixed(0)}% of a core during the window`);
    if (down.length > 0) result.reasons.push(`${down.length} of ${st.length} targets not up (${down[0]!.lastError || down[0]!.health})`);
    if (!(m.samplesPerS > 0)) result.reasons.push(`no samples ingested according to ${name}'s own counter`);
    if (!Number.isFinite(m.series)) result.reasons.push(`could not read ${name}'s series count`);
    if (m.scrapes === 0) result.reasons.push("no scrape observed in the window");
    result.trusted = result.reasons.length === 0;
    return result;
  } catch (err) {
    result.reasons.push(`${name} run failed: ${(err as Error).message}`);
    return result;
  } finally {
    proc.kill("SIGTERM");
    const killed = await Promise.race([proc.exited.then(() => true), sleep(30_000).then(() => false)]);
    if (!killed) proc.kill("SIGKILL");
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(o: BenchOptions, gen: Generator, name: ScraperName, base: string, pid: number, label: string, dataDir: string): Promise<Measurement> {
  const intervalMs = o.intervalMs;
  const pollMs = Math.max(250, Math.min(5_000, intervalMs / 3));
  const c0 = await readCounters(base, name);
  // Prometheus 2.42 creates its sample counter on the first append: absent means none yet.
  if (Number.isNaN(c0.samples)) c0.samples = 0;
  const tree0 = treeStat(pid);
  const gen0 = treeStat(gen.pid).cpu;
  const self0 = procStat("self").cpu;
  const host0 = hostCpu();
  const t0 = performance.now();
  const windowStart = Date.now();
  const seen = new Map<string, number>();
  const perTarget = new Map<string, number>();
  for (const t of await fetchTargets(base)) seen.set(t.url, t.lastScrape);
  const durations: number[] = [];
  let late = 0;
  let peakRss = tree0.rss;
  const end = windowStart + o.durationMs;
  while (Date.now() < end) {
    await sleep(Math.min(pollMs, end - Date.now()));
    const tree = treeStat(pid);
    peakRss = Math.max(peakRss, tree.rss);
    for (const t of await fetchTargets(base)) {
      const prev = seen.get(t.url) ?? 0;
      if (t.lastScrape === prev || t.lastScrape === 0) continue;
      if (prev > 0 && t.lastScrape - prev > intervalMs * 1.5) late++;
      seen.set(t.url, t.lastScrape);
      if (t.lastScrape >= windowStart) {
        perTarget.set(t.url, (perTarget.get(t.url) ?? 0) + 1);
        durations.push(t.lastScrapeDurationS * 1000);
      }
    }
    const c = await readCounters(base, name).catch(() => null);
    const s = (performance.now() - t0) / 1000;
    const rate = c ? (c.samples - c0.samples) / s : NaN;
    const rateText = Number.isFinite(rate) ? `${(rate / 1000).toFixed(1)}k` : "–";
    o.progress?.(`${label} measuring ${Math.floor(s)}/${o.durationMs / 1000} s · ${rateText} samples/s · CPU ${(((tree.cpu - tree0.cpu) / s) * 100).toFixed(0)}% · RSS ${(tree.rss / 2 ** 20).toFixed(0)} MiB`);
  }
  const c1 = await readCounters(base, name);
  const tree1 = treeStat(pid);
  const gen1 = treeStat(gen.pid).cpu;
  const self1 = procStat("self").cpu;
  const host1 = hostCpu();
  const windowS = (performance.now() - t0) / 1000;
  const diskBytes = diskUsage(dataDir);
  const samples = c1.samples - c0.samples;
  const cpu = tree1.cpu - tree0.cpu;
  const genCpu = gen1 - gen0;
  const other = host1.busy - host0.busy - cpu - genCpu - (self1 - self0);
  const active = o.targets * gen.seriesPerTarget;
  const perIntervals = Math.floor((o.durationMs) / intervalMs);
  let missed = 0;
  for (const url of seen.keys()) missed += Math.max(0, perIntervals - (perTarget.get(url) ?? 0));
  missed += Math.max(0, o.targets - seen.size) * perIntervals;
  durations.sort((a, b) => a - b);
  peakRss = Math.max(peakRss, tree1.rss, tree1.peakRss);
  return {
    windowS,
    samplesPerS: samples / windowS,
    expectedSamplesPerS: (o.targets * (gen.seriesPerTarget + SCRAPERS[name].reportSeries) * 1000) / intervalMs,
    cpuUsPerSample: (cpu * 1e6) / samples,
    cpuCores: cpu / windowS,
    rssBytes: tree1.rss,
    peakRssBytes: peakRss,
    rssPerSeries: tree1.rss / active,
    peakRssPerSeries: peakRss / active,
    series: c1.series,
    scrapes: durations.length,
    scrapeP50Ms: quantile(durations, 0.5),
    scrapeP99Ms: quantile(durations, 0.99),
    lateIntervals: late,
    missedIntervals: missed,
    diskBytes,
    diskBytesPerSample: diskBytes / c1.samples,
    generatorCpuPct: (genCpu / windowS) * 100,
    otherHostCpuPct: Math.max(0, (other / windowS) * 100),
  };
}

function hostInfo(): BenchReport["host"] {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const mem = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
  return {
    cpus: hostCpu().cpus,
    model: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    memBytes: mem ? Number(mem[1]) * 1024 : 0,
    kernel: readFileSync("/proc/sys/kernel/osrelease", "utf8").trim(),
  };
}

/** Runs the whole session and returns every run's result. */
export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const gen = await startGenerator(o);
  const order: ScraperName[] = [...(o.skipGleaner ? [] : (["gleaner"] as const)), ...o.vs];
  const report: BenchReport = {
    date: new Date().toISOString(),
    host: hostInfo(),
    workload: {
      targets: o.targets,
      seriesPerTarget: gen.seriesPerTarget,
      activeSeries: o.targets * gen.seriesPerTarget,
      interval: o.intervalText,
      durationS: o.durationMs / 1000,
      warmupS: o.warmupMs / 1000,
      format: o.format,
      shape: o.shape,
      churn: o.churn,
      replay: o.replay ?? null,
    },
    runs: [],
  };
  try {
    for (let run = 1; run <= o.runs; run++) {
      // Alternate the order between runs so neither side always goes first.
      const names = run % 2 === 1 ? order : [...order].reverse();
      for (const name of names) {
        const label = `[${name} ${run}/${o.runs}]`;
        report.runs.push(await runOnce(o, gen, name, run, label));
      }
    }
  } finally {
    gen.stop();
  }
  return report;
}
