import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../core/log/logger.ts";
import { Registry } from "../../core/metrics/registry.ts";
import { Labels } from "../../core/model/labels.ts";
import { Tsdb } from "./index.ts";

const T0 = 1_800_000_000_000;

async function open(dir: string, lines: string[] = [], now = () => T0 + 2 * 3_600_000, retentionMs = 0) {
  return Tsdb.open({ dir, retentionMs, retentionBytes: 0, registry: new Registry(), log: createLogger({ level: "info", format: "logfmt", write: (l) => lines.push(l) }), now, flushIntervalMs: 3_600_000 });
}

const series = (i: number) => Labels.from({ __name__: "m", i: String(i) });

async function write(db: Tsdb, n: number, from: number, count: number) {
  for (let k = 0; k < count; k++) {
    const a = db.appender();
    for (let i = 0; i < n; i++) a.append(0, series(i), T0 + (from + k) * 15_000, from + k);
    await a.commit();
  }
}

const values = (db: Tsdb, i: number) => db.select([{ type: "=", name: "i", value: String(i) }], -Infinity, Infinity)[0]?.samples.map((s) => s.v) ?? [];

test("committed samples survive a restart through the WAL", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
  const db = await open(dir);
  await write(db, 3, 0, 10);
  await db.close();
  const lines: string[] = [];
  const again = await open(dir, lines);
  expect(values(again, 1)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(lines.join("\n")).toContain('msg="TSDB loaded" series=3 walRecords=10 walSamples=30');
  await again.close();
});

test("cut chunks are flushed to the block store and read back once, across a restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
  const db = await open(dir);
  await write(db, 2, 0, 250); // two full chunks of 120 and 10 open samples per series
  await db.flush();
  expect(db.blocks.chunks([1, 2], -Infinity, Infinity)).toHaveLength(4);
  const want = Array.from({ length: 250 }, (_, k) => k);
  expect(values(db, 0)).toEqual(want);
  await db.close();
  const again = await open(dir);
  expect(values(again, 0)).toEqual(want);
  expect(values(again, 1)).toEqual(want);
  // Appends continue after the restored series' last sample.
  await write(again, 2, 250, 1);
  expect(values(again, 1).at(-1)).toBe(250);
  await again.close();
});

test("stale markers are stored and read back as stale", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
  const db = await open(dir);
  const a = db.appender();
  const ref = a.append(0, series(0), T0, 1);
  a.appendStale(ref, null, T0 + 15_000);
  await a.commit();
  await db.close();
  const again = await open(dir);
  expect(again.select([{ type: "=", name: "i", value: "0" }], -Infinity, Infinity)[0]!.samples).toEqual([{ t: T0, v: 1, stale: false }, { t: T0 + 15_000, v: NaN, stale: true }]);
  await again.close();
});

test("a torn WAL tail is reported at start-up and everything before it is kept", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
  const db = await open(dir);
  await write(db, 2, 0, 5);
  await db.close();
  const wal = join(dir, "wal");
  const segment = join(wal, readdirSync(wal).filter((f) => /^\d+$/.test(f)).sort().at(-1)!);
  truncateSync(segment, statSync(segment).size - 3);
  const lines: string[] = [];
  const again = await open(dir, lines);
  expect(values(again, 0)).toEqual([0, 1, 2, 3]);
  expect(lines.join("\n")).toContain("The WAL had a damaged record");
  await write(again, 2, 4, 1);
  expect(values(again, 0)).toEqual([0, 1, 2, 3, 4]);
  await again.close();
});

test("retention deletes chunks older than the retention time", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
  const db = await open(dir, [], () => T0 + 250 * 15_000 + 60_000, 130 * 15_000);
  await write(db, 1, 0, 250);
  await db.flush();
  const left = values(db, 0);
  expect(left[0]).toBe(120); // the first chunk (0–119) ended before now − retention
  expect(left.at(-1)).toBe(249);
  await db.close();
});

test("the series and label index answer the API's questions", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
  const db = await open(dir);
  await write(db, 3, 0, 1);
  expect(db.series([[{ type: "=~", name: "i", value: "[01]" }]], -Infinity, Infinity).map(String)).toEqual(['m{i="0"}', 'm{i="1"}']);
  expect(db.labelNames([], -Infinity, Infinity)).toEqual(["__name__", "i"]);
  expect(db.labelValues("i", [[{ type: "!=", name: "i", value: "2" }]], -Infinity, Infinity)).toEqual(["0", "1"]);
  expect(db.headStats(2)).toMatchObject({ numSeries: 3, seriesCountByMetricName: [{ name: "m", value: 3 }] });
  await db.close();
});

test("a series that went quiet moves to the block store, and leaves the head once retention passes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
  let now = T0 + 60_000;
  const db = await open(dir, [], () => now, 24 * 3_600_000);
  const a = db.appender();
  a.append(0, Labels.from({ __name__: "m", i: "gone" }), T0, 1);
  a.append(0, Labels.from({ __name__: "m", i: "stays" }), T0, 1);
  await a.commit();
  now = T0 + 3 * 3_600_000;
  const b = db.appender();
  b.append(0, Labels.from({ __name__: "m", i: "stays" }), now - 1000, 2);
  await b.commit();
  await db.flush();
  expect(db.head.openSamples(db.head.refOf(Labels.from({ __name__: "m", i: "gone" }))!)).toBe(0);
  expect(values(db, "gone" as unknown as number)).toEqual([1]); // read back from the block store
  now = T0 + 26 * 3_600_000;
  await db.flush();
  expect(db.head.refOf(Labels.from({ __name__: "m", i: "gone" }))).toBeUndefined();
  expect(db.series([[{ type: "=", name: "__name__", value: "m" }]], -Infinity, Infinity).map(String)).toEqual(['m{i="stays"}']);
  await db.close();
});

test("after chunks are flushed, old WAL segments are checkpointed away and a restart has every sample once", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
  const opts = { dir, retentionMs: 0, retentionBytes: 0, registry: new Registry(), log: createLogger({ level: "error", format: "logfmt", write: () => {} }), now: () => T0 + 2 * 3_600_000, flushIntervalMs: 3_600_000, walSegmentSize: 4096 };
  const db = await Tsdb.open(opts);
  await write(db, 5, 0, 250); // every series cuts two chunks; the WAL rolls over many 4 KiB segments
  await db.flush();
  const segments = () => readdirSync(join(dir, "wal")).filter((f) => /^\d+$/.test(f)).length;
  const before = db.wal.segment;
  expect(before).toBeGreaterThan(2);
  expect(segments()).toBeLessThan(before); // segments wholly in the block store are gone
  expect(readdirSync(join(dir, "wal")).some((f) => f.startsWith("checkpoint."))).toBe(true);
  await db.close();
  const again = await Tsdb.open({ ...opts, registry: new Registry() });
  const want = Array.from({ length: 250 }, (_, k) => k);
  for (let i = 0; i < 5; i++) expect(values(again, i)).toEqual(want);
  await again.close();
});
