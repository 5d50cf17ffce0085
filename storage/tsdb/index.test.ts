import { describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../core/log/logger.ts";
import { Registry } from "../../core/metrics/registry.ts";
import { Labels } from "../../core/model/labels.ts";
import { APPEND_DUPLICATE, APPEND_OUT_OF_ORDER } from "../types.ts";
import { Tsdb } from "./index.ts";

const T0 = 1_800_000_000_000;

// Without the shutdown snapshot: these restarts replay the WAL (the snapshot tests turn it on).
async function open(dir: string, lines: string[] = [], now = () => T0 + 2 * 3_600_000, retentionMs = 0, snapshotOnShutdown = false) {
  return Tsdb.open({ dir, retentionMs, retentionBytes: 0, registry: new Registry(), log: createLogger({ level: "info", format: "logfmt", write: (l) => lines.push(l) }), now, flushIntervalMs: 3_600_000, snapshotOnShutdown });
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

test("the series and label index leave out series without a sample in [start, end]: head, unflushed and stored chunks", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
  const db = await open(dir);
  // m{i="0"}: samples 0–369 from T0: chunks 0–119 and 120–239 flushed, 240–359 cut and not yet flushed, 360– open.
  await write(db, 1, 0, 250);
  await db.flush();
  await write(db, 1, 250, 120);
  // m{i="1"}: one sample, later.
  const a = db.appender();
  a.append(0, series(1), T0 + 400 * 15_000, 1);
  await a.commit();
  const names = (mint: number, maxt: number) => db.series([[{ type: "=", name: "__name__", value: "m" }]], mint, maxt).map((l) => l.get("i"));
  expect(names(-Infinity, Infinity)).toEqual(["0", "1"]);
  expect(names(T0 - 3_600_000, T0 - 1)).toEqual([]); // entirely before the data
  expect(names(T0, T0)).toEqual(["0"]); // the first sample, in the block store
  expect(names(T0 + 300 * 15_000, T0 + 301 * 15_000)).toEqual(["0"]); // in the chunk waiting for the block store
  expect(names(T0 + 365 * 15_000, T0 + 366 * 15_000)).toEqual(["0"]); // in the open chunk
  expect(names(T0 + 380 * 15_000, T0 + 400 * 15_000)).toEqual(["1"]);
  expect(names(T0 + 400 * 15_000 + 1, Infinity)).toEqual([]);
  expect(db.labelValues("i", [], T0 - 3_600_000, T0 - 1)).toEqual([]);
  expect(db.labelValues("i", [], T0 + 380 * 15_000, Infinity)).toEqual(["1"]);
  expect(db.labelNames([], T0 - 3_600_000, T0 - 1)).toEqual([]);
  expect(db.labelNames([], T0, T0 + 15_000)).toEqual(["__name__", "i"]);
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
  const opts = { dir, retentionMs: 0, retentionBytes: 0, registry: new Registry(), log: createLogger({ level: "error", format: "logfmt", write: () => {} }), now: () => T0 + 2 * 3_600_000, flushIntervalMs: 3_600_000, walSegmentSize: 1024 };
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

test("exemplars are stored on commit, survive a restart and a checkpoint, and a rolled-back one is not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
  const opts = { dir, retentionMs: 0, retentionBytes: 0, registry: new Registry(), log: createLogger({ level: "error", format: "logfmt", write: () => {} }), now: () => T0 + 2 * 3_600_000, flushIntervalMs: 3_600_000, walSegmentSize: 1024, maxExemplars: 1000 };
  const db = await Tsdb.open(opts);
  const trace = (k: number) => ({ labels: Labels.from({ trace_id: `t${k}` }), value: k, timestamp: T0 + k * 15_000 });
  for (let k = 0; k < 250; k++) {
    const a = db.appender();
    for (let i = 0; i < 3; i++) {
      const ref = a.append(0, series(i), T0 + k * 15_000, k) as number;
      if (i < 2 && k % 10 === 0) expect(a.appendExemplar(ref, trace(k))).toBeNull();
    }
    await a.commit();
  }
  const rolledBack = db.appender();
  const ref = rolledBack.append(0, series(0), T0 + 250 * 15_000, 250) as number;
  rolledBack.appendExemplar(ref, trace(250));
  await rolledBack.rollback();
  // The same exemplar again is a no-op; an older one is reported.
  const again = db.appender();
  const r0 = again.append(0, series(0), T0 + 251 * 15_000, 251) as number;
  expect(again.appendExemplar(r0, trace(240))).toBeNull();
  expect(again.appendExemplar(r0, trace(10))).toBe("out_of_order");
  await again.commit();

  const want = Array.from({ length: 25 }, (_, k) => T0 + k * 10 * 15_000);
  const stored = (d: Tsdb) => d.selectExemplars([[{ type: "=", name: "__name__", value: "m" }]], -Infinity, Infinity).map((s) => [s.seriesLabels.get("i"), s.exemplars.map((e) => e.timestamp)]);
  expect(stored(db)).toEqual([["0", want], ["1", want]]);
  expect(db.selectExemplars([[{ type: "=", name: "i", value: "1" }]], T0, T0 + 150_000)[0]!.exemplars.map((e) => [e.labels.get("trace_id"), e.value])).toEqual([["t0", 0], ["t10", 10]]);
  await db.flush(); // checkpoints: the exemplars of the deleted segments go into the checkpoint
  expect(readdirSync(join(dir, "wal")).some((f) => f.startsWith("checkpoint."))).toBe(true);
  await db.close();

  const reopened = await Tsdb.open({ ...opts, registry: new Registry() });
  expect(stored(reopened)).toEqual([["0", want], ["1", want]]);
  await reopened.close();
  // Without exemplar storage the WAL's exemplars are read and dropped; samples are all there.
  const off = await Tsdb.open({ ...opts, registry: new Registry(), maxExemplars: 0 });
  expect(stored(off)).toEqual([]);
  expect(values(off, 0)).toHaveLength(251); // 0..249 and 251; the rolled-back 250 is not there
  const a = off.appender();
  expect(a.appendExemplar(a.append(0, series(0), T0 + 300 * 15_000, 1) as number, trace(300))).toBe("disabled");
  await a.commit();
  await off.close();
});

test("exemplar metrics follow the storage", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
  const registry = new Registry();
  const db = await Tsdb.open({ dir, retentionMs: 0, retentionBytes: 0, registry, log: createLogger({ level: "error", format: "logfmt", write: () => {} }), now: () => T0, flushIntervalMs: 3_600_000, maxExemplars: 2 });
  const a = db.appender();
  for (let i = 0; i < 3; i++) a.appendExemplar(a.append(0, series(i), T0, 1) as number, { labels: Labels.from({ trace_id: "x" }), value: i, timestamp: T0 + i * 1000 });
  await a.commit();
  const text = registry.expose();
  expect(text).toContain("prometheus_tsdb_exemplar_exemplars_appended_total 3\n");
  expect(text).toContain("prometheus_tsdb_exemplar_exemplars_in_storage 2\n");
  expect(text).toContain("prometheus_tsdb_exemplar_series_with_exemplars_in_storage 2\n");
  expect(text).toContain("prometheus_tsdb_exemplar_max_exemplars 2\n");
  expect(text).toContain(`prometheus_tsdb_exemplar_last_exemplars_timestamp_seconds ${(T0 + 1000) / 1000}\n`);
  db.setMaxExemplars(10);
  expect(registry.expose()).toContain("prometheus_tsdb_exemplar_max_exemplars 10\n");
  await db.close();
});

describe("the head snapshot written at shutdown", () => {
  const NOW = () => T0 + 2 * 3_600_000;
  const openS = (dir: string, lines: string[] = [], snapshotOnShutdown = true) =>
    Tsdb.open({ dir, retentionMs: 0, retentionBytes: 0, registry: new Registry(), log: createLogger({ level: "info", format: "logfmt", write: (l) => lines.push(l) }), now: NOW, flushIntervalMs: 3_600_000, maxExemplars: 100, snapshotOnShutdown });
  const everything = (db: Tsdb) => db.select([{ type: "=", name: "__name__", value: "m" }], -Infinity, Infinity).map((s) => [s.labels.toString(), s.samples]);
  const exemplars = (db: Tsdb) => db.selectExemplars([[{ type: "=", name: "__name__", value: "m" }]], -Infinity, Infinity).map((s) => [s.seriesLabels.toString(), s.exemplars.map((e) => [e.labels.toString(), e.value, e.timestamp])]);

  /** 4 series with 130 samples each (a chunk in the block store, an open one), a stale marker, a removed series' ref gap, exemplars. */
  async function filled(dir: string): Promise<Tsdb> {
    const db = await openS(dir);
    await write(db, 4, 0, 130);
    await db.flush();
    const a = db.appender();
    const ref = a.append(0, series(1), T0 + 130 * 15_000, 130) as number;
    a.appendExemplar(ref, { labels: Labels.from({ trace_id: "abc" }), value: 130, timestamp: T0 + 130 * 15_000 });
    a.appendStale(a.append(0, series(2), T0 + 130 * 15_000, 7) as number, null, T0 + 131 * 15_000);
    await a.commit();
    return db;
  }

  test("after a clean shutdown the head comes back from the snapshot, the same as WAL replay gives it, and the file is gone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
    const db = await filled(dir);
    const want = everything(db);
    const wantExemplars = exemplars(db);
    expect(wantExemplars).toHaveLength(1);
    const crashed = `${dir}-crashed`;
    cpSync(dir, crashed, { recursive: true });
    await db.close();
    expect(existsSync(join(dir, "head.snapshot"))).toBe(true);

    const lines: string[] = [];
    const again = await openS(dir, lines);
    expect(again.loadedFrom).toBe("snapshot");
    expect(lines.join("\n")).toContain('msg="TSDB loaded from the head snapshot" series=4 unflushedChunks=0');
    expect(existsSync(join(dir, "head.snapshot"))).toBe(false);
    expect(everything(again)).toEqual(want);
    expect(exemplars(again)).toEqual(wantExemplars);
    const replayed = await openS(crashed, [], false);
    expect(replayed.loadedFrom).toBe("wal");
    expect(everything(replayed)).toEqual(want);
    expect(exemplars(replayed)).toEqual(wantExemplars);
    await replayed.close();
    expect(again.headStats(10)).toMatchObject({ numSeries: 4 });
    expect(again.labelValues("i", [], -Infinity, Infinity)).toEqual(["0", "1", "2", "3"]);
    await again.close();
  });

  test("a restored head goes on as before: appenders see the last samples, new series get new refs, and the WAL continues", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
    await (await filled(dir)).close();
    const db = await openS(dir);
    expect(db.loadedFrom).toBe("snapshot");
    const a = db.appender();
    // The last sample (t 129, value 129) is known: the same time with another value, and an older time, are turned away.
    expect(a.append(0, series(0), T0 + 129 * 15_000, 1)).toBe(APPEND_DUPLICATE);
    expect(a.append(0, series(0), T0 + 128 * 15_000, 128)).toBe(APPEND_OUT_OF_ORDER);
    a.append(0, series(0), T0 + 130 * 15_000, 130);
    a.append(0, series(9), T0 + 130 * 15_000, 9);
    await a.commit();
    const refs = [0, 1, 2, 3, 9].map((i) => db.head.refOf(series(i)));
    expect(new Set(refs).size).toBe(5);
    const want = everything(db);
    // A crash now: the WAL replay has the samples from before the snapshot and after it.
    const crashed = `${dir}-crashed`;
    cpSync(dir, crashed, { recursive: true });
    await db.close();
    const replayed = await openS(crashed, [], false);
    expect(replayed.loadedFrom).toBe("wal");
    expect(everything(replayed)).toEqual(want);
    expect(values(replayed, 0)).toHaveLength(131);
    await replayed.close();
    const again = await openS(dir);
    expect(again.loadedFrom).toBe("snapshot");
    expect(everything(again)).toEqual(want);
    await again.close();
  });

  test("a damaged snapshot is named in a warning and the WAL is replayed instead, losing nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
    const db = await filled(dir);
    const want = everything(db);
    await db.close();
    const path = join(dir, "head.snapshot");
    const bytes = readFileSync(path);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    writeFileSync(path, bytes);
    const lines: string[] = [];
    const again = await openS(dir, lines);
    expect(again.loadedFrom).toBe("wal");
    const warning = lines.find((l) => l.includes("Not using the head snapshot"))!;
    expect(warning).toContain(path);
    expect(warning).toContain("fails its CRC check");
    expect(everything(again)).toEqual(want);
    expect(existsSync(path)).toBe(false);
    await again.close();
  });

  test("a snapshot cut short, or not a snapshot at all, is refused with what is wrong with it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
    const db = await filled(dir);
    const want = everything(db);
    await db.close();
    const path = join(dir, "head.snapshot");
    const whole = readFileSync(path);
    for (const [bytes, why] of [[whole.subarray(0, whole.length >> 1), "past the end of the file"], [Buffer.from("hello"), "not a gleaner head snapshot"]] as const) {
      writeFileSync(path, bytes);
      const lines: string[] = [];
      const again = await openS(dir, lines, false);
      expect(lines.find((l) => l.includes("Not using the head snapshot"))).toContain(why);
      expect(everything(again)).toEqual(want);
      await again.close();
    }
  });

  test("a snapshot older than the WAL is not used: the samples written after it are replayed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
    await (await filled(dir)).close();
    const old = readFileSync(join(dir, "head.snapshot"));
    const db = await openS(dir, [], false);
    await write(db, 4, 200, 1);
    const want = everything(db);
    await db.close();
    writeFileSync(join(dir, "head.snapshot"), old);
    const lines: string[] = [];
    const again = await openS(dir, lines);
    expect(again.loadedFrom).toBe("wal");
    expect(lines.find((l) => l.includes("Not using the head snapshot"))).toContain("changed after the snapshot was taken");
    expect(everything(again)).toEqual(want);
    expect(values(again, 3).at(-1)).toBe(200);
    await again.close();
  });

  test("chunks not yet in the block store at shutdown go into the snapshot, and the next flush writes them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
    const db = await openS(dir);
    await write(db, 3, 0, 250); // two cut chunks per series, not flushed
    const want = everything(db);
    await db.close();
    const lines: string[] = [];
    const again = await openS(dir, lines);
    expect(again.loadedFrom).toBe("snapshot");
    expect(again.blocks.chunks([1, 2, 3], -Infinity, Infinity)).toHaveLength(0);
    expect(everything(again)).toEqual(want);
    await again.flush();
    expect(again.blocks.chunks([1, 2, 3], -Infinity, Infinity)).toHaveLength(6);
    expect(everything(again)).toEqual(want);
    await again.close();
    const third = await openS(dir);
    expect(everything(third)).toEqual(want);
    await third.close();
  });

  test("with snapshotOnShutdown off, close() writes none", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
    const db = await openS(dir, [], false);
    await write(db, 2, 0, 3);
    await db.close();
    expect(existsSync(join(dir, "head.snapshot"))).toBe(false);
    expect(existsSync(join(dir, "head.snapshot.tmp"))).toBe(false);
  });
});

for (const flush of [false, true]) test(`selectColumnsSteps() sees every sample once while chunks are cut${flush ? " and flushed" : ""} between its steps`, async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
  const db = await open(dir);
  const n = 300;
  await write(db, n, 0, 119); // one sample short of a full chunk
  const matchers = [{ type: "=" as const, name: "__name__", value: "m" }];
  const steps = db.selectColumnsSteps(matchers, -Infinity, Infinity);
  for (let k = 0; k < 4; k++) steps.next(); // some series read, most not
  await write(db, n, 119, 3); // every open chunk is cut and a new one started
  if (flush) await db.flush(); // the cut chunks move to the block store
  let r = steps.next();
  while (r.done !== true) r = steps.next();
  const cols = r.value;
  expect(cols).toHaveLength(n);
  for (const c of cols) {
    const v = Array.from(c.v);
    // Either the series was read before the writes or after them: never a sample lost or twice.
    expect(v.length === 119 || v.length === 122).toBe(true);
    expect(v).toEqual(Array.from({ length: v.length }, (_, k) => k));
  }
  expect(cols.some((c) => c.v.length === 122)).toBe(true);
  expect(cols.map((c) => c.labels.key)).toEqual(db.selectColumns(matchers, -Infinity, Infinity).map((c) => c.labels.key));
  await db.close();
});

test("the series and label index give the same answers in steps as at once", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-tsdb-"));
  const db = await open(dir);
  await write(db, 2000, 0, 2);
  const drainSteps = <T>(g: Generator<number, T, void>): T => {
    let r = g.next();
    while (r.done !== true) r = g.next();
    return r.value;
  };
  const sets = [[{ type: "=~" as const, name: "i", value: "1.*" }], [{ type: "=~" as const, name: "i", value: ".*7" }]];
  const series = drainSteps(db.seriesSteps(sets, -Infinity, Infinity));
  expect(series.map((l) => l.get("i"))).toEqual(Array.from({ length: 2000 }, (_, i) => String(i)).filter((i) => i.startsWith("1") || i.endsWith("7")).sort());
  expect(drainSteps(db.labelValuesSteps("i", [], -Infinity, Infinity))).toHaveLength(2000);
  expect(drainSteps(db.labelNamesSteps([], -Infinity, Infinity))).toEqual(["__name__", "i"]);
  await db.close();
});
