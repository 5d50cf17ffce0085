/**
 * Remote write 1.0 wire format (spec §6.1): the protobuf `prometheus.WriteRequest`, written
 * by hand into one reused buffer (no per-sample objects) and read back by a decoder the
 * receiver (`/api/v1/write`) shares with the tests.
 *
 *   WriteRequest { repeated TimeSeries timeseries = 1; reserved 2; repeated MetricMetadata metadata = 3 }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; exemplars = 3; histograms = 4 }
 *   Label        { string name = 1; string value = 2 }
 *   Sample       { double value = 1; int64 timestamp = 2 }
 *
 * A series' labels are encoded once (`encodeLabels`) and copied into every request that
 * carries the series. Stale markers go out as exactly 0x7ff0000000000002; JS numbers cannot
 * carry that NaN payload, so it travels as a separate flag up to the byte writer.
 */
import type { Labels } from "../../core/model/labels.ts";

/** StaleNaN as the two little-endian u32 halves of the float64. */
const STALE_LO = 0x00000002;
const STALE_HI = 0x7ff00000;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

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

function putVarint(b: Uint8Array, p: number, v: number): number {
  if (v < 0x80000000) {
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    return p;
  }
  while (v >= 0x80) {
    b[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  b[p++] = v;
  return p;
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
    if (this.#pos + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#pos + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.#buf.subarray(0, this.#pos));
    this.#buf = nb;
    this.#view = new DataView(nb.buffer);
  }

  /**
   * Appends one TimeSeries: `labels` from encodeLabels(), then the samples at positions
   * `idx[from..to)` of the parallel arrays, in that order (the caller keeps them in time order).
   */
  addSeries(labels: Uint8Array, ts: Float64Array, values: Float64Array, stale: Uint8Array, idx: Uint32Array, from: number, to: number): void {
    let body = labels.length;
    for (let k = from; k < to; k++) body += 2 + 9 + 1 + int64Len(ts[idx[k]!]!);
    this.#ensure(11 + body);
    const b = this.#buf;
    const dv = this.#view;
    let p = this.#pos;
    b[p++] = 0x0a;
    p = putVarint(b, p, body);
    b.set(labels, p);
    p += labels.length;
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

  /** The request so far: a view into the reused buffer, valid until the next reset(). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }
}

/** A decoded WriteRequest: series with their sample range in shared parallel arrays. */
export interface DecodedWriteRequest {
  series: DecodedSeries[];
  /** Samples over all series. */
  count: number;
  ts: Float64Array;
  values: Float64Array;
  /** 1 where the value was exactly StaleNaN (0x7ff0000000000002). */
  stale: Uint8Array;
  /** Exemplars and histograms seen (not stored: gleaner keeps neither yet). */
  exemplars: number;
  histograms: number;
}

export interface DecodedSeries {
  /** Names and values interleaved, in wire order. */
  labels: string[];
  /** Sample range [start, end) in the arrays of the request. */
  start: number;
  end: number;
}

/** Reads protobuf fields; every error names the byte offset. */
class Reader {
  p: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
    readonly dv: DataView,
  ) {
    this.p = start;
  }

  varint(): number {
    const b = this.b;
    let v = 0;
    let mul = 1;
    const at = this.p;
    for (let i = 0; i < 10; i++) {
      if (this.p >= this.end) throw new SyntaxError(`truncated varint at byte ${at}`);
      const x = b[this.p++]!;
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 128;
    }
    throw new SyntaxError(`varint longer than 10 bytes at byte ${at}`);
  }

  /** An int64 varint as a number (exact below 2^53 in magnitude). */
  int64(): number {
    const b = this.b;
    const at = this.p;
    // Fast path: up to 7 bytes (49 bits) is a non-negative exact number.
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 7 && this.p < this.end; i++) {
      const x = b[this.p++]!;
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 128;
    }
    this.p = at;
    let big = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.p >= this.end) throw new SyntaxError(`truncated varint at byte ${at}`);
      const x = b[this.p++]!;
      big |= BigInt(x & 0x7f) << shift;
      if (x < 0x80) return Number(BigInt.asIntN(64, big));
      shift += 7n;
    }
    throw new SyntaxError(`varint longer than 10 bytes at byte ${at}`);
  }

  /** The end of a length-delimited field starting here. */
  len(): number {
    const at = this.p;
    const n = this.varint();
    const end = this.p + n;
    if (end > this.end) throw new SyntaxError(`field at byte ${at} claims ${n} bytes, only ${this.end - this.p} left`);
    return end;
  }

  string(): string {
    const end = this.len();
    const b = this.b;
    let s = "";
    let i = this.p;
    for (; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) break;
      s += String.fromCharCode(c);
    }
    if (i < end) {
      try {
        s = utf8Strict.decode(b.subarray(this.p, end));
      } catch {
        throw new SyntaxError(`invalid UTF-8 in the string at byte ${this.p}`);
      }
    }
    this.p = end;
    return s;
  }

  skip(wire: number): void {
    const at = this.p;
    if (wire === 0) this.varint();
    else if (wire === 1) this.p += 8;
    else if (wire === 2) this.p = this.len();
    else if (wire === 5) this.p += 4;
    else throw new SyntaxError(`unsupported protobuf wire type ${wire} at byte ${at}`);
    if (this.p > this.end) throw new SyntaxError(`field at byte ${at} runs past its message`);
  }
}

/**
 * Parses a (decompressed) WriteRequest. Throws SyntaxError naming the byte offset and the
 * field when the bytes are not a valid message.
 */
export function decodeWriteRequest(b: Uint8Array): DecodedWriteRequest {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const r = new Reader(b, 0, b.length, dv);
  let cap = Math.max(16, b.length >>> 4);
  let ts = new Float64Array(cap);
  let values = new Float64Array(cap);
  let stale = new Uint8Array(cap);
  let count = 0;
  const out: DecodedWriteRequest = { series: [], count: 0, ts, values, stale, exemplars: 0, histograms: 0 };
  while (r.p < r.end) {
    const tagAt = r.p;
    const tag = r.varint();
    if (tag !== 0x0a) {
      if (tag >>> 3 === 0) throw new SyntaxError(`invalid field number 0 at byte ${tagAt}`);
      r.skip(tag & 7);
      continue;
    }
    const tsEnd = r.len();
    const labels: string[] = [];
    const start = count;
    while (r.p < tsEnd) {
      const at = r.p;
      const t = r.varint();
      const field = t >>> 3;
      const wire = t & 7;
      if (field === 1 && wire === 2) {
        const lEnd = r.len();
        let name = "";
        let value = "";
        const inner = new Reader(b, r.p, lEnd, dv);
        while (inner.p < lEnd) {
          const lt = inner.varint();
          if (lt === 0x0a) name = inner.string();
          else if (lt === 0x12) value = inner.string();
          else inner.skip(lt & 7);
        }
        r.p = lEnd;
        labels.push(name, value);
      } else if (field === 2 && wire === 2) {
        const sEnd = r.len();
        let v = 0;
        let isStale = 0;
        let time = 0;
        const inner = new Reader(b, r.p, sEnd, dv);
        while (inner.p < sEnd) {
          const st = inner.varint();
          if (st === 0x09) {
            if (inner.p + 8 > sEnd) throw new SyntaxError(`truncated sample value at byte ${inner.p}`);
            isStale = dv.getUint32(inner.p, true) === STALE_LO && dv.getUint32(inner.p + 4, true) === STALE_HI ? 1 : 0;
            v = dv.getFloat64(inner.p, true);
            inner.p += 8;
          } else if (st === 0x10) {
            time = inner.int64();
          } else {
            inner.skip(st & 7);
          }
        }
        r.p = sEnd;
        if (count === cap) {
          cap *= 2;
          const nts = new Float64Array(cap);
          nts.set(ts);
          ts = nts;
          const nv = new Float64Array(cap);
          nv.set(values);
          values = nv;
          const ns = new Uint8Array(cap);
          ns.set(stale);
          stale = ns;
        }
        ts[count] = time;
        values[count] = v;
        stale[count] = isStale;
        count++;
      } else if (field === 3 && wire === 2) {
        out.exemplars++;
        r.skip(2);
      } else if (field === 4 && wire === 2) {
        out.histograms++;
        r.skip(2);
      } else {
        if (field === 0) throw new SyntaxError(`invalid field number 0 at byte ${at}`);
        r.skip(wire);
      }
    }
    if (r.p !== tsEnd) throw new SyntaxError(`time series ending at byte ${tsEnd} is malformed`);
    out.series.push({ labels, start, end: count });
  }
  out.count = count;
  out.ts = ts;
  out.values = values;
  out.stale = stale;
  return out;
}
