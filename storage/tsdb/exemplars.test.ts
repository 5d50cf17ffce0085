import { describe, expect, test } from "bun:test";
import { Labels } from "../../core/model/labels.ts";
import { ExemplarStore } from "./exemplars.ts";

const series = (name: string, extra: Record<string, string> = {}) => Labels.from({ __name__: name, job: "j", ...extra });
const ex = (trace: string, value: number, timestamp: number) => ({ labels: Labels.from({ trace_id: trace }), value, timestamp });
const A = series("a_total");
const B = series("b_bucket", { le: "0.5" });

describe("ExemplarStore", () => {
  test("select returns each series' exemplars oldest first within [start, end], series in label order", () => {
    const s = new ExemplarStore(10);
    expect(s.add(2, B, ex("b1", 1, 1000))).toBeNull();
    expect(s.add(1, A, ex("a1", 1, 1000))).toBeNull();
    expect(s.add(1, A, ex("a2", 2, 2000))).toBeNull();
    expect(s.add(1, A, ex("a3", 3, 3000))).toBeNull();
    const all = s.select(-Infinity, Infinity, []);
    expect(all.map((r) => r.seriesLabels.get("__name__"))).toEqual(["a_total", "b_bucket"]);
    expect(all[0]!.exemplars.map((e) => e.labels.get("trace_id"))).toEqual(["a1", "a2", "a3"]);
    expect(s.select(1500, 2500, []).map((r) => r.exemplars.map((e) => e.timestamp))).toEqual([[2000]]);
    expect(s.select(0, 5000, [[{ type: "=", name: "__name__", value: "b_bucket" }]]).map((r) => r.seriesLabels.get("le"))).toEqual(["0.5"]);
    expect(s.select(0, 5000, [[{ type: "=~", name: "__name__", value: "x.*" }], [{ type: "=", name: "le", value: "0.5" }]])).toHaveLength(1);
    expect(s.select(4000, 5000, [])).toEqual([]);
    expect([s.size, s.seriesCount, s.appended]).toEqual([4, 2, 4]);
  });

  test("a full buffer drops the oldest exemplar of any series, and a series with none left leaves the index", () => {
    const s = new ExemplarStore(3);
    s.add(1, A, ex("a1", 1, 1000));
    s.add(2, B, ex("b1", 1, 1500));
    s.add(1, A, ex("a2", 2, 2000));
    expect(s.oldestTimestamp()).toBe(1000);
    s.add(1, A, ex("a3", 3, 3000)); // evicts a1
    expect(s.select(0, 1e9, [])[0]!.exemplars.map((e) => e.labels.get("trace_id"))).toEqual(["a2", "a3"]);
    s.add(1, A, ex("a4", 4, 4000)); // evicts b1: B has no exemplar left
    expect(s.seriesCount).toBe(1);
    expect(s.select(0, 1e9, []).map((r) => r.seriesLabels.get("__name__"))).toEqual(["a_total"]);
    expect(s.size).toBe(3);
    expect(s.oldestTimestamp()).toBe(2000);
    expect([...s.all()].map((e) => e.labels.get("trace_id"))).toEqual(["a2", "a3", "a4"]);
  });

  test("the newest exemplar again is a no-op; older ones, or the same time with a smaller value, are out of order", () => {
    const s = new ExemplarStore(10);
    s.add(1, A, ex("a", 5, 2000));
    expect(s.add(1, A, ex("a", 5, 2000))).toBeNull();
    expect(s.size).toBe(1);
    expect(s.add(1, A, ex("a", 5, 1999))).toBe("out_of_order");
    expect(s.add(1, A, ex("a", 4, 2000))).toBe("out_of_order");
    expect(s.outOfOrder).toBe(2);
    // Same time, larger value: a different exemplar (a native histogram's buckets), stored.
    expect(s.add(1, A, ex("a", 6, 2000))).toBeNull();
    // Another series is not affected by A's newest exemplar.
    expect(s.add(2, B, ex("b", 1, 1))).toBeNull();
    expect(s.validate(A, ex("x", 1, 1))).toBe("out_of_order");
    expect(s.outOfOrder).toBe(2); // validate() counts nothing
  });

  test("label sets over 128 code points in names and values are rejected, counted by code point", () => {
    const s = new ExemplarStore(10);
    const label = (v: string) => ({ labels: Labels.from({ trace_id: v }), value: 1, timestamp: 1 });
    expect(s.validate(A, label("x".repeat(120)))).toBeNull(); // 8 + 120 = 128
    expect(s.validate(A, label("x".repeat(121)))).toBe("label_length");
    expect(s.validate(A, label("🙂".repeat(120)))).toBeNull(); // 120 code points, 240 UTF-16 units
    expect(s.validate(A, label("é".repeat(121)))).toBe("label_length");
    expect(s.add(1, A, label("x".repeat(200)))).toBe("label_length");
    expect(s.size).toBe(0);
  });

  test("capacity 0 disables the storage; resize keeps the newest exemplars that fit", () => {
    const off = new ExemplarStore(0);
    expect(off.add(1, A, ex("a", 1, 1))).toBe("disabled");
    expect(off.select(-Infinity, Infinity, [])).toEqual([]);
    const s = new ExemplarStore(4);
    for (let i = 1; i <= 6; i++) s.add(i % 2 === 0 ? 1 : 2, i % 2 === 0 ? A : B, ex(`t${i}`, i, i * 1000));
    expect([...s.all()].map((e) => e.timestamp)).toEqual([3000, 4000, 5000, 6000]);
    expect(s.resize(2)).toBe(2);
    expect([...s.all()].map((e) => e.timestamp)).toEqual([5000, 6000]);
    expect(s.capacity).toBe(2);
    expect(s.resize(8)).toBe(2);
    s.add(1, A, ex("t7", 7, 7000));
    expect(s.select(0, 1e9, []).map((r) => [r.seriesLabels.get("__name__"), r.exemplars.map((e) => e.timestamp)])).toEqual([
      ["a_total", [6000, 7000]],
      ["b_bucket", [5000]],
    ]);
    expect(s.resize(0)).toBe(0);
    expect([s.size, s.seriesCount]).toEqual([0, 0]);
  });

  test("random appends agree with a simple model of the ring", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const cap = 17;
    const s = new ExemplarStore(cap);
    const model: Array<{ key: string; t: number }> = [];
    const last = new Map<string, number>();
    const all = [A, B, series("c"), series("d")];
    for (let i = 0; i < 2000; i++) {
      const l = all[Math.floor(rnd() * all.length)]!;
      const t = Math.floor(rnd() * 5000) + i * 3;
      const r = s.add(all.indexOf(l) + 1, l, ex(`t${i}`, i, t));
      const prev = last.get(l.key);
      if (prev !== undefined && t < prev) {
        expect(r).toBe("out_of_order");
        continue;
      }
      expect(r).toBeNull();
      last.set(l.key, t);
      model.push({ key: l.key, t });
      if (model.length > cap) model.shift();
      // A series whose exemplars all left the ring accepts anything again.
      for (const k of [...last.keys()]) if (!model.some((m) => m.key === k)) last.delete(k);
    }
    const got = s.select(-Infinity, Infinity, []).flatMap((r) => r.exemplars.map((e) => `${r.seriesLabels.key}@${e.timestamp}`));
    const want = [...model].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((m) => `${m.key}@${m.t}`);
    expect(got).toEqual(want);
  });
});
