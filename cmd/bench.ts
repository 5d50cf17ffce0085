/**
 * `gleaner bench`: the high-cardinality scrape benchmark, gleaner side by side with the
 * scrapers users would pick instead, on the same generated workload in the same session.
 */
import { parseDuration } from "../core/config/duration.ts";
import { formatReport } from "../bench/harness/report.ts";
import { runBench, type BenchOptions } from "../bench/harness/run.ts";
import type { ScraperName } from "../bench/harness/scrapers.ts";
import { targetServerCommand } from "../bench/harness/target-server.ts";
import { WORKLOAD_SHAPES, type WorkloadFormat, type WorkloadShape } from "../bench/harness/workload.ts";
import { flag, formatHelp, parseFlags, UsageError, type FlagSpec } from "./flags.ts";

export const BENCH_FLAGS: FlagSpec[] = [
  { name: "targets", placeholder: "N", default: "50", help: "Number of targets (each its own loopback address)." },
  { name: "series", placeholder: "N", default: "1000", help: "Series per target (rounded to whole groups of 19)." },
  { name: "interval", placeholder: "DURATION", default: "10s", help: "Scrape interval (also the scrape timeout)." },
  { name: "duration", placeholder: "DURATION", default: "60s", help: "Measured window of each run." },
  { name: "warmup", placeholder: "DURATION", help: "Time before the window (default: the larger of 2 intervals, 20s and 1s per 20k active series)." },
  { name: "workload", placeholder: "SHAPE", default: "mixed", choices: [...WORKLOAD_SHAPES], help: "mixed: counters, gauges, histograms, summaries, the same on every target; k8s-http: HTTP services on Kubernetes, pods differing per target (35% counters, 45% 12-bucket histograms, 20% gauges)." },
  { name: "format", placeholder: "FORMAT", default: "text", choices: ["text", "openmetrics"], help: "Exposition format the targets serve." },
  { name: "churn", placeholder: "FRACTION", default: "0", help: "Fraction of series replaced with new label values each minute (e.g. 0.05)." },
  { name: "replay", placeholder: "FILE", help: "Serve this exposition capture (e.g. a real exporter's) from every target instead." },
  { name: "vs", placeholder: "SCRAPER", repeatable: true, choices: ["prometheus", "victoriametrics"], help: "Also run this scraper on the same workload (repeatable)." },
  { name: "runs", placeholder: "N", default: "1", help: "Runs per scraper, alternating the order; figures are medians." },
  { name: "json", boolean: true, help: "Print the results as JSON instead of a table." },
  { name: "profile", placeholder: "DIR", help: "Write a CPU profile of gleaner's run into DIR (bun --cpu-prof)." },
];

const BENCH_HELP = formatHelp(
  "gleaner bench [<flags>]",
  `Benchmark a high-cardinality scrape: a generator process serves N targets × S series (counters,
gauges, classic histograms, summaries; or a replayed capture), gleaner scrapes it into its TSDB
for a warm-up and a measured window, and --vs runs Debian's Prometheus / VictoriaMetrics on the
same workload. Reports samples/s, CPU µs per sample, RSS per series (final and peak), scrape
duration p50/p99, late or missed intervals, disk bytes per sample and the generator's own CPU.
A run that cannot be trusted (generator saturated, scraper failed, host busy) says why instead.

Example: gleaner bench --targets 50 --series 20000 --interval 10s --duration 120s --vs prometheus`,
  BENCH_FLAGS,
);

function positive(name: string, text: string, parse: (t: string) => number): number {
  let n: number;
  try {
    n = parse(text);
  } catch (err) {
    throw new UsageError(`invalid --${name} "${text}": ${(err as Error).message}`);
  }
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`invalid --${name} "${text}": must be a positive number`);
  return n;
}

export function benchOptions(argv: readonly string[]): (BenchOptions & { json: boolean }) | null {
  const parsed = parseFlags(argv, BENCH_FLAGS);
  if (parsed.help) return null;
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  const get = (name: string) => flag(parsed, BENCH_FLAGS, name);
  const integer = (t: string) => (/^\d+$/.test(t) ? Number(t) : NaN);
  const targets = positive("targets", get("targets"), integer);
  if (targets > 250 * 254) throw new UsageError(`invalid --targets ${targets}: at most ${250 * 254} loopback addresses`);
  const series = positive("series", get("series"), integer);
  const intervalText = get("interval");
  const intervalMs = positive("interval", intervalText, parseDuration);
  const durationMs = positive("duration", get("duration"), parseDuration);
  const warmupText = parsed.values.get("warmup")?.at(-1);
  const warmupMs = warmupText !== undefined ? positive("warmup", warmupText, parseDuration) : Math.max(2 * intervalMs, 20_000, ((targets * series) / 20_000) * 1000);
  const churn = Number(get("churn"));
  if (!(churn >= 0 && churn <= 1)) throw new UsageError(`invalid --churn "${get("churn")}": expected a fraction between 0 and 1`);
  const replay = parsed.values.get("replay")?.at(-1);
  const shape = get("workload") as WorkloadShape;
  if (shape === "k8s-http" && (get("format") !== "text" || churn !== 0 || replay !== undefined)) throw new UsageError("--workload k8s-http serves the text format without churn: drop --format, --churn and --replay");
  const profileDir = parsed.values.get("profile")?.at(-1);
  return {
    targets,
    series,
    intervalText,
    intervalMs,
    durationMs,
    warmupMs,
    format: get("format") as WorkloadFormat,
    shape,
    churn,
    ...(replay !== undefined ? { replay } : {}),
    ...(profileDir !== undefined ? { profileDir } : {}),
    vs: [...new Set(parsed.values.get("vs") ?? [])] as ScraperName[],
    runs: positive("runs", get("runs"), integer),
    json: get("json") === "true",
  };
}

export async function benchCommand(argv: readonly string[]): Promise<number> {
  if (argv[0] === "target-server") {
    let code: number;
    try {
      code = targetServerCommand(argv.slice(1));
    } catch (err) {
      if (err instanceof UsageError) throw err;
      process.stderr.write(`${(err as Error).message}\n`);
      return 1;
    }
    // The server keeps the process alive; a negative code means "serving".
    return code >= 0 ? code : await new Promise<number>(() => {});
  }
  const opts = benchOptions(argv);
  if (opts === null) {
    process.stdout.write(BENCH_HELP);
    return 0;
  }
  const tty = process.stderr.isTTY === true;
  let lastLine = 0;
  opts.progress = (line) => {
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else if (Date.now() - lastLine >= 10_000) {
      lastLine = Date.now();
      process.stderr.write(`${line}\n`);
    }
  };
  let report;
  try {
    report = await runBench(opts);
  } catch (err) {
    process.stderr.write(`${tty ? "\r\x1b[2K" : ""}gleaner bench: ${(err as Error).message}\n`);
    return 1;
  }
  if (tty) process.stderr.write("\r\x1b[2K");
  process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + "\n" : formatReport(report));
  return report.runs.every((r) => r.trusted) ? 0 : 1;
}
