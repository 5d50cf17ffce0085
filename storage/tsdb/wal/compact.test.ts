import { afterEach, beforeEach, expect, test } from "bun:test";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Labels } from "../../../core/model/labels.ts";
import { rng } from "../../../test/support/random.ts";
import { Encoder, HEADER_BYTES, RECORD_TX, RECORD_TX_Z, writeU32 } from "./codec.ts";
import { decodeRecord, packRecord, packRecordSync, SERIES_SLICE } from "./compress.ts";
import { Wal, type WalExemplar, type WalSamples, type WalSeries } from "./index.ts";
import { nextRecord } from "./reader.ts";
import { SCRAPE_SAMPLES, scrapeCommit, scrapeSeries } from "./scrape-workload.ts";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "wal-compact-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const segFile = (n: number) => join(dir, String(n).padStart(8, "0"));
const STALE: [number, number] = [0x00000002, 0x7ff00000];

/** Samples from value bit patterns [lo, hi] (or numbers), refs 1.., one timestamp. */
function fromBits(vals: Array<number | [number, number]>, staleAt: number[] = [], t = 1_700_000_000_000): WalSamples {
  const n = vals.length;
  const s: WalSamples = { count: n, refs: new Uint32Array(n), ts: new Float64Array(n).fill(t), values: new Float64Array(n), stale: new Uint8Array(n) };
  const bits = new Uint32Array(s.values.buffer);
  vals.forEach((v, i) => {
    s.refs[i] = i + 1;
    if (typeof v === "number") s.values[i] = v;
    else [bits[2 * i], bits[2 * i + 1]] = v;
  });
  for (const i of staleAt) s.stale[i] = 1;
  return s;
}

/** Encodes as the WAL does (type 2, stored or zstd) and decodes the record again. */
function roundTrip(series: WalSeries[], s: WalSamples) {
  const rec = packRecordSync(new Encoder().encodeBody(series, s));
  expect(rec[0]).toBe(RECORD_TX_Z);
  return { rec, tx: decodeRecord(RECORD_TX_Z, rec, HEADER_BYTES, rec.length - 4) };
}

/** The bits and stale flags a batch must come back with: stale ones become StaleNaN, StaleNaN bits are stale. */
function expectSameSamples(got: WalSamples | null, want: WalSamples): void {
  expect(got).not.toBeNull();
  const n = want.count;
  expect(got!.count).toBe(n);
  expect([...got!.refs]).toEqual([...want.refs.subarray(0, n)]);
  expect([...got!.ts]).toEqual([...want.ts.subarray(0, n)]);
  const wb = new Uint32Array(want.values.buffer, want.values.byteOffset, 2 * n);
  const gb = new Uint32Array(got!.values.buffer, got!.values.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) {
    const stale = want.stale[i] === 1 || (wb[2 * i] === STALE[0] && wb[2 * i + 1] === STALE[1]);
    const bits = want.stale[i] === 1 ? STALE : [wb[2 * i]!, wb[2 * i + 1]!];
    expect([i, gb[2 * i], gb[2 * i + 1]]).toEqual([i, bits[0], bits[1]]);
    expect([i, got!.stale[i]]).toEqual([i, stale ? 1 : 0]);
  }
}

/** The layout byte of a body without series: tsMode in bits 0–1, refsMode in bits 2–3. */
function layoutOf(s: WalSamples): number {
  const body = new Encoder().encodeBody([], s);
  let p = 1;
  while (body[p]! >= 0x80) p++;
  return body[p + 1]!;
}

test("every value class round-trips bit for bit: integers, big integers, -0, decimals, floats, NaN payloads, StaleNaN, ±Inf", () => {
  const ints = [0, 1, -1, 0, 127, 128, -128, 255, 256, 65535, 65536, 2 ** 24, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 25_398_041, 25_398_041, 25_398_077];
  const wide = [2 ** 52, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53 - 1, 0, 2 ** 53, 2 ** 53 + 2, 2 ** 60, -(2 ** 63), 1e300, -1e300, 1e21];
  const decimals = [18.23, -0.5, 0.1, 0.2, 0.1 + 0.2, 0.3, 1e-10, 123456.789, 99.99, 1.5e-15, 0.001, 2212187.5384212, -18.2, 5e-16, 8.7e12 + 0.5];
  const floats = [Math.PI, Math.E, 2212187.538421234, Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 2.2250738585072014e-308, 1 / 3, -2 / 3, 1.7976931348623157e308];
  const special: Array<[number, number]> = [
    [0, 0x80000000], // -0
    [0, 0x7ff80000], // the canonical NaN
    [1, 0x7ff80000],
    [0, 0xfff80000], // a negative NaN
    [1, 0x7ff00000], // signalling NaNs
    [3, 0x7ff00000],
    [0xffffffff, 0x7fffffff],
    [0xffffffff, 0xffffffff],
    [0, 0x7ff00000], // +Inf
    [0, 0xfff00000], // -Inf
    STALE,
  ];
  const vals: Array<number | [number, number]> = [...ints, ...wide, ...decimals, ...floats, ...special, -0, 7, -0, 0];
  const s = fromBits(vals, [3, vals.length - 1]); // stale flags on an integer and on +0: their bits become StaleNaN
  const { tx } = roundTrip([], s);
  expectSameSamples(tx.samples, s);
  const v = tx.samples!.values;
  expect(Object.is(v[vals.length - 4], -0)).toBe(true);
  expect(Object.is(v[vals.length - 2], -0)).toBe(true);
  // A plain NaN is not stale; StaleNaN bits are, with or without the flag.
  const at = (bits: [number, number]) => vals.findIndex((x) => Array.isArray(x) && x[0] === bits[0] && x[1] === bits[1]);
  expect(tx.samples!.stale[at([0, 0x7ff80000])]).toBe(0);
  expect(tx.samples!.stale[at(STALE)]).toBe(1);
});

test("small integers, repeats and short decimals take few bytes; everything else keeps its 8", () => {
  const size = (vals: number[]) => new Encoder().encodeBody([], fromBits(vals)).length;
  const base = size([]);
  const n = 1000;
  const counters = Array.from({ length: n }, (_, i) => 25_000_000 + i * 37);
  expect(size(counters)).toBeLessThan(base + n * 1.6 + 16); // delta 37: a byte and a half-byte code
  expect(size(Array(n).fill(0))).toBeLessThan(base + n * 0.5 + 16); // zeros: the code only
  expect(size(Array.from({ length: n }, (_, i) => Number(((i * 7919) % 10_000 / 100).toFixed(2))))).toBeLessThan(base + n * 3.5 + 16); // 2-decimal gauges: zz(m)·16 + k in 3 bytes
  expect(size(Array.from({ length: n }, (_, i) => Math.PI * (i + 1)))).toBeGreaterThanOrEqual(n * 8.5);
});

test("random value bits, stale flags and mixes of every class survive byte for byte", () => {
  const r = rng(7);
  for (let round = 0; round < 30; round++) {
    const n = 1 + Math.floor(r() * 700);
    const vals: Array<number | [number, number]> = [];
    const staleAt: number[] = [];
    for (let i = 0; i < n; i++) {
      const k = r();
      if (k < 0.3) vals.push([Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32)]);
      else if (k < 0.5) vals.push(Math.floor((r() - 0.5) * 2 ** (1 + Math.floor(r() * 60))));
      else if (k < 0.65) vals.push(Math.round((r() - 0.5) * 10 ** Math.floor(r() * 12)) / 10 ** Math.floor(r() * 16));
      else if (k < 0.75) vals.push(vals.length > 0 && typeof vals[vals.length - 1] === "number" ? (vals[vals.length - 1] as number) : 0);
      else if (k < 0.8) vals.push(STALE);
      else vals.push((r() - 0.5) * 10 ** Math.floor(r() * 30 - 10));
      if (r() < 0.05) staleAt.push(i);
    }
    const s = fromBits(vals, staleAt);
    expectSameSamples(roundTrip([], s).tx.samples, s);
  }
});

test("timestamps come back exact: shared, int32 deltas, huge gaps and negative ones", () => {
  const cases: Array<{ ts: number[]; mode: number }> = [
    { ts: [1_700_000_000_000], mode: 0 },
    { ts: Array(500).fill(1_700_000_000_000), mode: 0 },
    { ts: Array(5).fill(-5), mode: 0 },
    { ts: Array.from({ length: 500 }, (_, i) => 1_700_000_000_000 + i * 15 - (i % 7)), mode: 1 },
    { ts: [0, -1, -(2 ** 30), 2 ** 30 - 1, 5], mode: 1 },
    { ts: [1_700_000_000_000, 1_700_000_000_000, 8.64e15, -8.64e15, 0, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER], mode: 2 },
    { ts: [1, 2 ** 40, 1], mode: 2 },
  ];
  for (const { ts, mode } of cases) {
    const s = fromBits(ts.map((_, i) => i));
    s.ts = Float64Array.from(ts);
    expect(layoutOf(s) & 3).toBe(mode);
    expectSameSamples(roundTrip([], s).tx.samples, s);
  }
});

test("refs come back exact: runs of consecutive refs, random refs, descending and u32 extremes", () => {
  const r = rng(3);
  const cases: Array<{ refs: number[]; mode: number }> = [
    { refs: Array.from({ length: 1000 }, (_, i) => 1_000_000 + i), mode: 1 },
    { refs: [...Array.from({ length: 300 }, (_, i) => 7 + i), ...Array.from({ length: 5 }, (_, i) => 3 + i), 2 ** 32 - 2, 2 ** 32 - 1, 0, 1], mode: 1 },
    { refs: Array.from({ length: 300 }, () => Math.floor(r() * 2 ** 32)), mode: 0 },
    { refs: Array.from({ length: 300 }, (_, i) => 300 - i), mode: 0 },
    { refs: [2 ** 32 - 1, 0, 2 ** 32 - 1, 2 ** 31, 2 ** 31 - 1], mode: 0 },
    { refs: [0], mode: 0 }, // one run would take two bytes, one delta one
  ];
  for (const { refs, mode } of cases) {
    const s = fromBits(refs.map((_, i) => i * 3));
    s.refs = Uint32Array.from(refs);
    expect(layoutOf(s) >> 2).toBe(mode);
    expectSameSamples(roundTrip([], s).tx.samples, s);
  }
});

test("series, samples and exemplars of one record round-trip, and labels are compressed", () => {
  const series = scrapeSeries(2).slice(0, 3000);
  series.push({ ref: 4_000_000_000, labels: Labels.from({ __name__: "ünïcödé_😀", long: "x".repeat(500) }) }, { ref: 1, labels: Labels.EMPTY });
  const ex: WalExemplar[] = [
    { ref: 7, t: 1_700_000_000_123, v: 0.25, labels: Labels.from({ trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span: "ü→🙂" }) },
    { ref: 3, t: -5, v: -0, labels: Labels.EMPTY },
    { ref: 9, t: 2 ** 53 - 1, v: Number.NEGATIVE_INFINITY, labels: Labels.from({ a: "" }) },
  ];
  const s = { ...scrapeCommit(2, 1), exemplars: ex };
  const { rec, tx } = roundTrip(series, s);
  expect(rec[HEADER_BYTES]).toBe(1); // zstd: labels compress far better than a quarter
  expect(rec.length).toBeLessThan(new Encoder().encodeTx(series, s).length / 5);
  expect(tx.series.map((x) => [x.ref, x.labels.key])).toEqual(series.map((x) => [x.ref, x.labels.key]));
  expectSameSamples(tx.samples, s);
  expect(tx.exemplars!.map((e) => [e.ref, e.t, Object.is(e.v, -0) ? "-0" : e.v, e.labels.key])).toEqual(ex.map((e) => [e.ref, e.t, Object.is(e.v, -0) ? "-0" : e.v, e.labels.key]));
  // Exemplars without samples, and a record of nothing but series.
  const only = roundTrip([], { ...fromBits([]), exemplars: [ex[0]!] }).tx;
  expect(only.samples).toBeNull();
  expect(only.exemplars![0]!.labels.get("span")).toBe("ü→🙂");
  expect(roundTrip(series.slice(0, 2), fromBits([])).tx.exemplars).toBeNull();
});

test("packRecord() (off the main thread) and packRecordSync() write the same bytes", async () => {
  for (const s of [fromBits([1, 2, 3]), scrapeCommit(0, 3)]) {
    const body = new Encoder().encodeBody(scrapeSeries(0).slice(0, 100), s);
    expect(Buffer.from(await packRecord(body)).equals(Buffer.from(packRecordSync(body)))).toBe(true);
  }
});

test("the steady-state scrape of a target takes at most 5 bytes a sample on disk", async () => {
  const wal = await Wal.open({ dir });
  await wal.replay({ series() {}, samples() {} });
  await wal.commit(scrapeSeries(0), scrapeCommit(0, 0));
  const before = wal.stats().bytesWritten;
  const commits = 5;
  for (let k = 1; k <= commits; k++) await wal.commit([], scrapeCommit(0, k));
  const perSample = (wal.stats().bytesWritten - before) / (commits * SCRAPE_SAMPLES);
  await wal.close();
  expect(perSample).toBeLessThanOrEqual(5);
  const { batches } = await replayAll();
  expect(batches).toHaveLength(commits + 1);
  for (let k = 0; k <= commits; k++) expectSameSamples(batches[k]!, scrapeCommit(0, k));
});

async function replayAll() {
  const wal = await Wal.open({ dir });
  const series: WalSeries[] = [];
  const batches: WalSamples[] = [];
  const exemplars: WalExemplar[][] = [];
  const result = await wal.replay({ series: (s) => series.push(s), samples: (s) => batches.push(s), exemplars: (e) => exemplars.push(e) });
  await wal.close();
  return { series, batches, exemplars, result };
}

test("type-1 records written before the compressed format still replay, and new records follow them in the same segment", async () => {
  const enc = new Encoder();
  const old = [
    enc.encodeTx([{ ref: 1, labels: Labels.from({ __name__: "up", job: "node" }) }], fromBits([1, -0, STALE, 18.23], [2], 1_600_000_000_000)),
    enc.encodeTx([], { ...fromBits([[1, 0x7ff80000], 2 ** 60]), exemplars: [{ ref: 1, t: 5, v: 2, labels: Labels.from({ trace_id: "a" }) }] }),
  ];
  expect(old.map((b) => b[0])).toEqual([RECORD_TX, RECORD_TX]);
  await writeFile(segFile(0), Buffer.concat(old));
  const wal = await Wal.open({ dir });
  const first = await wal.replay({ series() {}, samples() {} });
  expect(first).toEqual({ records: 2, samples: 6, corruption: null });
  await wal.commit([{ ref: 2, labels: Labels.from({ __name__: "new" }) }], fromBits([3, 4]));
  expect(wal.segment).toBe(0);
  await wal.close();
  const bytes = await readFile(segFile(0));
  expect(bytes[old[0]!.length + old[1]!.length]).toBe(RECORD_TX_Z);
  const { series, batches, exemplars, result } = await replayAll();
  expect(result).toEqual({ records: 3, samples: 8, corruption: null });
  expect(series.map((s) => s.labels.toString())).toEqual(['up{job="node"}', "new"]);
  expectSameSamples(batches[0]!, fromBits([1, -0, STALE, 18.23], [2], 1_600_000_000_000));
  expectSameSamples(batches[1]!, fromBits([[1, 0x7ff80000], 2 ** 60]));
  expectSameSamples(batches[2]!, fromBits([3, 4]));
  expect(exemplars.map((e) => e.map((x) => x.labels.get("trace_id")))).toEqual([["a"]]);
});

/** A type-2 record around `payload`, with a valid CRC. */
function frame(payload: Uint8Array): Uint8Array {
  const rec = new Uint8Array(HEADER_BYTES + payload.length + 4);
  rec[0] = RECORD_TX_Z;
  writeU32(rec, 1, payload.length);
  rec.set(payload, HEADER_BYTES);
  writeU32(rec, HEADER_BYTES + payload.length, Bun.hash.crc32(rec.subarray(0, HEADER_BYTES + payload.length)));
  return rec;
}

test("a corrupt compressed payload with a valid CRC is reported as corruption at its segment and offset, and writing continues", async () => {
  const body = new Encoder().encodeBody(scrapeSeries(0).slice(0, 500), scrapeCommit(0, 1));
  const good = packRecordSync(body);
  expect(good[HEADER_BYTES]).toBe(1);
  const z = good.subarray(HEADER_BYTES + 1, good.length - 4);
  const lenBytes = z.findIndex((x) => x < 0x80) + 1;
  const damaged: Array<[string, Uint8Array]> = [
    ["garbage instead of a zstd frame", Uint8Array.of(1, 100, 1, 2, 3, 4, 5, 6, 7, 8)],
    ["a zstd frame cut short", z.subarray(0, z.length - 20)],
    ["a wrong body length", Uint8Array.of(...[0x80 | (body.length & 0x7f), 0x80 | ((body.length >> 7) & 0x7f), (body.length >> 14) + 1], ...z.subarray(lenBytes))],
    ["an unknown compression", Uint8Array.of(7, 1, 2, 3)],
    ["a stored body cut short", body.subarray(0, body.length - 3)],
  ];
  for (const [name, payload] of damaged) {
    const full = name.startsWith("a zstd") || name.startsWith("a wrong") ? Uint8Array.of(1, ...payload) : name.startsWith("a stored") ? Uint8Array.of(0, ...payload) : payload;
    const bad = frame(full);
    expect(() => decodeRecord(RECORD_TX_Z, bad, HEADER_BYTES, bad.length - 4)).toThrow(SyntaxError);
    expect(nextRecord(bad, 0, bad.length)).toMatchObject({ kind: "bad", reason: expect.stringContaining("malformed payload") });
    await rm(dir, { recursive: true, force: true });
    const wal = await Wal.open({ dir, segmentSize: 4096 });
    await wal.replay({ series() {}, samples() {} });
    await wal.commit([], fromBits([1, 2]));
    await wal.cut();
    await wal.commit([], fromBits([3]));
    await wal.close();
    const seg1 = await readFile(segFile(1));
    await appendFile(segFile(1), bad);
    await writeFile(segFile(2), good);
    const r = await replayAll();
    expect([name, r.result.corruption]).toEqual([name, { segment: 1, offset: seg1.length, reason: expect.stringContaining("malformed payload") }]);
    expect(r.batches.map((b) => b.count)).toEqual([2, 1, SCRAPE_SAMPLES]);
    expect(r.series).toHaveLength(500);
    const again = await Wal.open({ dir });
    await again.replay({ series() {}, samples() {} });
    await again.commit([], fromBits([9]));
    await again.close();
    expect((await replayAll()).result.corruption).toBeNull();
  }
});

test("random damage inside a record with a recomputed CRC is a SyntaxError, never a crash or a hang", () => {
  const r = rng(11);
  const series = scrapeSeries(1).slice(0, 40);
  const bodies = [
    new Encoder().encodeBody(series, { ...fromBits([1, -0, STALE, 18.23, 2 ** 60, Math.PI, 7, 7], [1]), exemplars: [{ ref: 1, t: 1, v: 1, labels: Labels.from({ a: "b" }) }] }),
    new Encoder().encodeBody([], scrapeCommit(1, 2)).subarray(0, 4000),
  ];
  let errors = 0;
  for (let k = 0; k < 2000; k++) {
    const body = bodies[k % 2]!.slice();
    for (let j = 1 + Math.floor(r() * 3); j > 0; j--) body[Math.floor(r() * body.length)] = Math.floor(r() * 256);
    const payload = Uint8Array.of(0, ...body.subarray(0, body.length - (r() < 0.3 ? Math.floor(r() * 10) : 0)));
    try {
      decodeRecord(RECORD_TX_Z, payload, 0, payload.length);
    } catch (e) {
      expect(e).toBeInstanceOf(SyntaxError);
      errors++;
    }
  }
  expect(errors).toBeGreaterThan(100);
});

test("a commit of more new series than one slice is written whole, in call order, and the caller may reuse its arrays at once", async () => {
  const wal = await Wal.open({ dir });
  await wal.replay({ series() {}, samples() {} });
  const big: WalSeries[] = [];
  for (let t = 0; big.length < 2 * SERIES_SLICE + 5; t++) big.push(...scrapeSeries(t));
  const want = big.map((s) => [s.ref, s.labels.key]);
  const s = scrapeCommit(0, 4);
  const kept = { ...s, refs: s.refs.slice(), ts: s.ts.slice(), values: s.values.slice(), stale: s.stale.slice() };
  const order: number[] = [];
  const pending = [
    wal.commit(big, s).then(() => order.push(0)),
    wal.commit([{ ref: 9_999_999, labels: Labels.from({ __name__: "small" }) }], fromBits([5])).then(() => order.push(1)),
  ];
  // The caller's arrays are free once commit() returns.
  big.length = 0;
  s.values.fill(0);
  s.refs.fill(1);
  await Promise.all(pending);
  await wal.close();
  expect(order).toEqual([0, 1]);
  const r = await replayAll();
  expect(r.result.records).toBe(2);
  expect(r.series.slice(0, want.length).map((x) => [x.ref, x.labels.key])).toEqual(want);
  expect(r.series.at(-1)!.ref).toBe(9_999_999);
  expectSameSamples(r.batches[0]!, kept);
  expectSameSamples(r.batches[1]!, fromBits([5]));
});

test("checkpoints are written as compressed type-2 records", async () => {
  const wal = await Wal.open({ dir });
  await wal.replay({ series() {}, samples() {} });
  const series = scrapeSeries(0);
  await wal.commit(series, scrapeCommit(0, 0));
  const seg = await wal.cut();
  await wal.checkpoint(series, seg, [{ ref: series[0]!.ref, t: 1, v: 2, labels: Labels.from({ trace_id: "x" }) }]);
  await wal.close();
  const cp = await readFile(join(dir, `checkpoint.${String(seg).padStart(8, "0")}`));
  expect([cp[0], cp[HEADER_BYTES]]).toEqual([RECORD_TX_Z, 1]);
  expect(cp.length / series.length).toBeLessThan(12);
  const r = await replayAll();
  expect(r.series.map((s) => s.labels.key)).toEqual(series.map((s) => s.labels.key));
  expect(r.exemplars.flat().map((e) => e.labels.get("trace_id"))).toEqual(["x"]);
});
