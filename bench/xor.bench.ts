/**
 * XOR chunk codec benchmark: bytes per sample on realistic series, encode and decode speed.
 *
 *   node_modules/.bin/bun bench/xor.bench.ts
 *
 * Series: every sample line of the node-exporter and Prometheus self-scrape fixtures in
 * shared/testdata/real-exporters (counters, gauges, summaries, histograms), replayed for
 * 240 scrapes (two 120-sample chunks per series) with values that change the way such
 * series do (see evolve()). Timestamps every 15 s, in three variants:
 *   grid    — every scrape starts within 2 ms after its slot and is snapped onto it, as the
 *             scrape loop's timestamp alignment does (spec §4.1): every delta-of-delta is 0
 *   late    — the timer fires late by an exponential delay (mean 1 ms, so ~14% exceed the
 *             2 ms tolerance and keep their real time), as on a busy event loop
 *   raw     — ±5 ms uniform jitter, no alignment at all
 * Timing uses Bun.nanoseconds(); each figure is the median of 7 runs after a warm-up.
 */
import { resolve } from "node:path";
import { createCore } from "../wasm/index.ts";
import { XorCodec } from "../wasm/xor.ts";
import { rng } from "../test/support/random.ts";
import { median, timeNs } from "./timing.ts";
import { TESTDATA_DIR } from "../test/support/testdata.ts";

const SHARED = resolve(TESTDATA_DIR, "real-exporters");
const SCRAPES = 240;
const CHUNK = 120;

const r = rng(1);
const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

interface Series {
  key: string;
  kind: "counter" | "gauge" | "quantile";
  v0: number;
  decimals: number | null; // decimals in the exposed text, null for exponent/float noise
}

async function loadSeries(file: string): Promise<Series[]> {
  const types = new Map<string, string>();
  const out: Series[] = [];
  for (const line of (await Bun.file(resolve(SHARED, file)).text()).split("\n")) {
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      types.set(name!, type!);
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    const sp = line.lastIndexOf(" ");
    const key = line.slice(0, sp);
    const text = line.slice(sp + 1);
    const name = key.replace(/\{.*$/, "");
    const base = name.replace(/_(bucket|sum|count)$/, "");
    const type = types.get(name) ?? types.get(base) ?? "untyped";
    const v0 = text === "+Inf" ? Infinity : text === "-Inf" ? -Infinity : Number(text);
    const kind =
      type === "counter" || /_(bucket|sum|count|total)$/.test(name) ? "counter" : type === "summary" ? "quantile" : "gauge";
    const m = /^-?\d+(?:\.(\d+))?$/.exec(text);
    out.push({ key, kind, v0, decimals: m ? (m[1]?.length ?? 0) : null });
  }
  return out;
}

const round = (v: number, d: number | null) => (d === null ? v : Math.round(v * 10 ** d) / 10 ** d);

/** Returns a function giving the series' value at scrape i (i = 0, 1, 2, … in order). */
function evolve(s: Series): (i: number) => number {
  let v = Number.isFinite(s.v0) ? s.v0 : 0;
  const p = r();
  if (!Number.isFinite(s.v0)) return () => s.v0;
  if (s.kind === "counter") {
    if (p < 0.35) return () => v; // idle counter (errors, rare events, +Inf-less buckets)
    const lambda = 10 ** (r() * 4 - 1); // 0.1 … 1000 per scrape
    const integral = s.decimals === 0;
    return (i) => {
      if (i > 0) {
        const inc = lambda * (0.5 + r());
        v = integral ? v + Math.round(inc) : round(v + inc, s.decimals);
      }
      return v;
    };
  }
  if (s.kind === "quantile") {
    return (i) => (i > 0 && r() < 0.5 ? (v = round(Math.abs(s.v0 * (1 + 0.3 * gauss())), s.decimals)) : v);
  }
  if (p < 0.55) return () => v; // constant gauge (sizes, info, limits)
  if (p < 0.85) {
    const step = s.decimals === 0 ? Math.max(1, Math.round(Math.abs(v) / 1000)) : Math.abs(v) / 100 || 1;
    return (i) => (i > 0 && r() < 0.2 ? (v = round(v + step * Math.round(gauss() * 3), s.decimals)) : v);
  }
  return (i) => (i > 0 ? (v = round(s.v0 * (1 + 0.01 * gauss()), s.decimals)) : v);
}

type Jitter = "grid" | "late" | "raw";
function timestamps(j: Jitter, n: number): number[] {
  const t0 = 1_700_000_000_000 + Math.floor(r() * 15000);
  return Array.from({ length: n }, (_, i) => {
    const grid = t0 + i * 15000;
    if (j === "grid") return grid;
    if (j === "raw") return grid + Math.round((r() - 0.5) * 10);
    const late = Math.round(-Math.log(1 - r()));
    return late <= 2 ? grid : grid + late;
  });
}


const core = await createCore();
const xor = new XorCodec(core);
const series = [...(await loadSeries("node-exporter.prom")), ...(await loadSeries("prometheus.prom"))];
const counts = { counter: 0, gauge: 0, quantile: 0 };
for (const s of series) counts[s.kind]++;
console.log(`series: ${series.length} (${counts.counter} counter-like incl. histogram buckets/sums/counts, ${counts.gauge} gauges, ${counts.quantile} summary quantiles)`);

// ---- bytes per sample ----------------------------------------------------------------------
const fmt = (x: number, d = 3) => x.toFixed(d);
for (const j of ["grid", "late", "raw"] as Jitter[]) {
  let bytes = 0;
  let samples = 0;
  let chunks = 0;
  for (const s of series) {
    const val = evolve(s);
    const ts = timestamps(j, SCRAPES);
    let c = xor.create();
    for (let i = 0; i < SCRAPES; i++) {
      if (i > 0 && i % CHUNK === 0) {
        bytes += xor.bytes(c).length;
        chunks++;
        xor.free(c);
        c = xor.create();
      }
      xor.append(c, ts[i]!, val(i));
      samples++;
    }
    bytes += xor.bytes(c).length;
    chunks++;
    xor.free(c);
  }
  // On disk Prometheus adds per chunk: uvarint length (1–2 B), encoding (1 B), CRC32 (4 B).
  console.log(
    `bytes/sample [${j}]: ${fmt(bytes / samples)} chunk data, ${fmt((bytes + chunks * 7) / samples)} with chunk framing (${samples} samples, ${chunks} chunks)`,
  );
}
{
  let bytes = 0;
  for (let k = 0; k < 200; k++) {
    const c = xor.create();
    for (let i = 0; i < CHUNK; i++) xor.append(c, 1_700_000_000_000 + i * 15000, r() * 1000);
    bytes += xor.bytes(c).length;
    xor.free(c);
  }
  console.log(`bytes/sample [grid, uniformly random doubles, worst case]: ${fmt(bytes / (200 * CHUNK))}`);
}

// ---- speed ---------------------------------------------------------------------------------
// TSDB-like: every scrape appends one sample to each series' head chunk in one batch call.
const REPLICAS = 8; // series × replicas ≈ 7k series
const nSeries = series.length * REPLICAS;
const N = nSeries * CHUNK;
const batch = xor.batch(N);
const chunks: number[] = [];
function fillBatch(): void {
  for (const c of chunks) xor.free(c);
  chunks.length = 0;
  for (let k = 0; k < nSeries; k++) chunks.push(xor.create());
  const valFns = chunks.map((_, k) => evolve(series[k % series.length]!));
  const tss = chunks.map(() => timestamps("late", CHUNK));
  for (let i = 0; i < CHUNK; i++) for (let k = 0; k < nSeries; k++) batch.set(i * nSeries + k, chunks[k]!, tss[k]![i]!, valFns[k]!(i));
}
fillBatch();
const encNs: number[] = [];
for (let run = 0; run < 6; run++) {
  for (const c of chunks) xor.free(c);
  chunks.length = 0;
  for (let k = 0; k < nSeries; k++) chunks.push(xor.create());
  // The batch holds the previous run's handles; fresh chunks reuse the same blocks in the same
  // order (LIFO free lists), so re-point the batch at them.
  const v = core.views();
  for (let i = 0; i < N; i++) v.u32[(batch.chunksPtr >>> 2) + i] = chunks[i % nSeries]!;
  const t = Bun.nanoseconds();
  const bad = batch.append(N);
  if (run > 0) encNs.push(Bun.nanoseconds() - t);
  if (bad !== 0) throw new Error(`${bad} samples refused`);
}
console.log(
  `encode, batch in scrape order (one call; ${nSeries} series × ${CHUNK} scrapes = ${N} samples, each sample in another chunk): ${fmt(N / (median(encNs) / 1e9) / 1e6, 1)} M samples/s`,
);
{
  // Same samples, series-major: consecutive samples go to the same chunk (cache-hot).
  const major = xor.batch(N);
  const src = (i: number, k: number) => i * nSeries + k;
  const ns: number[] = [];
  for (let run = 0; run < 6; run++) {
    for (const c of chunks) xor.free(c);
    chunks.length = 0;
    for (let k = 0; k < nSeries; k++) chunks.push(xor.create());
    const v = core.views();
    for (let k = 0; k < nSeries; k++) {
      for (let i = 0; i < CHUNK; i++) {
        const d = k * CHUNK + i;
        const sIdx = src(i, k);
        v.u32[(major.chunksPtr >>> 2) + d] = chunks[k]!;
        v.u32[(major.tsPtr >>> 2) + 2 * d] = v.u32[(batch.tsPtr >>> 2) + 2 * sIdx]!;
        v.u32[(major.tsPtr >>> 2) + 2 * d + 1] = v.u32[(batch.tsPtr >>> 2) + 2 * sIdx + 1]!;
        v.u32[(major.vbitsPtr >>> 2) + 2 * d] = v.u32[(batch.vbitsPtr >>> 2) + 2 * sIdx]!;
        v.u32[(major.vbitsPtr >>> 2) + 2 * d + 1] = v.u32[(batch.vbitsPtr >>> 2) + 2 * sIdx + 1]!;
      }
    }
    const t = Bun.nanoseconds();
    if (major.append(N) !== 0) throw new Error("samples refused");
    if (run > 0) ns.push(Bun.nanoseconds() - t);
  }
  major.dispose();
  console.log(`encode, batch series-major (one call, same ${N} samples, consecutive samples in one chunk): ${fmt(N / (median(ns) / 1e9) / 1e6, 1)} M samples/s`);
}

{
  const c0 = xor.create();
  const n = 120_000;
  const ns = timeNs(() => {
    const c = xor.create();
    for (let i = 0; i < n; i++) xor.append(c, 1_700_000_000_000 + i * 15000, (i * 37) % 1000);
    xor.free(c);
  });
  xor.free(c0);
  console.log(`encode, one JS→WASM call per sample (xor.append): ${fmt(n / (ns / 1e9) / 1e6, 1)} M samples/s`);
}

{
  const maxPtr = core.exports.alloc(CHUNK * 8);
  const maxV = core.exports.alloc(CHUNK * 8);
  const dec = (core.exports as unknown as { xorDecode(c: number, t: number, v: number, m: number): number }).xorDecode;
  let total = 0;
  const ns = timeNs(() => {
    total = 0;
    for (const c of chunks) total += dec(c, maxPtr, maxV, CHUNK);
  });
  console.log(`decode, bulk into SoA arrays (xorDecode per chunk): ${fmt(total / (ns / 1e9) / 1e6, 1)} M samples/s`);
  const it = xor.iterator(chunks[0]!);
  let sum = 0;
  const ns2 = timeNs(() => {
    total = 0;
    for (const c of chunks) {
      it.reset(c);
      while (it.next()) {
        sum += it.t;
        total++;
      }
    }
  });
  it.close();
  console.log(`decode, JS iterator reading t and value per sample: ${fmt(total / (ns2 / 1e9) / 1e6, 1)} M samples/s (checksum ${sum > 0})`);
}
