import { expect, test } from "bun:test";
import { byKey, drain, drive, sortSteps, TimeSlicer } from "./time-slice.ts";
import type { Steps } from "../storage/types.ts";
import { rng } from "../test/support/random.ts";

test("TimeSlicer.due() with a 0 ms slice says so at the first look at the clock, and never with an infinite one", () => {
  const zero = new TimeSlicer(0);
  expect(zero.due(1024)).toBe(true);
  const never = new TimeSlicer(Infinity);
  for (let i = 0; i < 10_000; i++) expect(never.due(1024)).toBe(false);
});

test("TimeSlicer.due() looks at the clock only once enough work is counted", () => {
  const s = new TimeSlicer(0);
  expect(s.due(1)).toBe(false);
  expect(s.due(10_000)).toBe(true);
});

test("TimeSlicer rejects a negative slice", () => {
  expect(() => new TimeSlicer(-1)).toThrow(RangeError);
});

test("pause() lets callbacks queued before it run, then runs the resume check", async () => {
  const order: string[] = [];
  const s = new TimeSlicer(0, () => order.push("resumed"));
  setImmediate(() => order.push("immediate"));
  await s.pause();
  expect(order).toEqual(["immediate", "resumed"]);
  expect(s.pauses).toBe(1);
});

test("drive() pauses between steps, returns the result, and stops at a throwing resume check with the generator's finally run", async () => {
  let finished = false;
  function* steps(n: number): Steps<number> {
    let sum = 0;
    try {
      for (let i = 0; i < n; i++) {
        sum += i;
        yield 1024;
      }
    } finally {
      finished = true;
    }
    return sum;
  }
  const s = new TimeSlicer(0);
  expect(await drive(steps(10), s)).toBe(45);
  expect(s.pauses).toBe(10);
  expect(drain(steps(10))).toBe(45);

  finished = false;
  let resumes = 0;
  const stopping = new TimeSlicer(0, () => {
    if (++resumes === 3) throw new Error("stop");
  });
  await expect(drive(steps(100), stopping)).rejects.toThrow("stop");
  expect(finished).toBe(true);
  expect(resumes).toBe(3);
});

test("sortSteps() sorts as a stable Array.prototype.sort by key does, at every size around its run length", () => {
  const next = rng(7);
  for (const n of [0, 1, 2, 511, 512, 513, 1024, 1500, 5000]) {
    const items = Array.from({ length: n }, (_, i) => ({ k: `k${Math.floor(next() * n * 0.7)}`, i }));
    const want = items.slice().sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    expect(drain(sortSteps(items, byKey((x) => x.k)))).toEqual(want);
  }
});

test("sortSteps() keeps sorted and partly sorted input in order", () => {
  const sorted = Array.from({ length: 3000 }, (_, i) => `k${String(i).padStart(5, "0")}`);
  expect(drain(sortSteps(sorted, byKey((x) => x)))).toEqual(sorted);
  // Sorted runs of 1000 in reverse order of runs, and a reversed whole.
  const runs = [...sorted.slice(2000), ...sorted.slice(1000, 2000), ...sorted.slice(0, 1000)];
  expect(drain(sortSteps(runs, byKey((x) => x)))).toEqual(sorted);
  expect(drain(sortSteps(sorted.slice().reverse(), byKey((x) => x)))).toEqual(sorted);
});

test("sortSteps() yields while sorting many items, so drive() can pause it", async () => {
  const items = Array.from({ length: 20_000 }, (_, i) => `s${(i * 7919) % 20_000}`);
  const s = new TimeSlicer(0);
  const got = await drive(sortSteps(items, byKey((x) => x)), s);
  expect(got).toEqual(items.slice().sort());
  expect(s.pauses).toBeGreaterThan(10);
});
