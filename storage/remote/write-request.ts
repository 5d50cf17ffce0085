/**
 * Remote write 1.0 wire format (spec §6.1): the protobuf `prometheus.WriteRequest`, written
 * by hand into one reused buffer (no per-sample objects). `decode-write-request.ts` reads it
 * back (the receiver, `/api/v1/write`, and the tests).
 *
 *   WriteRequest { repeated TimeSeries timeseries = 1; reserved 2; repeated MetricMetadata metadata = 3 }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; exemplars = 3; histograms = 4 }
 *   Label        { string name = 1; string value = 2 }
 *   Sample       { double value = 1; int64 timestamp = 2 }
 *   Exemplar     { repeated Label labels = 1; double value = 2; int64 timestamp = 3 }
 *
 * A series' labels are encoded once (`encodeLabels`) and copied into every request that
 * carries the series. Stale markers go out as exactly 0x7ff0000000000002; JS numbers cannot
 * carry that NaN payload, so it travels as a separate flag up to the byte writer.
 */
import type { Labels } from "../../core/model/labels.ts";
import { putVarint } from "../varint.ts";
import { withRoom } from "../bytes.ts";

/** StaleNaN as the two little-endian u32 halves of the float64. */
const STALE_LO = 0x00000002;
const STALE_HI = 0x7ff00000;

const utf8 = new TextEncoder();

/** Bytes of `v` (an unsigned integer < 2^53) as a varint. */
function varintLen(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Bytes of an int64 timestamp as a varint (negatives take 10: two's complement); comparisons only. */
function int64Len(v: number): number {
  if (v < 0) return 10;
  if (v < 2 ** 28) return v < 128 ? 1 : v < 16384 ? 2 : v < 2 ** 21 ? 3 : 4;
  return v < 2 ** 35 ? 5 : v < 2 ** 42 ? 6 : v < 2 ** 49 ? 7 : v < 2 ** 56 ? 8 : 9;
}

/** An int64 (integer-valued number, |v| < 2^63) as a varint; negatives in two's complement. */
function putInt64(b: Uint8Array, p: number, v: number): number {
  if (v >= 0) {
    if (v < 0x80000000) return putVarint(b, p, v);
    // Millisecond timestamps (> 2^31): 7 bits at a time from the two 32-bit halves.
    let lo = v >>> 0;
    let hi = (v - lo) / 4294967296;
    while (hi > 0 || lo >= 0x80) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo;
    return p;
  }
  let x = BigInt.asUintN(64, BigInt(v));
  while (x >= 0x80n) {
    b[p++] = Number(x & 0x7fn) | 0x80;
    x >>= 7n;
  }
  b[p++] = Number(x);
  return p;
}

/**
 * The `Label` fields of one series (field 1 of TimeSeries, repeated), ready to be copied
 * into any request. Labels must already be sorted by name (a `Labels` always is).
 */
export function encodeLabels(labels: Labels): Uint8Array {
  const parts: Array<[Uint8Array, Uint8Array]> = [];
  let size = 0;
  for (const [n, v] of labels) {
    const nb = utf8.encode(n);
    const vb = utf8.encode(v);
    parts.push([nb, vb]);
    const inner = 1 + varintLen(nb.length) + nb.length + 1 + varintLen(vb.length) + vb.length;
    size += 1 + varintLen(inner) + inner;
  }
  const out = new Uint8Array(size);
  let p = 0;
  for (const [nb, vb] of parts) {
    const inner = 1 + varintLen(nb.length) + nb.length + 1 + varintLen(vb.length) + vb.length;
    out[p++] = 0x0a;
    p = putVarint(out, p, inner);
    out[p++] = 0x0a;
    p = putVarint(out, p, nb.length);
    out.set(nb, p);
    p += nb.length;
    out[p++] = 0x12;
    p = putVarint(out, p, vb.length);
    out.set(vb, p);
    p += vb.length;
  }
  return out;
}

/**
 * Builds one WriteRequest at a time into a buffer it keeps between requests.
 *
 * @example
 * const enc = new WriteRequestEncoder();
 * enc.reset();
 * enc.addSeries(encodeLabels(labels), ts, values, stale, order, 0, n);
 * const body = snappy.compress(enc.bytes());
 */
export class WriteRequestEncoder {
  #buf = new Uint8Array(1 << 16);
  #view = new DataView(this.#buf.buffer);
  #pos = 0;

  /** Starts a new request (the previous bytes() view becomes invalid). */
  reset(): void {
    this.#pos = 0;
  }

  get length(): number {
    return this.#pos;
  }

  #ensure(n: number): void {
    const b = withRoom(this.#buf, this.#pos, n);
    if (b === this.#buf) return;
    this.#buf = b;
    this.#view = new DataView(b.buffer);
  }

  /** Makes room for a TimeSeries of `body` bytes and writes its tag, length and `labels`; returns where its samples or exemplars go. */
  #seriesHead(labels: Uint8Array, body: number): number {
    this.#ensure(11 + body);
    const b = this.#buf;
    let p = this.#pos;
    b[p++] = 0x0a;
    p = putVarint(b, p, body);
    b.set(labels, p);
    return p + labels.length;
  }

  /**
   * Appends one TimeSeries: `labels` from encodeLabels(), then the samples at positions
   * `idx[from..to)` of the parallel arrays, in that order (the caller keeps them in time order).
   */
  addSeries(labels: Uint8Array, ts: Float64Array, values: Float64Array, stale: Uint8Array, idx: Uint32Array, from: number, to: number): void {
    let body = labels.length;
    for (let k = from; k < to; k++) body += 2 + 9 + 1 + int64Len(ts[idx[k]!]!);
    let p = this.#seriesHead(labels, body);
    const b = this.#buf;
    const dv = this.#view;
    for (let k = from; k < to; k++) {
      const i = idx[k]!;
      const t = ts[i]!;
      b[p++] = 0x12;
      b[p++] = 9 + 1 + int64Len(t);
      b[p++] = 0x09;
      if (stale[i] === 1) {
        dv.setUint32(p, STALE_LO, true);
        dv.setUint32(p + 4, STALE_HI, true);
      } else {
        dv.setFloat64(p, values[i]!, true);
      }
      p += 8;
      b[p++] = 0x10;
      p = putInt64(b, p, t);
    }
    this.#pos = p;
  }

  /**
   * Appends one TimeSeries with `labels` (from encodeLabels()) and exemplars only: entry k
   * has its own labels `exLabels[k]` (from encodeLabels()), value `values[k]` and timestamp
   * `ts[k]` (ms), for k in [from, to). Prometheus sends exemplars in TimeSeries without samples.
   */
  addExemplars(labels: Uint8Array, exLabels: readonly Uint8Array[], ts: ArrayLike<number>, values: ArrayLike<number>, from: number, to: number): void {
    let body = labels.length;
    for (let k = from; k < to; k++) {
      const inner = exLabels[k]!.length + 9 + 1 + int64Len(ts[k]!);
      body += 1 + varintLen(inner) + inner;
    }
    let p = this.#seriesHead(labels, body);
    const b = this.#buf;
    for (let k = from; k < to; k++) {
      const l = exLabels[k]!;
      const t = ts[k]!;
      b[p++] = 0x1a;
      p = putVarint(b, p, l.length + 9 + 1 + int64Len(t));
      b.set(l, p);
      p += l.length;
      b[p++] = 0x11;
      this.#view.setFloat64(p, values[k]!, true);
      p += 8;
      b[p++] = 0x18;
      p = putInt64(b, p, t);
    }
    this.#pos = p;
  }

  /** The request so far: a view into the reused buffer, valid until the next reset(). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }
}

/** A metric family's metadata, as the scrape targets exposed it (type in Prometheus's text form). */
export interface FamilyMetadata {
  metric: string;
  /** "counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset" or "unknown". */
  type: string;
  help: string;
  unit: string;
}

/** MetricMetadata.MetricType in prompb/types.proto. */
const METRIC_TYPES: Record<string, number> = { unknown: 0, counter: 1, gauge: 2, histogram: 3, gaugehistogram: 4, summary: 5, info: 6, stateset: 7 };

function putString(out: number[], field: number, s: string): void {
  if (s === "") return;
  const b = utf8.encode(s);
  out.push((field << 3) | 2);
  let n = b.length;
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  for (const x of b) out.push(x);
}

/**
 * A metadata-only WriteRequest (field 3, `MetricMetadata { type = 1; metric_family_name = 2;
 * help = 4; unit = 5 }`), as Prometheus sends every `metadata_config.send_interval`.
 * Small and once a minute: plain arrays are fine here.
 */
export function encodeMetadataRequest(entries: readonly FamilyMetadata[]): Uint8Array {
  const out: number[] = [];
  for (const m of entries) {
    const inner: number[] = [];
    const type = METRIC_TYPES[m.type] ?? 0;
    if (type !== 0) inner.push(0x08, type);
    putString(inner, 2, m.metric);
    putString(inner, 4, m.help);
    putString(inner, 5, m.unit);
    out.push(0x1a);
    let n = inner.length;
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    for (const x of inner) out.push(x);
  }
  return Uint8Array.from(out);
}
