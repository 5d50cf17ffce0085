/**
 * The terminal table of a `gleaner bench` session: one row per scraper (the median over its
 * trusted runs), a row of ratios against gleaner for each peer, and the reasons in place of
 * numbers for a scraper none of whose runs can be trusted.
 */
import type { BenchReport, Measurement, RunResult } from "./run.ts";
import type { ScraperName } from "./scrapers.ts";

export interface ScraperSummary {
  scraper: ScraperName;
  version: string;
  trustedRuns: number;
  runs: number;
  /** Median of each figure over the trusted runs; null when none is trusted. */
  median: Measurement | null;
  reasons: string[];
}

function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(report: BenchReport): ScraperSummary[] {
  const byName = new Map<ScraperName, RunResult[]>();
  for (const r of report.runs) byName.set(r.scraper, [...(byName.get(r.scraper) ?? []), r]);
  return [...byName].map(([scraper, runs]) => {
    const good = runs.filter((r) => r.trusted && r.measured !== null).map((r) => r.measured!);
    let med: Measurement | null = null;
    if (good.length > 0) {
      const keys = Object.keys(good[0]!) as Array<keyof Measurement>;
      med = Object.fromEntries(keys.map((k) => [k, median(good.map((m) => m[k]))])) as unknown as Measurement;
    }
    return {
      scraper,
      version: runs[0]!.version,
      trustedRuns: good.length,
      runs: runs.length,
      median: med,
      reasons: [...new Set(runs.flatMap((r) => r.reasons))],
    };
  });
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
const fixed = (n: number, d: number) => (Number.isFinite(n) ? n.toFixed(d) : "–");
const mib = (n: number) => (Number.isFinite(n) ? `${(n / 2 ** 20).toFixed(0)} MiB` : "–");

interface Column {
  title: string;
  cell: (m: Measurement) => string;
  /** The figure a ratio is taken of (lower is better for all of them). */
  ratio?: (m: Measurement) => number;
}

const COLUMNS: Column[] = [
  { title: "samples/s (of expected)", cell: (m) => `${int(m.samplesPerS)} (${fixed((m.samplesPerS / m.expectedSamplesPerS) * 100, 1)}%)` },
  { title: "CPU µs/sample", cell: (m) => fixed(m.cpuUsPerSample, 2), ratio: (m) => m.cpuUsPerSample },
  { title: "CPU % core", cell: (m) => fixed(m.cpuCores * 100, 1) },
  { title: "RSS B/series", cell: (m) => int(m.rssPerSeries), ratio: (m) => m.rssPerSeries },
  { title: "peak RSS B/series", cell: (m) => int(m.peakRssPerSeries), ratio: (m) => m.peakRssPerSeries },
  { title: "RSS", cell: (m) => mib(m.rssBytes) },
  { title: "series (own count)", cell: (m) => int(m.series) },
  { title: "scrape p50/p99 ms", cell: (m) => `${fixed(m.scrapeP50Ms, 1)}/${fixed(m.scrapeP99Ms, 1)}`, ratio: (m) => m.scrapeP99Ms },
  { title: "late/missed", cell: (m) => `${int(m.lateIntervals)}/${int(m.missedIntervals)}` },
  { title: "disk B/sample", cell: (m) => fixed(m.diskBytesPerSample, 2), ratio: (m) => m.diskBytesPerSample },
  { title: "generator CPU %", cell: (m) => fixed(m.generatorCpuPct, 1) },
];

function layout(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")).join("\n");
}

/** The whole report as text for a terminal. */
export function formatReport(report: BenchReport): string {
  const w = report.workload;
  const out: string[] = [];
  const what = w.replay !== null ? `replaying ${w.replay}` : `${w.shape ?? "mixed"} workload, ${w.format}${w.churn > 0 ? `, churn ${(w.churn * 100).toFixed(1)}%/min` : ""}`;
  out.push(
    `gleaner bench — ${w.targets} targets × ${w.seriesPerTarget} series = ${w.activeSeries.toLocaleString("en-US")} active series every ${w.interval} (${what})`,
    `warm-up ${w.warmupS} s, measured ${w.durationS} s per run · ${report.host.cpus} CPUs (${report.host.model}), ${(report.host.memBytes / 2 ** 30).toFixed(0)} GiB · ${report.date}`,
    "",
  );
  const summaries = summarize(report);
  const rows: string[][] = [["", ...COLUMNS.map((c) => c.title)]];
  for (const s of summaries) {
    const name = `${s.version} (${s.trustedRuns}/${s.runs} runs)`;
    if (s.median === null) rows.push([name, "NOT TRUSTED: see below", ...COLUMNS.slice(1).map(() => "")]);
    else rows.push([name, ...COLUMNS.map((c) => c.cell(s.median!))]);
  }
  const base = summaries.find((s) => s.scraper === "gleaner")?.median ?? null;
  for (const s of summaries) {
    if (s.scraper === "gleaner" || s.median === null || base === null) continue;
    rows.push([
      `ratio gleaner / ${s.scraper}`,
      ...COLUMNS.map((c) => (c.ratio ? `${fixed(c.ratio(base) / c.ratio(s.median!), 2)}×` : "")),
    ]);
  }
  out.push(layout(rows));
  const problems = summaries.filter((s) => s.reasons.length > 0);
  if (problems.length > 0) {
    out.push("");
    for (const s of problems) {
      const verdict = s.median === null ? "no trusted run, so no numbers" : `${s.runs - s.trustedRuns} run(s) left out`;
      out.push(`${s.scraper}: ${verdict}:`, ...s.reasons.map((r) => `  - ${r}`));
    }
  }
  out.push("", "CPU is utime+stime of the scraper's whole process tree over the window; RSS per series = RSS / active series; disk = its data directory at the end / samples since start.");
  return out.join("\n") + "\n";
}
