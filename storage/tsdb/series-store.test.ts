import { describe, expect, test } from "bun:test";
import { Labels } from "../../core/model/labels.ts";
import { SeriesStore } from "./series-store.ts";

const series = (i: number) => Labels.from({ __name__: `m${i % 7}`, job: "api", instance: `10.0.0.${i % 250}:80`, id: String(i) });

describe("SeriesStore", () => {
  test("a stored series is found by an equal label set built elsewhere, and gives its labels back", () => {
    const s = new SeriesStore();
    for (let i = 1; i <= 5000; i++) s.add(i, series(i));
    expect(s.count).toBe(5000);
    for (let i = 1; i <= 5000; i++) {
      expect(s.find(Labels.from(series(i).toObject()))).toBe(i);
      expect(s.labels(i)!.key).toBe(series(i).key);
    }
    expect(s.find(Labels.from({ __name__: "m1", job: "api" }))).toBeUndefined();
    expect(s.find(Labels.from({ __name__: "never-seen" }))).toBeUndefined();
    expect(s.value(3, "id")).toBe("3");
    expect(s.value(3, "absent")).toBe("");
    expect(s.labels(5001)).toBeUndefined();
  });

  test("removed series are gone while every other series stays findable (backward-shift deletion)", () => {
    const s = new SeriesStore();
    const n = 20_000;
    for (let i = 1; i <= n; i++) s.add(i, series(i));
    for (let i = 1; i <= n; i += 3) s.remove(i);
    for (let i = 1; i <= n; i++) {
      const want = i % 3 === 1 ? undefined : i;
      expect(s.find(series(i))).toBe(want);
      expect(s.has(i)).toBe(want !== undefined);
    }
    // Removing most series compacts the id pool; the rest keep their labels.
    for (let i = 1; i <= n; i++) if (i % 100 !== 0) s.remove(i);
    let kept = 0;
    for (let i = 100; i <= n; i += 100) if (i % 3 !== 1) kept++;
    expect(s.count).toBe(kept);
    for (let i = 100; i <= n; i += 100) if (i % 3 !== 1) expect(s.labels(i)!.key).toBe(series(i).key);
  });

  test("a freed ref can take a new series, and the old labels no longer find it", () => {
    const s = new SeriesStore();
    s.add(1, series(1));
    s.remove(1);
    s.add(1, series(2));
    expect(s.find(series(1))).toBeUndefined();
    expect(s.find(series(2))).toBe(1);
  });

  test("an empty label set is refused", () => {
    expect(() => new SeriesStore().add(1, Labels.EMPTY)).toThrow(RangeError);
  });

  test("typed arrays hold the labels: memory grows by tens of bytes per series, not hundreds", () => {
    const s = new SeriesStore();
    for (let i = 1; i <= 100_000; i++) s.add(i, series(i));
    const m = s.memory();
    expect((m.labelIds + m.refArrays + m.hashSlots) / 100_000).toBeLessThan(60);
  });

  test("the hash table holds each series once after it grows, so a dump loads back", () => {
    const s = new SeriesStore();
    // Growth rehashes several times on the way; the series added at each rehash was once inserted twice.
    for (let i = 1; i <= 40_000; i++) s.add(i, series(i));
    for (let i = 2; i <= 40_000; i += 5) s.remove(i);
    const d = s.dump(40_001);
    expect(d.slots.filter((r) => r !== 0).length).toBe(s.count);
    const t = new SeriesStore();
    t.load(d);
    expect(t.count).toBe(s.count);
    for (let i = 1; i <= 40_000; i++) expect(t.find(series(i))).toBe(i % 5 === 2 ? undefined : i);
    // The loaded store goes on taking and removing series.
    t.add(2, series(40_002));
    t.remove(1);
    expect(t.find(series(40_002))).toBe(2);
    expect(t.find(series(1))).toBeUndefined();
    expect(t.labels(3)!.key).toBe(series(3).key);
  });

  test("a dump whose arrays do not agree is refused with what is wrong", () => {
    const s = new SeriesStore();
    for (let i = 1; i <= 100; i++) s.add(i, series(i));
    const d = s.dump(101);
    expect(() => new SeriesStore().load({ ...d, count: 99 })).toThrow("99 expected, 100 in the arrays, 100 in the hash table");
    const slots = d.slots.slice();
    slots[slots.findIndex((r) => r !== 0)] = 500;
    expect(() => new SeriesStore().load({ ...d, slots })).toThrow(/hash slot \d+ holds 500, which is not a series/);
    expect(() => new SeriesStore().load({ ...d, pool: d.pool.subarray(0, 10) })).toThrow("past the pool's end");
    expect(() => new SeriesStore().load({ ...d, symbols: ["a", "a"] })).toThrow("a repeated string");
  });
});
