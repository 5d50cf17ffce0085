import { expect, test } from "bun:test";
import { Labels } from "../core/model/labels.ts";
import { FanoutStorage } from "./fanout.ts";
import { MemoryStorage } from "./memory.ts";
import { APPEND_DUPLICATE, APPEND_OUT_OF_BOUNDS, APPEND_OUT_OF_ORDER, AppendError } from "./types.ts";

const up = Labels.from({ __name__: "up", job: "a" });
const NOW = 1_700_000_000_000;

test("committed samples become visible together; rolled back ones never do", async () => {
  const s = new MemoryStorage(() => NOW);
  const a = s.appender();
  const ref = a.append(0, up, NOW, 1);
  expect(ref).toBeGreaterThan(0);
  expect(s.select([{ type: "=", name: "__name__", value: "up" }], 0, Infinity)).toEqual([]);
  await a.commit();
  expect(s.select([{ type: "=", name: "job", value: "a" }], 0, Infinity)[0]!.samples).toEqual([{ t: NOW, v: 1, stale: false }]);
  const b = s.appender();
  expect(b.append(ref, null, NOW + 1000, 2)).toBe(ref);
  await b.rollback();
  expect(s.select([], 0, Infinity)[0]!.samples).toHaveLength(1);
});

test("out-of-order, duplicate and far-future samples are rejected without throwing", async () => {
  const s = new MemoryStorage(() => NOW);
  const a = s.appender();
  const ref = a.append(0, up, NOW, 1);
  expect(a.append(ref, null, NOW - 1, 1)).toBe(APPEND_OUT_OF_ORDER);
  expect(a.append(ref, null, NOW, 2)).toBe(APPEND_DUPLICATE);
  expect(a.append(ref, null, NOW, 1)).toBe(ref); // an exact duplicate is accepted silently
  expect(a.append(ref, null, NOW + 10 * 60_000 + 1, 1)).toBe(APPEND_OUT_OF_BOUNDS);
  await a.commit();
  expect(s.select([], 0, Infinity)[0]!.samples).toHaveLength(1);
});

test("a stale marker is carried as a flag and differs from NaN", async () => {
  const s = new MemoryStorage(() => NOW);
  const a = s.appender();
  const ref = a.append(0, up, NOW, NaN);
  expect(a.appendStale(ref, null, NOW)).toBe(APPEND_DUPLICATE);
  expect(a.appendStale(ref, null, NOW + 1)).toBe(ref);
  await a.commit();
  expect(s.select([], 0, Infinity)[0]!.samples.map((x) => x.stale)).toEqual([false, true]);
});

test("an unknown ref without labels, or an empty label set, fails the append", () => {
  const a = new MemoryStorage().appender();
  expect(() => a.append(99, null, 1, 1)).toThrow(AppendError);
  expect(() => a.append(0, Labels.EMPTY, 1, 1)).toThrow("empty label set");
});

test("regex matchers are anchored RE2", async () => {
  const s = new MemoryStorage(() => NOW);
  const a = s.appender();
  a.append(0, Labels.from({ __name__: "up", job: "node" }), NOW, 1);
  a.append(0, Labels.from({ __name__: "up", job: "nodes" }), NOW, 1);
  await a.commit();
  expect(s.select([{ type: "=~", name: "job", value: "node" }], 0, Infinity).map((x) => x.labels.get("job"))).toEqual(["node"]);
  expect(s.select([{ type: "!~", name: "job", value: "node" }], 0, Infinity).map((x) => x.labels.get("job"))).toEqual(["nodes"]);
});

test("the fanout hands out the primary's refs and gives every storage the accepted samples", async () => {
  const primary = new MemoryStorage(() => NOW);
  const secondary = new MemoryStorage(() => NOW);
  // Make the secondary's refs differ from the primary's.
  const pre = secondary.appender();
  pre.append(0, Labels.from({ __name__: "other" }), NOW, 0);
  await pre.commit();

  const f = new FanoutStorage(primary, [secondary]);
  const a = f.appender();
  const ref = a.append(0, up, NOW, 1);
  expect(a.append(ref, null, NOW - 5, 9)).toBe(APPEND_OUT_OF_ORDER);
  await a.commit();
  const b = f.appender();
  b.append(ref, null, NOW + 1000, 2);
  b.appendStale(ref, null, NOW + 2000);
  await b.commit();
  const want = [{ t: NOW, v: 1, stale: false }, { t: NOW + 1000, v: 2, stale: false }, { t: NOW + 2000, v: NaN, stale: true }];
  expect(primary.select([{ type: "=", name: "__name__", value: "up" }], 0, Infinity)[0]!.samples).toEqual(want);
  expect(secondary.select([{ type: "=", name: "__name__", value: "up" }], 0, Infinity)[0]!.samples).toEqual(want);
});

test("Labels drops empty values, sorts names and prints Prometheus notation", () => {
  const l = Labels.from({ job: "x", __name__: "up", empty: "", a: 'q"' });
  expect([...l]).toEqual([["__name__", "up"], ["a", 'q"'], ["job", "x"]]);
  expect(String(l)).toBe('up{a="q\\"", job="x"}');
  expect(l.equals(Labels.from([["a", 'q"'], ["job", "x"], ["__name__", "up"]]))).toBe(true);
  expect(String(Labels.from({ __name__: "up" }))).toBe("up");
});
