import { beforeAll, expect, test } from "bun:test";
import { Labels } from "../../core/model/labels.ts";
import { createCore } from "../../wasm/index.ts";
import { XorCodec } from "../../wasm/xor.ts";
import { APPEND_DUPLICATE, APPEND_OUT_OF_BOUNDS, APPEND_OUT_OF_ORDER, AppendError, UnknownSeriesRefError } from "../types.ts";
import { BLOCK_RANGE_MS, Head, type FullChunk, type HeadTransaction } from "./head.ts";

let codec: XorCodec;
beforeAll(async () => {
  codec = new XorCodec(await createCore());
});

const NOW = 1_800_000_000_000;
const up = Labels.from({ __name__: "up", job: "a" });

function setup(now = NOW) {
  const persisted: HeadTransaction[] = [];
  const cut: FullChunk[] = [];
  const head = new Head({ codec, now: () => now, persist: async (tx) => void persisted.push({ ...tx, series: [...tx.series] }), onFullChunk: (c) => void cut.push(c) });
  return { head, persisted, cut };
}

test("a commit is persisted before it is applied, and then its samples are readable", async () => {
  const { head, persisted } = setup();
  const a = head.appender();
  const ref = a.append(0, up, NOW, 1);
  a.appendStale(ref, null, NOW + 1000);
  expect(head.samples(ref, 0, Infinity)).toEqual([]);
  await a.commit();
  expect(persisted).toHaveLength(1);
  expect(persisted[0]!.series.map((s) => s.labels.toString())).toEqual(['up{job="a"}']);
  expect(persisted[0]!.count).toBe(2);
  expect(head.samples(ref, 0, Infinity)).toEqual([{ t: NOW, v: 1, stale: false }, { t: NOW + 1000, v: NaN, stale: true }]);
});

test("out-of-order, duplicate and future samples are rejected as Prometheus's head does", async () => {
  const { head } = setup();
  const a = head.appender();
  const ref = a.append(0, up, NOW, 1);
  await a.commit();
  const b = head.appender();
  expect(b.append(ref, null, NOW - 1, 1)).toBe(APPEND_OUT_OF_ORDER);
  expect(b.append(ref, null, NOW, 2)).toBe(APPEND_DUPLICATE);
  expect(b.append(ref, null, NOW, 1)).toBe(ref);
  expect(b.append(ref, null, NOW + 11 * 60_000, 1)).toBe(APPEND_OUT_OF_BOUNDS);
  await b.commit();
  expect(head.counters).toMatchObject({ outOfOrder: 1, duplicates: 1, outOfBounds: 1, samplesAppended: 1 });
});

test("a chunk is cut at 120 samples and at the 2h block boundary", async () => {
  const start = Math.floor(NOW / BLOCK_RANGE_MS) * BLOCK_RANGE_MS;
  const { head, cut } = setup(start + 3 * BLOCK_RANGE_MS);
  let ref = 0;
  for (let i = 0; i < 130; i++) {
    const a = head.appender();
    ref = a.append(ref, up, start + i * 15_000, i) as number;
    await a.commit();
  }
  expect(cut.map((c) => [c.count, c.mint, c.maxt])).toEqual([[120, start, start + 119 * 15_000]]);
  const a = head.appender();
  a.append(ref, null, start + BLOCK_RANGE_MS, 1);
  await a.commit();
  expect(cut).toHaveLength(2);
  expect(cut[1]!.count).toBe(10);
  expect(head.openSamples(ref)).toBe(1);
  // The cut chunk holds exactly its samples, in Prometheus's XOR format.
  const c = codec.fromBytes(cut[0]!.data);
  expect(codec.count(c)).toBe(120);
  codec.free(c);
});

test("a rolled back transaction applies nothing but keeps the series it created", async () => {
  const { head, persisted } = setup();
  const a = head.appender();
  const ref = a.append(0, up, NOW, 1);
  await a.rollback();
  expect(head.samples(ref, 0, Infinity)).toEqual([]);
  expect(head.seriesCount).toBe(1);
  expect(persisted[0]!.count).toBe(0);
});

test("series without a name or labels are refused", () => {
  const a = setup().head.appender();
  expect(() => a.append(0, Labels.EMPTY, NOW, 1)).toThrow(AppendError);
  expect(() => a.append(0, Labels.from({ job: "x" }), NOW, 1)).toThrow("has no metric name");
});

test("the postings index answers every matcher type", async () => {
  const { head } = setup();
  const a = head.appender();
  for (const [job, env] of [["node", "prod"], ["node", "dev"], ["api", "prod"]]) a.append(0, Labels.from({ __name__: "up", job: job!, env: env! }), NOW, 1);
  a.append(0, Labels.from({ __name__: "other" }), NOW, 1);
  await a.commit();
  const names = (m: Parameters<Head["matching"]>[0]) => head.matching(m).map((r) => head.labelsOf(r)!.toString()).sort();
  expect(names([{ type: "=", name: "job", value: "node" }])).toEqual(['up{env="dev", job="node"}', 'up{env="prod", job="node"}']);
  expect(names([{ type: "=", name: "__name__", value: "up" }, { type: "!=", name: "env", value: "prod" }])).toEqual(['up{env="dev", job="node"}']);
  expect(names([{ type: "=~", name: "job", value: "no.*" }, { type: "!~", name: "env", value: "d.*" }])).toEqual(['up{env="prod", job="node"}']);
  expect(names([{ type: "=", name: "env", value: "" }])).toEqual(["other"]);
  expect(head.postings.labelValues("job")).toEqual(["api", "node"]);
});

test("gc keeps a series with no sample yet (a commit in flight) until a later gc finds it still empty", async () => {
  const { head } = setup();
  const ref = head.addSeries(Labels.from({ __name__: "new_series" }));
  expect(head.gc(Infinity)).toBe(0);
  expect(head.labelsOf(ref)).toBeDefined();
  expect(head.gc(Infinity)).toBe(1);
  expect(head.labelsOf(ref)).toBeUndefined();
  // A series whose commit lands between two passes is kept.
  const a = head.appender();
  const kept = a.append(0, up, NOW, 1);
  expect(head.gc(NOW - 1)).toBe(0);
  await a.commit();
  expect(head.gc(NOW - 1)).toBe(0);
  expect(head.labelsOf(kept)).toBeDefined();
  // A unknown ref is reported as such, so a scrape can resolve the series by its labels.
  expect(() => head.appender().append(ref, null, NOW, 1)).toThrow(UnknownSeriesRefError);
});
