import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtemp, readdir, rm, stat, truncate, readFile, writeFile, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Labels } from "../../../core/model/labels.ts";
import { type CheckpointStep, Wal, type WalOptions, type WalSamples, type WalSeries } from "./index.ts";
import { txSamples, txSeries } from "./crash-writer.ts";
import { rng } from "../../../test/support/random.ts";
import { Encoder } from "./codec.ts";
import { packRecordSync } from "./compress.ts";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "wal-test-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function samples(rows: { ref: number; t: number; v: number; stale?: boolean }[]): WalSamples {
  const n = rows.length;
  const s: WalSamples = { count: n, refs: new Uint32Array(n), ts: new Float64Array(n), values: new Float64Array(n), stale: new Uint8Array(n) };
  rows.forEach((r, i) => {
    s.refs[i] = r.ref;
    s.ts[i] = r.t;
    s.values[i] = r.stale ? Number.NaN : r.v;
    s.stale[i] = r.stale ? 1 : 0;
  });
  return s;
}

async function collect(opts: WalOptions) {
  const wal = await Wal.open(opts);
  const series: WalSeries[] = [];
  const batches: WalSamples[] = [];
  const result = await wal.replay({ series: (s) => series.push(s), samples: (s) => batches.push(s) });
  return { wal, series, batches, result };
}

/** The transaction numbers (crash-writer layout) present in replayed sample batches, checked whole. */
function txNumbers(batches: WalSamples[]): number[] {
  return batches.map((b) => {
    const k = b.refs[0]! - 1;
    const want = txSamples(k);
    expect(b.count).toBe(want.count);
    expect([...b.refs]).toEqual([...want.refs]);
    expect([...b.ts]).toEqual([...want.ts]);
    expect([...b.stale]).toEqual([...want.stale]);
    expect([...b.values]).toEqual([...want.values]); // toEqual treats NaN as equal to NaN
    return k;
  });
}

async function commitTx(wal: Wal, from: number, to: number): Promise<void> {
  for (let k = from; k < to; k++) await wal.commit([txSeries(k)], txSamples(k));
}

const segFile = (n: number) => join(dir, String(n).padStart(8, "0"));

/** Where each record of a WAL file starts, from its framing, and last where the records end. */
function recordStarts(b: Uint8Array): number[] {
  const starts: number[] = [];
  let p = 0;
  while (p + 5 <= b.length) {
    starts.push(p);
    p += 5 + new DataView(b.buffer, b.byteOffset + p + 1, 4).getUint32(0, true) + 4;
  }
  starts.push(p);
  return starts;
}

/**
 * A segment size that holds exactly two consecutive crash-writer transactions of 0..count−1,
 * as commitTx() writes them (compressed records differ in size from one transaction to the next).
 */
function twoPerSegment(count: number): number {
  const enc = new Encoder();
  const size = [...Array(count).keys()].map((k) => packRecordSync(enc.encodeBody([txSeries(k)], txSamples(k))).length);
  let seg = 0;
  for (let j = 0; j + 1 < count; j += 2) seg = Math.max(seg, size[j]! + size[j + 1]!);
  for (let j = 0; j + 2 < count; j += 2) if (size[j]! + size[j + 1]! + size[j + 2]! <= seg) throw new Error(`no segment size holds exactly two of transactions 0..${count - 1}`);
  return seg;
}

test("replay() returns the series and samples committed, bit for bit, including StaleNaN, NaN, ±Inf and -0", async () => {
  const wal = await Wal.open({ dir });
  const series = [
    { ref: 1, labels: Labels.from({ __name__: "up", job: "node" }) },
    { ref: 4294967295, labels: Labels.from({ __name__: "ünïcödé_😀", long: "x".repeat(500) }) },
    { ref: 7, labels: Labels.EMPTY },
  ];
  const rows = [
    { ref: 1, t: 1700000000000, v: 1 },
    { ref: 4294967295, t: 1700000000000, v: Number.NaN },
    { ref: 0, t: 1700000000000, v: 0, stale: true },
    { ref: 7, t: 1700000000001, v: Number.POSITIVE_INFINITY },
    { ref: 3, t: 1699999999000, v: Number.NEGATIVE_INFINITY },
    { ref: 2, t: 1700000000000, v: -0 },
    { ref: 1, t: 1700000000000, v: Number.MAX_VALUE },
    { ref: 1, t: 1700000000000, v: Number.MIN_VALUE },
  ];
  await wal.commit(series, samples(rows));
  // Timestamps whose deltas do not fit an int32 take the raw encoding.
  const huge = samples([
    { ref: 1, t: Number.MAX_SAFE_INTEGER, v: 1 },
    { ref: 1, t: -Number.MAX_SAFE_INTEGER, v: 2 },
    { ref: 1, t: 8.64e15, v: 3, stale: true },
    { ref: 1, t: 0, v: 4 },
  ]);
  await wal.commit([], huge);
  await wal.commit([{ ref: 9, labels: Labels.from({ a: "b" }) }], samples([]));
  await wal.close();

  const { series: got, batches, result } = await collect({ dir });
  expect(result).toEqual({ records: 3, samples: 12, corruption: null });
  expect(got.map((s) => [s.ref, s.labels.key])).toEqual([...series, { ref: 9, labels: Labels.from({ a: "b" }) }].map((s) => [s.ref, s.labels.key]));
  const [a, b] = batches;
  expect([...a!.refs]).toEqual(rows.map((r) => r.ref));
  expect([...a!.ts]).toEqual(rows.map((r) => r.t));
  expect([...a!.stale]).toEqual([0, 0, 1, 0, 0, 0, 0, 0]);
  expect(Number.isNaN(a!.values[1]!)).toBe(true);
  expect(Number.isNaN(a!.values[2]!)).toBe(true);
  expect(Object.is(a!.values[5], -0)).toBe(true);
  expect([a!.values[0], a!.values[3], a!.values[4], a!.values[6], a!.values[7]]).toEqual([1, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE]);
  // The StaleNaN bits themselves survive, and a plain NaN is not mistaken for one.
  const bits = new Uint32Array(a!.values.buffer);
  expect([bits[4], bits[5]]).toEqual([0x00000002, 0x7ff00000]);
  expect([...b!.ts]).toEqual([...huge.ts]);
  expect([...b!.stale]).toEqual([0, 0, 1, 0]);
});

test("commit() starts a new segment when a record would exceed segmentSize, and replay keeps the order", async () => {
  const wal = await Wal.open({ dir, segmentSize: 2048 });
  await wal.replay({ series() {}, samples() {} });
  await commitTx(wal, 0, 30);
  expect(wal.segment).toBeGreaterThan(3);
  expect(wal.stats().segments).toBe(wal.segment + 1);
  for (const n of await readdir(dir)) expect((await stat(join(dir, n))).size).toBeLessThanOrEqual(2048);
  await wal.close();
  const { batches, series, result } = await collect({ dir, segmentSize: 2048 });
  expect(result.corruption).toBeNull();
  expect(txNumbers(batches)).toEqual([...Array(30).keys()]);
  expect(series.map((s) => s.ref)).toEqual([...Array(30).keys()].map((k) => k + 1));
});

test("a record larger than segmentSize gets a segment of its own", async () => {
  const wal = await Wal.open({ dir, segmentSize: 256 });
  await wal.replay({ series() {}, samples() {} });
  await commitTx(wal, 0, 3);
  await wal.close();
  expect((await readdir(dir)).sort()).toEqual(["00000000", "00000001", "00000002"]);
  expect(txNumbers((await collect({ dir })).batches)).toEqual([0, 1, 2]);
});

test("with fsyncIntervalMs 0 every commit is fsynced before it resolves, and concurrent commits share an fsync", async () => {
  const wal = await Wal.open({ dir });
  await wal.replay({ series() {}, samples() {} });
  for (let k = 0; k < 5; k++) {
    await wal.commit([txSeries(k)], txSamples(k));
    expect(wal.stats().fsyncs).toBe(k + 1);
  }
  await Promise.all([...Array(10).keys()].map((k) => wal.commit([], txSamples(k + 5))));
  expect(wal.stats().fsyncs).toBeLessThanOrEqual(7);
  expect(wal.stats().records).toBe(15);
  await wal.close();
});

test("with fsyncIntervalMs > 0 commits resolve only after a covering fsync, and fsyncs happen at most that often", async () => {
  // A long interval keeps the timing margins wide on a loaded machine.
  const wal = await Wal.open({ dir, fsyncIntervalMs: 1_000 });
  await wal.replay({ series() {}, samples() {} });
  const t0 = performance.now();
  await Promise.all([...Array(10).keys()].map((k) => wal.commit([], txSamples(k))));
  const atMost = () => 1 + Math.floor((performance.now() - t0) / 1_000);
  expect(wal.stats().fsyncs).toBeLessThanOrEqual(atMost()); // the first fsync may come at once
  const before = wal.stats().fsyncs;
  let resolved = false;
  const p = wal.commit([], txSamples(10)).then(() => {
    resolved = true;
  });
  await Bun.sleep(60);
  if (performance.now() - t0 < 900) expect(resolved).toBe(false); // written, but no fsync yet covers it
  await p;
  expect(wal.stats().fsyncs).toBe(before + 1);
  expect(wal.stats().fsyncs).toBeLessThanOrEqual(atMost());
  // close() does not wait for the interval: it fsyncs what is pending.
  const last = wal.commit([], txSamples(11));
  await wal.close();
  await last;
  expect(wal.stats().fsyncs).toBe(before + 2);
  await expect(wal.commit([], txSamples(12))).rejects.toThrow("closed");
});

test("a torn last record is reported, the file truncated there, and writing continues after it", async () => {
  let wal = await Wal.open({ dir });
  await wal.replay({ series() {}, samples() {} });
  await commitTx(wal, 0, 5);
  await wal.close();
  const full = (await stat(segFile(0))).size;
  const lastStart = recordStarts(await readFile(segFile(0)))[4]!;
  await truncate(segFile(0), full - 100);
  const r1 = await collect({ dir });
  expect(r1.result.corruption).toEqual({ segment: 0, offset: lastStart, reason: expect.stringContaining("torn record") });
  expect(txNumbers(r1.batches)).toEqual([0, 1, 2, 3]);
  expect((await stat(segFile(0))).size).toBe(lastStart);
  wal = r1.wal;
  await commitTx(wal, 4, 6);
  expect(wal.segment).toBe(0);
  await wal.close();
  const r2 = await collect({ dir });
  expect(r2.result.corruption).toBeNull();
  expect(txNumbers(r2.batches)).toEqual([0, 1, 2, 3, 4, 5]);
  expect(r2.wal.stats().corruptions).toBe(0);
  expect(r1.wal.stats().corruptions).toBe(1);
});

test("a flipped byte in the last record fails its CRC: the record is dropped, earlier ones kept", async () => {
  const wal = await Wal.open({ dir });
  await commitTx(wal, 0, 4);
  await wal.close();
  const bytes = await readFile(segFile(0));
  const lastStart = recordStarts(bytes)[3]!;
  const at = Math.floor((lastStart + bytes.length) / 2);
  bytes[at] = bytes[at]! ^ 0x10;
  await writeFile(segFile(0), bytes);
  const { result, batches } = await collect({ dir });
  expect(result.corruption).toEqual({ segment: 0, offset: lastStart, reason: "CRC mismatch" });
  expect(txNumbers(batches)).toEqual([0, 1, 2]);
});

test("a tail of zero bytes (a file extended but not written before a crash) is cut off", async () => {
  const wal = await Wal.open({ dir });
  await commitTx(wal, 0, 2);
  await wal.close();
  const size = (await stat(segFile(0))).size;
  await appendFile(segFile(0), new Uint8Array(4096));
  const { result, batches } = await collect({ dir });
  expect(result.corruption).toEqual({ segment: 0, offset: size, reason: expect.stringContaining("zero bytes") });
  expect(txNumbers(batches)).toEqual([0, 1]);
});

test("corruption in an older segment keeps its intact prefix and replays the later segments", async () => {
  const segmentSize = twoPerSegment(13);
  const wal = await Wal.open({ dir, segmentSize });
  await commitTx(wal, 0, 12);
  await wal.close();
  // Two records fit a segment: segment 1 holds tx 2 and 3.
  const seg1 = await readFile(segFile(1));
  const rec = recordStarts(seg1)[1]!;
  expect((await readdir(dir)).length).toBe(6);
  seg1[rec + 20] = seg1[rec + 20]! ^ 0xff;
  await writeFile(segFile(1), seg1);
  const r1 = await collect({ dir, segmentSize });
  expect(r1.result.corruption).toEqual({ segment: 1, offset: rec, reason: "CRC mismatch" });
  expect(txNumbers(r1.batches)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);
  // Writing continues in the last segment, not in the repaired one.
  await commitTx(r1.wal, 12, 13);
  expect(r1.wal.segment).toBe(6);
  await r1.wal.close();
  const r2 = await collect({ dir });
  expect(r2.result.corruption).toBeNull();
  expect(txNumbers(r2.batches)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
});

test("committing without a replay never appends behind a possibly torn tail: it starts a new segment", async () => {
  const wal = await Wal.open({ dir });
  await commitTx(wal, 0, 2);
  await wal.close();
  await truncate(segFile(0), (await stat(segFile(0))).size - 7);
  const again = await Wal.open({ dir });
  await commitTx(again, 2, 3);
  expect(again.segment).toBe(1);
  await again.close();
  const { result, batches } = await collect({ dir });
  expect(result.corruption?.segment).toBe(0);
  expect(txNumbers(batches)).toEqual([0, 2]);
});

test("checkpoint() keeps the live series and deletes older segments: replay gives them plus only newer samples", async () => {
  const segmentSize = twoPerSegment(13);
  let wal = await Wal.open({ dir, segmentSize });
  await wal.replay({ series() {}, samples() {} });
  await commitTx(wal, 0, 10);
  const seg = await wal.cut();
  expect(seg).toBe(5);
  await commitTx(wal, 10, 13);
  const live = [0, 4, 8].map(txSeries);
  await wal.checkpoint(live, seg);
  expect(wal.stats()).toMatchObject({ truncations: 1, segments: 2 });
  expect((await readdir(dir)).sort()).toEqual(["00000005", "00000006", "checkpoint.00000005"]);
  await wal.close();

  let r = await collect({ dir, segmentSize });
  expect(r.result.corruption).toBeNull();
  expect(r.series.map((s) => s.ref)).toEqual([1, 5, 9, 11, 12, 13]);
  expect(r.series[1]!.labels.key).toBe(txSeries(4).labels.key);
  expect(txNumbers(r.batches)).toEqual([10, 11, 12]);
  expect(r.result.records).toBe(4); // one checkpoint record, three transactions

  // A second checkpoint replaces the first.
  wal = r.wal;
  await commitTx(wal, 13, 15);
  const seg2 = await wal.cut();
  await wal.checkpoint([txSeries(12)], seg2);
  await expect(wal.checkpoint([], seg2 + 1)).rejects.toThrow(RangeError);
  await wal.close();
  expect((await readdir(dir)).sort()).toEqual([`0000000${seg2}`, `checkpoint.0000000${seg2}`]);
  r = await collect({ dir });
  expect(r.series.map((s) => s.ref)).toEqual([13]);
  expect(r.batches).toEqual([]);
  await r.wal.close();
});

for (const abortAt of ["written", "renamed", "segments-deleted", "done"] as CheckpointStep[]) {
  test(`a checkpoint aborted after step "${abortAt}" loses nothing on the next replay`, async () => {
    const wal = await Wal.open({
      dir,
      segmentSize: 8192,
      hooks: {
        checkpointStep(step) {
          if (step === abortAt) throw new Error(`abort at ${step}`);
        },
      },
    });
    await wal.replay({ series() {}, samples() {} });
    await commitTx(wal, 0, 6);
    const seg = await wal.cut();
    await commitTx(wal, 6, 8);
    await expect(wal.checkpoint([0, 2, 4].map(txSeries), seg)).rejects.toThrow(`abort at ${abortAt}`);
    await wal.close();
    const { series, batches, result, wal: reopened } = await collect({ dir });
    expect(result.corruption).toBeNull();
    const refs = new Set(series.map((s) => s.ref));
    for (const k of [0, 2, 4, 6, 7]) expect(refs.has(k + 1)).toBe(true);
    const got = txNumbers(batches);
    expect(got.slice(-2)).toEqual([6, 7]);
    // Either the old state (everything) or the new one (checkpoint + newer segments).
    expect(got.length === 8 || got.length === 2).toBe(true);
    expect((await readdir(dir)).some((n) => n.endsWith(".tmp"))).toBe(false);
    await reopened.close();
  });
}

test("open() rejects bad options with errors that name the value", async () => {
  await expect(Wal.open({ dir: "" })).rejects.toThrow(TypeError);
  await expect(Wal.open({ dir, segmentSize: 10 })).rejects.toThrow("segmentSize must be an integer ≥ 64 bytes, got 10");
  await expect(Wal.open({ dir, fsyncIntervalMs: -1 })).rejects.toThrow("fsyncIntervalMs must be ≥ 0, got -1");
});

test("commit() rejects samples whose count exceeds the arrays and writes nothing", async () => {
  const wal = await Wal.open({ dir });
  const bad = { ...samples([{ ref: 1, t: 1, v: 1 }]), count: 2 };
  await expect(wal.commit([], bad)).rejects.toThrow(RangeError);
  expect(wal.stats().records).toBe(0);
  await wal.close();
});

test("random refs, timestamps and value bits survive byte for byte (varint and delta edge cases)", async () => {
  const wal = await Wal.open({ dir });
  const r = rng(42);
  const edges = [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
  const sent: WalSamples[] = [];
  for (let k = 0; k < 20; k++) {
    const n = 1 + Math.floor(r() * 500);
    const s: WalSamples = { count: n, refs: new Uint32Array(n), ts: new Float64Array(n), values: new Float64Array(n), stale: new Uint8Array(n) };
    const raw = k % 3 === 0; // every third batch has timestamp jumps beyond int32
    let t = Math.floor((r() - 0.5) * 2 ** 52);
    const bits = new Uint32Array(s.values.buffer);
    for (let i = 0; i < n; i++) {
      s.refs[i] = r() < 0.2 ? edges[Math.floor(r() * edges.length)]! : Math.floor(r() * 2 ** 32);
      t += raw && r() < 0.3 ? Math.floor((r() - 0.5) * 2 ** 40) : Math.floor((r() - 0.5) * 2 ** 31);
      s.ts[i] = Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, t));
      bits[2 * i] = Math.floor(r() * 2 ** 32);
      bits[2 * i + 1] = Math.floor(r() * 2 ** 32);
      if (r() < 0.1) {
        s.stale[i] = 1;
        bits[2 * i] = 2;
        bits[2 * i + 1] = 0x7ff00000;
      }
    }
    sent.push(s);
    await wal.commit([], s);
  }
  await wal.close();
  const { batches } = await collect({ dir });
  expect(batches.length).toBe(sent.length);
  batches.forEach((b, k) => {
    const s = sent[k]!;
    expect(b.count).toBe(s.count);
    expect([...b.refs]).toEqual([...s.refs]);
    expect([...b.ts]).toEqual([...s.ts]);
    expect([...b.stale]).toEqual([...s.stale]);
    expect(Buffer.from(b.values.buffer, 0, b.count * 8).equals(Buffer.from(s.values.buffer, 0, s.count * 8))).toBe(true);
  });
});

test("a last record cut at any byte is dropped whole, and the records before it are kept", async () => {
  const wal = await Wal.open({ dir });
  await commitTx(wal, 0, 3);
  await wal.close();
  const full = await readFile(segFile(0));
  const last = recordStarts(full)[2]!;
  const rec = full.length - last;
  for (const cut of [1, 2, 4, 5, 6, 9, 100, rec - 5, rec - 4, rec - 1]) {
    await writeFile(segFile(0), full.subarray(0, last + cut));
    const { result, batches, wal: w } = await collect({ dir });
    expect(result.corruption?.offset).toBe(last);
    expect(txNumbers(batches)).toEqual([0, 1]);
    await w.close();
  }
});

test("a record with a valid CRC but a malformed payload is reported as corruption", async () => {
  const wal = await Wal.open({ dir });
  await commitTx(wal, 0, 1);
  await wal.close();
  const payload = new Uint8Array([0, 5, 1]); // 5 samples announced, 1 byte of them
  const rec = new Uint8Array(5 + payload.length + 4);
  rec[0] = 1;
  new DataView(rec.buffer).setUint32(1, payload.length, true);
  rec.set(payload, 5);
  new DataView(rec.buffer).setUint32(5 + payload.length, Bun.hash.crc32(rec.subarray(0, 5 + payload.length)), true);
  await appendFile(segFile(0), rec);
  const { result, batches } = await collect({ dir });
  expect(result.corruption?.reason).toStartWith("malformed payload");
  expect(txNumbers(batches)).toEqual([0]);
});

test("an error thrown by a replay handler propagates and is not taken for corruption", async () => {
  const wal = await Wal.open({ dir });
  await commitTx(wal, 0, 2);
  await wal.close();
  const size = (await stat(segFile(0))).size;
  const again = await Wal.open({ dir });
  await expect(
    again.replay({
      series() {
        throw new Error("head full");
      },
      samples() {},
    }),
  ).rejects.toThrow("head full");
  expect((await stat(segFile(0))).size).toBe(size);
});

test("commits made while a checkpoint runs are all replayed after it", async () => {
  const wal = await Wal.open({ dir, segmentSize: 8192 });
  await wal.replay({ series() {}, samples() {} });
  await commitTx(wal, 0, 6);
  const seg = await wal.cut();
  const during = [...Array(10).keys()].map((i) => wal.commit([txSeries(6 + i)], txSamples(6 + i)));
  await Promise.all([wal.checkpoint([txSeries(1)], seg), ...during]);
  await wal.close();
  const { series, batches, result } = await collect({ dir });
  expect(result.corruption).toBeNull();
  expect(series.map((s) => s.ref)).toEqual([2, ...Array.from({ length: 10 }, (_, i) => 7 + i)]);
  expect(txNumbers(batches)).toEqual(Array.from({ length: 10 }, (_, i) => 6 + i));
});

test("exemplars round-trip with their transaction, also without samples, and records without them still read", async () => {
  const wal = await Wal.open({ dir });
  await wal.replay({ series: () => {}, samples: () => {} });
  const ex = [
    { ref: 7, t: 1_700_000_000_123, v: 0.25, labels: Labels.from({ trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span: "ü→🙂" }) },
    { ref: 3, t: -5, v: -0, labels: Labels.EMPTY },
    { ref: 9, t: 2 ** 53 - 1, v: Number.POSITIVE_INFINITY, labels: Labels.from({ a: "" }) },
  ];
  await wal.commit([{ ref: 7, labels: Labels.from({ __name__: "x" }) }], samples([{ ref: 7, t: 1, v: 1 }]));
  await wal.commit([], { ...samples([{ ref: 7, t: 2, v: 2 }]), exemplars: ex });
  await wal.commit([], { ...samples([]), exemplars: [ex[0]!] });
  await wal.close();
  const again = await Wal.open({ dir });
  const got: Array<typeof ex> = [];
  const batches: WalSamples[] = [];
  const res = await again.replay({ series: () => {}, samples: (s) => batches.push(s), exemplars: (e) => got.push(e) });
  expect(res.corruption).toBeNull();
  expect(res.records).toBe(3);
  expect(batches.map((b) => [...b.ts])).toEqual([[1], [2]]);
  expect(got).toHaveLength(2);
  expect(got[0]!.map((e) => [e.ref, e.t, Object.is(e.v, -0) ? "-0" : e.v, e.labels.toString()])).toEqual(ex.map((e) => [e.ref, e.t, Object.is(e.v, -0) ? "-0" : e.v, e.labels.toString()]));
  expect(got[1]![0]!.labels.get("span")).toBe("ü→🙂");
  await again.close();
});

test("a checkpoint keeps the exemplars handed to it, after the live series", async () => {
  const wal = await Wal.open({ dir, segmentSize: 256 });
  await wal.replay({ series: () => {}, samples: () => {} });
  for (let k = 0; k < 20; k++) await wal.commit([{ ref: k + 1, labels: Labels.from({ __name__: "m", k: String(k) }) }], samples([{ ref: k + 1, t: k, v: k }]));
  const held = [{ ref: 2, t: 5, v: 1, labels: Labels.from({ trace_id: "a" }) }, { ref: 20, t: 6, v: 2, labels: Labels.from({ trace_id: "b" }) }];
  await wal.checkpoint([{ ref: 2, labels: Labels.from({ __name__: "m", k: "1" }) }, { ref: 20, labels: Labels.from({ __name__: "m", k: "19" }) }], wal.segment, held);
  await wal.close();
  const again = await Wal.open({ dir, segmentSize: 256 });
  const order: string[] = [];
  await again.replay({ series: (s) => order.push(`s${s.ref}`), samples: () => {}, exemplars: (e) => order.push(...e.map((x) => `e${x.ref}@${x.t}`)) });
  expect(order.slice(0, 4)).toEqual(["s2", "s20", "e2@5", "e20@6"]);
  await again.close();
});
