/**
 * WAL benchmark: encode cost and size of a scrape-sized commit, commit throughput to disk,
 * replay speed, checkpoint write and replay.
 *
 *   node_modules/.bin/bun bench/wal.bench.ts [samples per commit = 100000]
 *
 * A commit carries `n` samples of one scrape: refs ascending with small gaps, one shared
 * timestamp (the scrape's), values from a mix of counters, gauges and a few stale markers.
 * "new series" adds a WalSeries (5 labels) per sample, as the first scrape of a target does.
 * Timing uses Bun.nanoseconds(); encode figures are the median of 7 runs after a warm-up.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Labels } from "../core/model/labels.ts";
import { Encoder } from "../storage/tsdb/wal/codec.ts";
import { Wal, type WalSamples, type WalSeries } from "../storage/tsdb/wal/index.ts";
import { rng } from "../test/support/random.ts";
import { timeNs } from "./timing.ts";

const n = Number(process.argv[2] ?? 100_000);
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
console.log(`encode, ${n} samples, known series: ${(encNs / 1e6).toFixed(2)} ms, ${(bytes / n).toFixed(2)} B/sample, ${(bytes / 1e6 / (encNs / 1e9)).toFixed(0)} MB/s, ${((n / encNs) * 1e3).toFixed(1)} M samples/s`);
console.log(`encode, ${n} samples + ${n} new series: ${(encSeriesNs / 1e6).toFixed(2)} ms, ${(seriesBytes / n).toFixed(1)} B/sample`);

const dir = await mkdtemp(join(tmpdir(), "wal-bench-"));
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
  const wal2 = await Wal.open({ dir: cdir });
  const t1 = Bun.nanoseconds();
  const res = await wal2.replay({ series() {}, samples() {} });
  const rs = (Bun.nanoseconds() - t1) / 1e9;
  await wal2.close();
  console.log(`checkpoint of ${n} series: written in ${(cs * 1e3).toFixed(0)} ms, replayed (${res.records} records) in ${(rs * 1e3).toFixed(0)} ms = ${((rs / n) * 1e6).toFixed(2)} µs/series`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
