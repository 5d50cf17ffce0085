import { expect, test } from "bun:test";
import { createLogger } from "../log/logger.ts";
import { Labels } from "../model/labels.ts";
import { ManualClock } from "./clock.ts";
import { ScrapeLoop, type ScrapeStep } from "./loop.ts";
import type { Target } from "./target.ts";

const log = createLogger({ level: "error", format: "logfmt", write: () => {} });
const target: Target = {
  labels: Labels.from({ __address__: "a:1", instance: "a:1", job: "j" }),
  discoveredLabels: Labels.EMPTY,
  publicLabels: Labels.from({ instance: "a:1", job: "j" }),
  url: "http://a:1/metrics",
  intervalMs: 10_000,
  timeoutMs: 5_000,
  hash: 1n,
};

class RecordingStep implements ScrapeStep {
  scrapes: Array<{ at: number; ts: number; forced: string | null }> = [];
  stale: number[] = [];
  constructor(private readonly clock: ManualClock, private readonly takes: (n: number) => number = () => 0, private readonly result: string | null = null) {}
  async scrape(ts: number, forced: string | null) {
    this.scrapes.push({ at: this.clock.now(), ts, forced });
    await this.clock.sleep(this.takes(this.scrapes.length));
    return forced ?? this.result;
  }
  async endOfRunStaleness(t: number) {
    this.stale.push(t);
  }
}

function loop(clock: ManualClock, step: ScrapeStep, offset = 3_000, pool = new AbortController()) {
  return new ScrapeLoop(target, step, clock, offset, log, pool.signal);
}

test("the first scrape waits for the offset, then one scrape per interval", async () => {
  const clock = new ManualClock(100_000);
  const step = new RecordingStep(clock);
  const l = loop(clock, step);
  l.start();
  await clock.advance(2_999);
  expect(step.scrapes).toHaveLength(0);
  await clock.advance(1 + 30_000);
  expect(step.scrapes.map((s) => s.at)).toEqual([103_000, 113_000, 123_000, 133_000]);
  expect(step.scrapes.map((s) => s.ts)).toEqual([103_000, 113_000, 123_000, 133_000]);
  await l.stop(false);
});

test("a slow scrape drops missed ticks and the next one starts at once; scrapes never overlap", async () => {
  const clock = new ManualClock(0);
  const step = new RecordingStep(clock, (n) => (n === 1 ? 25_000 : 100));
  const l = loop(clock, step, 0);
  l.start();
  await clock.advance(45_000);
  expect(step.scrapes.map((s) => s.at)).toEqual([0, 25_000, 30_000, 40_000]);
  await l.stop(false);
});

test("jitter within min(interval/100, 2ms) is absorbed into the ideal timestamp", async () => {
  const clock = new ManualClock(0);
  let n = 0;
  // Each scrape takes a little, and the slot after the slow one starts 1 ms late.
  const step = new RecordingStep(clock, () => (++n === 1 ? 10_001 : 5));
  const l = loop(clock, step, 0);
  l.start();
  await clock.advance(20_010);
  expect(step.scrapes.map((s) => [s.at, s.ts])).toEqual([[0, 0], [10_001, 10_000], [20_000, 20_000]]);
  await l.stop(false);
});

test("status follows the last scrape; a forced error reaches the step", async () => {
  const clock = new ManualClock(0);
  const step = new RecordingStep(clock, () => 7);
  const l = loop(clock, step, 0);
  expect(l.status().health).toBe("unknown");
  l.start();
  await clock.advance(7);
  expect(l.status()).toMatchObject({ health: "up", lastError: "", lastScrape: 0, lastScrapeDurationMs: 7 });
  l.setForcedError("target_limit exceeded (number of targets: 3, limit: 2)");
  await clock.advance(10_000);
  expect(step.scrapes.at(-1)!.forced).toBe("target_limit exceeded (number of targets: 3, limit: 2)");
  expect(l.status()).toMatchObject({ health: "down", lastError: "target_limit exceeded (number of targets: 3, limit: 2)" });
  await l.stop(false);
});

test("a stopped loop writes end-of-run stale markers at the next tick, after one more interval and 10%", async () => {
  const clock = new ManualClock(0);
  const step = new RecordingStep(clock);
  const l = loop(clock, step, 0);
  l.start();
  await clock.advance(15_000);
  await l.stop(true);
  await clock.advance(4_999 + 10_000 + 999);
  expect(step.stale).toEqual([]);
  await clock.advance(2);
  expect(step.stale).toEqual([20_000]);
});

test("no end-of-run markers when the pool stops, or when the loop never scraped", async () => {
  const clock = new ManualClock(0);
  const pool = new AbortController();
  const step = new RecordingStep(clock);
  const l = loop(clock, step, 0, pool);
  l.start();
  await clock.advance(1);
  await l.stop(true);
  pool.abort();
  await clock.advance(60_000);
  expect(step.stale).toEqual([]);

  const never = new RecordingStep(clock);
  const l2 = loop(clock, never, 5_000);
  l2.start();
  await l2.stop(true);
  await clock.advance(60_000);
  expect(never.stale).toEqual([]);
});

test("the time between scrape starts is reported for prometheus_target_interval_length_seconds", async () => {
  const clock = new ManualClock(0);
  const intervals: number[] = [];
  const l = new ScrapeLoop(target, new RecordingStep(clock, (n) => (n === 2 ? 12_000 : 1)), clock, 0, log, new AbortController().signal, (ms) => intervals.push(ms));
  l.start();
  await clock.advance(40_000);
  expect(intervals).toEqual([10_000, 12_000, 8_000, 10_000]);
  const stopping = l.stop(false);
  await clock.advance(1); // lets the scrape in flight finish
  await stopping;
});

test("a loop released with end-of-run staleness after a plain stop marks its series stale, unless its step was handed over", async () => {
  const clock = new ManualClock(0);
  const step = new RecordingStep(clock);
  const l = loop(clock, step, 0);
  l.start();
  await clock.advance(15_000);
  await l.stop(false);
  l.release(true);
  await clock.advance(5_000 + 10_000 + 1_001);
  expect(step.stale).toEqual([20_000]);

  const handed = Object.assign(new RecordingStep(clock), { handedOver: true });
  const l2 = loop(clock, handed, 0);
  l2.start();
  await clock.advance(15_000);
  await l2.stop(false);
  l2.release(true);
  await clock.advance(60_000);
  expect(handed.stale).toEqual([]);
});

test("the status shows the duration the step reports (before its commit), as Prometheus's targets API does", async () => {
  const clock = new ManualClock(0);
  const step = Object.assign(new RecordingStep(clock, () => 7), { lastDurationMs: 3 });
  const l = loop(clock, step, 0);
  l.start();
  await clock.advance(7);
  expect(l.status().lastScrapeDurationMs).toBe(3);
  await l.stop(false);
});

test("intervals skipped by a slow scrape are counted and logged with the target", async () => {
  const clock = new ManualClock(0);
  const step = new RecordingStep(clock, (n) => (n === 1 ? 25_000 : 100));
  const missed: number[] = [];
  const lines: string[] = [];
  const l = new ScrapeLoop(target, step, clock, 0, createLogger({ level: "warn", format: "logfmt", write: (x) => lines.push(x) }), new AbortController().signal, () => {}, (n) => missed.push(n));
  l.start();
  await clock.advance(45_000);
  // The 25 s scrape overran the ticks at 10 s and 20 s: the one at 20 s fires at once, 10 s is skipped.
  expect(missed).toEqual([1]);
  expect(lines.some((x) => x.includes("skipped intervals") && x.includes(target.url))).toBe(true);
  await l.stop(false);
});
