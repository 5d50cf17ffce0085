/**
 * WAL benchmark: encode cost and size of a scrape-sized commit, commit throughput to disk,
 * replay speed, checkpoint write and replay; then the compressed format (type 2) against the
 * plain one (type 1) on a Kubernetes-like scrape, the event-loop stall of a huge first
 * commit, and the replay of a WAL of 1M series plus `rounds` scrapes of 50 targets.
 *
 *   node_modules/.bin/bun bench/wal.bench.ts [samples per commit = 100000] [rounds = 36]
 *
 * Part 1 (the first figures): a commit carries `n` samples of one scrape: refs ascending with
 * small gaps, one shared timestamp, values from a mix of counters, gauges and a few stale
 * markers; "new series" adds a WalSeries (5 labels) per sample, as a first scrape does. Its
 * "encode" lines are type 1 (Encoder.encodeTx); commits to disk are what the WAL writes.
 *
 * Part 2: storage/tsdb/wal/scrape-workload.ts — 20,007 samples of one target (35 % counters,
 * 45 % classic histograms, 20 % gauges, 5 report series), 32 consecutive commits with growing
 * values. B/sample counts whole records (framing and CRC included) of known series.
 * Timing uses Bun.nanoseconds(); per-commit figures are medians.
 */
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, writeSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as snappy from "snappyjs";
import { createLogger } from "../core/log/logger.ts";
import { Registry } from "../core/metrics/registry.ts";
import { Labels } from "../core/model/labels.ts";
import { Tsdb } from "../storage/tsdb/index.ts";
import { Encoder, HEADER_BYTES, RECORD_TX, RECORD_TX_Z } from "../storage/tsdb/wal/codec.ts";
import { decodeRecord, packRecordSync } from "../storage/tsdb/wal/compress.ts";
import { Wal, type WalSamples, type WalSeries } from "../storage/tsdb/wal/index.ts";
import { putVarint } from "../storage/varint.ts";
import { SCRAPE_SAMPLES, scrapeCommit, scrapeSeries } from "../storage/tsdb/wal/scrape-workload.ts";
import { rng } from "../test/support/random.ts";
import { median, timeNs } from "./timing.ts";

const n = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 36);
const r = rng(1);

function scrape(t: number): WalSamples {
  const s: WalSamples = { count: n, refs: new Uint32Array(n), ts: new Float64Array(n), values: new Float64Array(n), stale: new Uint8Array(n) };
  let ref = 1;
  for (let i = 0; i < n; i++) {
    ref += 1 + (r() < 0.05 ? Math.floor(r() * 100) : 0);
    s.refs[i] = ref;
    s.ts[i] = t;
    const kind = i % 4;
    s.values[i] = kind === 0 ? Math.floor(r() * 1e9) : kind === 1 ? r() * 100 : kind === 2 ? 0 : Math.round(r() * 1e4) / 100;
    if (r() < 0.001) {
      s.stale[i] = 1;
      s.values[i] = Number.NaN;
    }
  }
  return s;
}

const samples = scrape(1_763_800_000_000);
const series: WalSeries[] = [];
for (let i = 0; i < n; i++) {
  series.push({
    ref: samples.refs[i]!,
    labels: Labels.from({ __name__: `node_metric_${i % 300}_total`, instance: "10.0.0.1:9100", job: "node", cpu: String(i % 64), mode: "idle" }),
  });
}

const enc = new Encoder();
let bytes = 0;
const encNs = timeNs(() => {
  bytes = enc.encodeTx([], samples).length;
});
let seriesBytes = 0;
const encSeriesNs = timeNs(() => {
  seriesBytes = enc.encodeTx(series, samples).length;
}, 5);
console.log(`encode (type 1), ${n} samples, known series: ${(encNs / 1e6).toFixed(2)} ms, ${(bytes / n).toFixed(2)} B/sample, ${(bytes / 1e6 / (encNs / 1e9)).toFixed(0)} MB/s, ${((n / encNs) * 1e3).toFixed(1)} M samples/s`);
console.log(`encode (type 1), ${n} samples + ${n} new series: ${(encSeriesNs / 1e6).toFixed(2)} ms, ${(seriesBytes / n).toFixed(1)} B/sample`);

const dir = mkdtempSync(join(tmpdir(), "wal-bench-"));
try {
  for (const interval of [0, 1000]) {
    const wal = await Wal.open({ dir: join(dir, `i${interval}`), fsyncIntervalMs: interval });
    await wal.replay({ series() {}, samples() {} });
    const commits = 40;
    const t0 = Bun.nanoseconds();
    const pending: Promise<void>[] = [];
    for (let k = 0; k < commits; k++) {
      const p = wal.commit(k === 0 ? series : [], samples);
      if (interval === 0) await p;
      else pending.push(p);
    }
    await Promise.all(pending);
    const s = (Bun.nanoseconds() - t0) / 1e9;
    const st = wal.stats();
    await wal.close();
    console.log(
      `commit to disk, fsyncIntervalMs ${interval}: ${commits} commits of ${n} in ${(s * 1e3).toFixed(0)} ms = ${((commits * n) / s / 1e6).toFixed(2)} M samples/s, ` +
        `${(st.bytesWritten / s / 1e6).toFixed(0)} MB/s, ${st.fsyncs} fsyncs (${((st.fsyncSeconds / st.fsyncs) * 1e3).toFixed(2)} ms each)`,
    );
    const wal2 = await Wal.open({ dir: join(dir, `i${interval}`) });
    let count = 0;
    const t1 = Bun.nanoseconds();
    const res = await wal2.replay({ series() {}, samples: (b) => (count += b.count) });
    const rs = (Bun.nanoseconds() - t1) / 1e9;
    await wal2.close();
    console.log(`replay: ${res.samples} samples (+${n} series) in ${(rs * 1e3).toFixed(0)} ms = ${(count / rs / 1e6).toFixed(1)} M samples/s`);
  }
  // Start-up after a checkpoint: the live series come back from one file.
  const cdir = join(dir, "checkpoint");
  const wal = await Wal.open({ dir: cdir });
  await wal.replay({ series() {}, samples() {} });
  await wal.commit([], samples);
  const seg = await wal.cut();
  const t0 = Bun.nanoseconds();
  await wal.checkpoint(series, seg);
  const cs = (Bun.nanoseconds() - t0) / 1e9;
  await wal.close();
  const cbytes = Bun.file(join(cdir, `checkpoint.${String(seg).padStart(8, "0")}`)).size;
  const wal2 = await Wal.open({ dir: cdir });
  const t1 = Bun.nanoseconds();
  const res = await wal2.replay({ series() {}, samples() {} });
  const rs = (Bun.nanoseconds() - t1) / 1e9;
  await wal2.close();
  console.log(
    `checkpoint of ${n} series: ${(cbytes / n).toFixed(1)} B/series, written in ${(cs * 1e3).toFixed(0)} ms, replayed (${res.records} records) in ${(rs * 1e3).toFixed(0)} ms = ${((rs / n) * 1e6).toFixed(2)} µs/series`,
  );

  formats();
  await firstScrapeStall(join(dir, "stall"));
  await replayMillion(join(dir, "million"));
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** Type 1 against type 2 (and the compressors type 2 could use) on the Kubernetes-like scrape. */
function formats(): void {
  const commits = 32;
  const ns = SCRAPE_SAMPLES;
  const rows = new Map<string, { bytes: number[]; enc: number[]; z: number[]; dec: number[] }>();
  /** `e`: encoding on the calling thread; `z`: compression (the WAL runs it on another thread). */
  const row = (name: string, b: number, e: number, z: number, d: number) => {
    const x = rows.get(name) ?? { bytes: [], enc: [], z: [], dec: [] };
    x.bytes.push(b / ns);
    x.enc.push(e / ns);
    x.z.push(z / ns);
    x.dec.push(d / ns);
    rows.set(name, x);
  };
  const time = <T>(fn: () => T): [T, number] => {
    const t = Bun.nanoseconds();
    const v = fn();
    return [v, Bun.nanoseconds() - t];
  };
  const check = (got: WalSamples | null, want: WalSamples) => {
    if (got === null || !Buffer.from(got.values.buffer).equals(Buffer.from(want.values.buffer))) throw new Error("round trip changed the values");
  };
  /** A type-2 payload with the body zstd-compressed whatever the saving (compress.ts may store it). */
  const zstdPayload = (z: Uint8Array, size: number) => {
    const out = new Uint8Array(11 + z.length);
    out[0] = 1;
    const p = putVarint(out, 1, size);
    out.set(z, p);
    return out.subarray(0, p + z.length);
  };
  const framing = HEADER_BYTES + 4 + 1;
  const stepSamples = Array.from({ length: commits + 3 }, (_, k) => scrapeCommit(0, 100 + k));
  for (let k = 0; k < commits + 3; k++) {
    const s = stepSamples[k]!;
    const warm = k < 3; // JIT warm-up
    const [t1, e1] = time(() => enc.encodeTx([], s));
    const [d1tx, d1] = time(() => decodeRecord(RECORD_TX, t1, HEADER_BYTES, t1.length - 4));
    check(d1tx.samples, s);
    const [body, eb] = time(() => enc.encodeBody([], s));
    const [rec, ew] = time(() => packRecordSync(body));
    const [wtx, dw] = time(() => decodeRecord(RECORD_TX_Z, rec, HEADER_BYTES, rec.length - 4));
    check(wtx.samples, s);
    for (const level of [1, 3]) {
      const [z, ez] = time(() => Bun.zstdCompressSync(body, { level }));
      const payload = zstdPayload(z, body.length);
      const [tx, dz] = time(() => decodeRecord(RECORD_TX_Z, payload, 0, payload.length));
      check(tx.samples, s);
      if (!warm) row(`type 2 body + zstd level ${level}`, payload.length + framing - 1, eb, ez, dz);
    }
    const [sn, es] = time(() => snappy.compress(body));
    const [, dsn] = time(() => snappy.uncompress(sn));
    const [zt1, ezt] = time(() => Bun.zstdCompressSync(t1, { level: 3 }));
    const [, dzt] = time(() => Bun.zstdDecompressSync(zt1));
    if (warm) continue;
    row("type 1 (plain, before)", t1.length, e1, 0, d1);
    row(`type 2 as the WAL writes it (${rec[HEADER_BYTES] === 0 ? "stored" : "zstd"})`, rec.length, eb, ew, dw);
    row("type 2 body + snappyjs", sn.length + framing, eb, es, dsn + dw);
    row("type 1 + zstd level 3 (no compact encoding)", zt1.length + framing, e1, ezt, dzt + d1);
  }
  console.log(`\n${ns} samples a commit (Kubernetes-like scrape, known series), ${commits} commits; per sample, median of the commits:`);
  for (const [name, x] of rows) {
    console.log(`  ${name.padEnd(46)} ${median(x.bytes).toFixed(2)} B   encode ${median(x.enc).toFixed(1)} ns + compress ${median(x.z).toFixed(1)} ns   decode ${median(x.dec).toFixed(1)} ns`);
  }
  console.log("  (encode: in commit(), on the main thread; compress: zstd runs on another thread in the WAL, snappyjs could not)");
  const all = scrapeSeries(0);
  const first = enc.encodeBody(all, stepSamples[0]!);
  const z3 = packRecordSync(first).length;
  const z1 = packRecordSync(first, 1).length;
  const sn = snappy.compress(first).length;
  console.log(
    `  first commit (${all.length} new series, 8 labels each): type 1 ${(enc.encodeTx(all, stepSamples[0]!).length / all.length).toFixed(1)} B/series, ` +
      `type 2 zstd-3 ${(z3 / all.length).toFixed(1)} (zstd-1 ${(z1 / all.length).toFixed(1)}, snappyjs ${(sn / all.length).toFixed(1)})`,
  );
}

/**
 * A first scrape of 200k new series: how long commit() holds the main thread, and the longest
 * the event loop then waits between two turns until the commit is durable.
 */
async function firstScrapeStall(d: string): Promise<void> {
  const big: WalSeries[] = [];
  const targets = 10;
  for (let t = 0; t < targets; t++) big.push(...scrapeSeries(t));
  const s = scrapeCommit(0, 0);
  const bs: WalSamples = { count: 0, refs: s.refs, ts: s.ts, values: s.values, stale: s.stale };
  const wal = await Wal.open({ dir: d });
  await wal.replay({ series() {}, samples() {} });
  await wal.commit(scrapeSeries(99), bs); // warm-up
  const t0 = performance.now();
  const p = wal.commit(big, bs);
  const sync = performance.now() - t0;
  let done = false;
  void p.finally(() => (done = true));
  let last = performance.now();
  let worst = sync;
  while (!done) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }
  await p;
  const total = performance.now() - t0;
  const st = wal.stats();
  await wal.close();
  const t1 = performance.now();
  enc.encodeTx(big, bs);
  const before = performance.now() - t1;
  console.log(
    `\nfirst commit of ${big.length} new series: commit() returns after ${sync.toFixed(1)} ms, longest event-loop stall ${worst.toFixed(1)} ms, durable after ${total.toFixed(0)} ms, ` +
      `${(st.bytesWritten / 1e6).toFixed(1)} MB on disk (type 1: one ${before.toFixed(0)} ms synchronous encode)`,
  );
}

/**
 * 50 targets × 20k series (1M), their first commits, then `rounds` scrapes of every target;
 * replayed by the WAL alone, then opened as a whole TSDB (head included).
 */
async function replayMillion(root: string): Promise<void> {
  const targets = 50;
  const d = join(root, "wal");
  const wal = await Wal.open({ dir: d, fsyncIntervalMs: 1000 });
  await wal.replay({ series() {}, samples() {} });
  const g0 = performance.now();
  for (let t = 0; t < targets; t++) await wal.commit(scrapeSeries(t), scrapeCommit(t, 0));
  await wal.close();
  const seriesOnly = `${d}-series`;
  cpSync(d, seriesOnly, { recursive: true });
  const seriesBytes = wal.stats().bytesWritten;
  const wal1 = await Wal.open({ dir: d, fsyncIntervalMs: 1000 });
  await wal1.replay({ series() {}, samples() {} });
  for (let k = 1; k <= rounds; k++) {
    const pending: Promise<void>[] = [];
    for (let t = 0; t < targets; t++) pending.push(wal1.commit([], scrapeCommit(t, k)));
    await Promise.all(pending);
  }
  await wal1.close();
  const gen = (performance.now() - g0) / 1000;
  const knownBytes = wal1.stats().bytesWritten;
  const replay = async (dd: string) => {
    const w = await Wal.open({ dir: dd });
    let nseries = 0;
    let nsamples = 0;
    Bun.gc(true);
    const t = performance.now();
    const res = await w.replay({ series: () => void nseries++, samples: (b) => void (nsamples += b.count) });
    const s = (performance.now() - t) / 1000;
    await w.close();
    if (res.corruption) throw new Error(`replay met corruption: ${res.corruption.reason}`);
    return { s, nseries, nsamples };
  };
  // The same log in the plain format (type 1), written record by record, for the "before".
  const plain = `${d}-type1`;
  mkdirSync(plain);
  let seg = 0;
  let size = 0;
  let fd = openSync(join(plain, "00000000"), "w");
  const put = (rec: Uint8Array) => {
    if (size > 0 && size + rec.length > 128 * 1024 * 1024) {
      closeSync(fd);
      fd = openSync(join(plain, String(++seg).padStart(8, "0")), "w");
      size = 0;
    }
    writeSync(fd, rec);
    size += rec.length;
  };
  for (let t = 0; t < targets; t++) put(enc.encodeTx(scrapeSeries(t), scrapeCommit(t, 0)));
  for (let k = 1; k <= rounds; k++) for (let t = 0; t < targets; t++) put(enc.encodeTx([], scrapeCommit(t, k)));
  closeSync(fd);
  const p1 = await replay(plain);
  await rm(plain, { recursive: true, force: true });
  const a = await replay(seriesOnly);
  const b = await replay(d);
  const perSample = (b.s - a.s) / (b.nsamples - a.nsamples);
  const hour = 360 * targets * SCRAPE_SAMPLES;
  console.log(
    `\nreplay of ${b.nseries} series + ${rounds} rounds × ${targets} targets (${(b.nsamples / 1e6).toFixed(1)}M samples, generated in ${gen.toFixed(0)} s): ${b.s.toFixed(2)} s ` +
      `(series ${a.s.toFixed(2)} s, ${((a.s / a.nseries) * 1e9).toFixed(0)} ns/series, ${(seriesBytes / a.nseries).toFixed(1)} B/series on disk; samples ${(perSample * 1e9).toFixed(2)} ns/sample, ` +
      `${(knownBytes / (b.nsamples - a.nsamples)).toFixed(2)} B/sample on disk)`,
  );
  console.log(`  an hour (360 rounds, ${(hour / 1e6).toFixed(0)}M samples) extrapolates to ${(a.s + perSample * hour).toFixed(2)} s of WAL replay (decoding only, without the head)`);
  console.log(`  the same log in type 1 (before): ${p1.s.toFixed(2)} s`);
  await rm(seriesOnly, { recursive: true, force: true });
  try {
    const t = performance.now();
    const db = await Tsdb.open({
      dir: root,
      retentionMs: 0,
      retentionBytes: 0,
      registry: new Registry(),
      log: createLogger({ level: "error", format: "logfmt", write: () => {} }),
      now: () => 1_763_800_000_000 + (rounds + 1) * 10_000,
      flushIntervalMs: 3_600_000,
    });
    const s = (performance.now() - t) / 1000;
    console.log(`  the whole TSDB start-up on it (head included): ${s.toFixed(2)} s, ${db.head.seriesCount} series`);
    await db.close();
  } catch (e) {
    console.log(`  the whole TSDB start-up on it failed: ${(e as Error).message}`);
  }
}
