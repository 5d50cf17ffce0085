import { expect, test } from "bun:test";
import { missingPeers, PEERS } from "../support/peers.ts";
import type { BenchReport } from "../../bench/harness/run.ts";
import { runToEnd, sourceCommand } from "./harness.ts";

// `gleaner bench` end to end on a tiny workload: the generator process, gleaner as
// `gleaner run` in its own process, and Debian's Prometheus on the same targets.
// Only the shape and the counts are checked; the figures are for bench/README.md.

const SMALL = ["--targets", "2", "--series", "50", "--interval", "1s", "--duration", "3s", "--warmup", "3s"];

test("gleaner bench --vs prometheus measures both scrapers on the same workload and prints JSON", async () => {
  if (await missingPeers(PEERS.prometheus)) return;
  const r = await runToEnd(sourceCommand(), ["bench", ...SMALL, "--vs", "prometheus", "--json"], "/tmp");
  const report = JSON.parse(r.stdout) as BenchReport;
  // The exit code says whether every run could be trusted (a busy test machine may not be).
  expect(r.code === 0 || r.code === 1).toBe(true);
  expect(report.workload).toMatchObject({ targets: 2, seriesPerTarget: 57, activeSeries: 114, interval: "1s" });
  expect(report.runs.map((x) => x.scraper)).toEqual(["gleaner", "prometheus"]);
  for (const run of report.runs) {
    const m = run.measured!;
    expect(m).not.toBeNull();
    // 2 targets × (57 + 5 report series) every second.
    expect(m.expectedSamplesPerS).toBe(124);
    expect(m.samplesPerS).toBeGreaterThan(124 * 0.5);
    expect(m.samplesPerS).toBeLessThan(124 * 1.5);
    expect(m.series).toBe(124);
    expect(m.scrapes).toBeGreaterThanOrEqual(4);
    expect(m.cpuUsPerSample).toBeGreaterThan(0);
    expect(m.rssPerSeries).toBeGreaterThan(0);
    expect(m.diskBytes).toBeGreaterThan(0);
    expect(run.trusted).toBe(run.reasons.length === 0);
  }
  expect(report.runs[0]!.version).toStartWith("gleaner ");
  expect(report.runs[1]!.version).toStartWith("Prometheus 2.");
}, 90_000);

test("gleaner bench prints a table with a row per scraper", async () => {
  const r = await runToEnd(sourceCommand(), ["bench", ...SMALL, "--format", "openmetrics"], "/tmp");
  expect(r.stdout).toContain("gleaner bench — 2 targets × 57 series = 114 active series every 1s (mixed workload, openmetrics)");
  expect(r.stdout).toMatch(/^gleaner \S+ \((0|1)\/1 runs\)/m);
}, 60_000);

test("gleaner bench refuses bad flags and a missing capture with a clear message", async () => {
  const zero = await runToEnd(sourceCommand(), ["bench", "--targets", "0"], "/tmp");
  expect(zero.code).toBe(2);
  expect(zero.stderr).toContain('invalid --targets "0": must be a positive number');
  const peer = await runToEnd(sourceCommand(), ["bench", "--vs", "influxdb"], "/tmp");
  expect(peer.code).toBe(2);
  expect(peer.stderr).toContain('invalid value "influxdb" for flag \'--vs\', expected one of: prometheus, victoriametrics');
  const churn = await runToEnd(sourceCommand(), ["bench", "--churn", "2"], "/tmp");
  expect(churn.stderr).toContain('invalid --churn "2": expected a fraction between 0 and 1');
  const replay = await runToEnd(sourceCommand(), ["bench", "--replay", "/nonexistent/capture.prom", "--duration", "1s"], "/tmp");
  expect(replay.code).toBe(1);
  expect(replay.stderr).toContain('Cannot start the bench target server: Cannot replay "/nonexistent/capture.prom"');
}, 60_000);
