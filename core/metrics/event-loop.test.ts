import { expect, test } from "bun:test";
import { createLogger } from "../log/logger.ts";
import { monitorEventLoop, LagHistogram } from "./event-loop.ts";
import { Registry } from "./registry.ts";

test("a loop blocked for 300 ms shows in the lag histogram, the max gauge, and a warning", async () => {
  const registry = new Registry();
  const lines: string[] = [];
  const stop = monitorEventLoop(registry, createLogger({ level: "warn", format: "logfmt", write: (l) => lines.push(l) }), { periodMs: 20, warnMs: 200 });
  await Bun.sleep(60);
  const until = performance.now() + 300;
  while (performance.now() < until) {
    // hold the event loop
  }
  await Bun.sleep(60);
  stop();
  const text = registry.expose();
  expect(text).toContain("# TYPE gleaner_event_loop_lag_seconds histogram\n");
  const bucket = (le: string) => Number(new RegExp(`gleaner_event_loop_lag_seconds_bucket\\{le="${le.replace("+", "\\+")}"\\} (\\d+)`).exec(text)![1]);
  expect(bucket("+Inf")).toBeGreaterThan(bucket("0.1"));
  expect(Number(/^gleaner_event_loop_lag_max_seconds (\S+)$/m.exec(text)![1])).toBeGreaterThan(0.2);
  // The max is "since the last read": the next read starts over.
  expect(Number(/^gleaner_event_loop_lag_max_seconds (\S+)$/m.exec(registry.expose())![1])).toBeLessThan(0.2);
  expect(lines.some((l) => l.includes("The event loop was blocked"))).toBe(true);
});

test("the lag histogram's buckets are cumulative and end with +Inf = count", () => {
  const h = new LagHistogram();
  for (const s of [0.0005, 0.02, 0.02, 3, 20]) h.observe(s);
  const samples = h.samples();
  const buckets = samples.filter((s) => s.suffix === "_bucket").map((s) => s.value);
  expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  expect(buckets.at(-1)).toBe(5);
  expect(samples.find((s) => s.suffix === "_count")!.value).toBe(5);
});
