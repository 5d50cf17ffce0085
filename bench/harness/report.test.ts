import { describe, expect, test } from "bun:test";
import { formatReport, summarize } from "./report.ts";
import type { BenchReport, Measurement, RunResult } from "./run.ts";

function measured(cpu: number, rssPerSeries: number): Measurement {
  return {
    windowS: 120, samplesPerS: 100_000, expectedSamplesPerS: 100_025, cpuUsPerSample: cpu, cpuCores: cpu / 10,
    rssBytes: rssPerSeries * 1_000_000, peakRssBytes: rssPerSeries * 1_100_000, rssPerSeries, peakRssPerSeries: rssPerSeries * 1.1,
    series: 1_000_050, scrapes: 12_000, scrapeP50Ms: 20, scrapeP99Ms: 80, lateIntervals: 0, missedIntervals: 0,
    diskBytes: 1e8, diskBytesPerSample: 8, generatorCpuPct: 12, otherHostCpuPct: 2,
  };
}

function report(runs: RunResult[]): BenchReport {
  return {
    date: "2026-11-22T00:00:00.000Z",
    host: { cpus: 2, model: "AMD EPYC", memBytes: 24 * 2 ** 30, kernel: "6.1" },
    workload: { targets: 50, seriesPerTarget: 20_000, activeSeries: 1_000_000, interval: "10s", durationS: 120, warmupS: 50, format: "text", shape: "mixed", churn: 0, replay: null },
    runs,
  };
}

const run = (scraper: RunResult["scraper"], n: number, m: Measurement | null, reasons: string[] = []): RunResult => ({
  scraper, version: scraper === "gleaner" ? "gleaner 0.1.0" : scraper === "prometheus" ? "Prometheus 2.42.0+ds" : "VictoriaMetrics 1.79.5", run: n, trusted: reasons.length === 0 && m !== null, reasons, measured: m,
});

describe("formatReport", () => {
  test("prints a row per scraper and the ratios against gleaner", () => {
    const text = formatReport(report([run("gleaner", 1, measured(1.2, 1600)), run("prometheus", 1, measured(2.4, 2560))]));
    expect(text).toContain("gleaner 0.1.0 (1/1 runs)");
    expect(text).toContain("Prometheus 2.42.0+ds (1/1 runs)");
    const ratio = text.split("\n").find((l) => l.startsWith("ratio gleaner / prometheus"))!;
    expect(ratio).toContain("0.50×");
    expect(ratio).toContain("0.63×");
  });

  test("a scraper with no trusted run says why instead of printing numbers", () => {
    const text = formatReport(report([
      run("gleaner", 1, measured(1.2, 1600)),
      run("victoriametrics", 1, null, ["victoriametrics failed to start: it exited during start-up (flag provided but not defined)"]),
    ]));
    const row = text.split("\n").find((l) => l.startsWith("VictoriaMetrics"))!;
    expect(row).toContain("NOT TRUSTED");
    expect(row.slice(row.indexOf("NOT TRUSTED"))).not.toMatch(/\d/);
    expect(text).toContain("victoriametrics: no trusted run, so no numbers:\n  - victoriametrics failed to start");
    expect(text).not.toContain("ratio gleaner / victoriametrics");
  });

  test("untrusted runs are left out of the medians and listed", () => {
    const s = summarize(report([
      run("gleaner", 1, measured(1, 1000)),
      run("gleaner", 2, measured(9, 9000), ["host busy: other processes used 60% of a core during the window"]),
      run("gleaner", 3, measured(3, 3000)),
    ]));
    expect(s[0]!.trustedRuns).toBe(2);
    expect(s[0]!.median!.cpuUsPerSample).toBe(2);
    expect(s[0]!.reasons).toEqual(["host busy: other processes used 60% of a core during the window"]);
  });
});
