import { expect, test } from "bun:test";
import { desiredShards, EwmaRate, type ShardInputs } from "./resharding.ts";

const base: ShardInputs = { current: 1, minShards: 1, maxShards: 50, inRate: 100_000, outRate: 100_000, droppedRate: 0, outDurationRate: 0.5, delaySeconds: 0, intervalSeconds: 10 };

test("shards follow the time spent sending per second: 5 s of sending a second needs 5 shards", () => {
  expect(desiredShards({ ...base, outDurationRate: 5 })).toBe(5);
});

test("a change within ±30 % of the current count is left alone", () => {
  expect(desiredShards({ ...base, current: 10, outDurationRate: 8 })).toBe(10);
  expect(desiredShards({ ...base, current: 10, outDurationRate: 12.5 })).toBe(10);
  expect(desiredShards({ ...base, current: 10, outDurationRate: 14 })).toBe(14);
});

test("a backlog asks for more shards (5 % of it per second), and the count never drops while behind", () => {
  // 60 s behind at 100k/s: 6M pending, 5 % of it is 300k/s on top of the 100k/s coming in.
  expect(desiredShards({ ...base, outDurationRate: 1, delaySeconds: 60 })).toBe(4);
  expect(desiredShards({ ...base, current: 8, outDurationRate: 1, delaySeconds: 11 })).toBe(8);
  expect(desiredShards({ ...base, current: 8, outDurationRate: 1, delaySeconds: 0 })).toBe(1);
});

test("the result is clamped to [min_shards, max_shards], and nothing sent means no change", () => {
  expect(desiredShards({ ...base, outDurationRate: 500 })).toBe(50);
  expect(desiredShards({ ...base, current: 4, minShards: 3, outDurationRate: 0.1 })).toBe(3);
  expect(desiredShards({ ...base, current: 7, outRate: 0 })).toBe(7);
});

test("samples dropped by relabeling do not count as work", () => {
  // Half of the 100k/s coming in is dropped: 4 s of sending for the 50k/s sent is 4 shards, not 8.
  expect(desiredShards({ ...base, current: 1, outRate: 50_000, droppedRate: 50_000, outDurationRate: 4 })).toBe(4);
});

test("the EWMA rate starts at the first non-zero interval and then moves 20 % toward each new one", () => {
  const r = new EwmaRate(0.2, 10_000);
  r.tick();
  expect(r.rate).toBe(0);
  r.add(1000);
  r.tick();
  expect(r.rate).toBe(100);
  r.add(2000);
  r.tick();
  expect(r.rate).toBe(120);
});
