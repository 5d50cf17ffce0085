/**
 * Record framing and the transaction payloads of the write-ahead log (format: see index.ts):
 * type 1 (plain: varint refs and timestamp deltas, raw value bits) is still read, and still
 * written by `encodeTx` for tests and benchmarks; type 2 bodies (`encodeBody`, the compact
 * sample section of compact.ts) are what the WAL writes, compressed by compress.ts.
 *
 * Encoding is one pass over struct-of-arrays input into a reused scratch buffer. Little-endian
 * hosts only (type 1's value block is the Float64Array's own bytes).
 */
import { Labels } from "../../../core/model/labels.ts";
import type { WalExemplar, WalSamples, WalSeries } from "./index.ts";
import { withRoom } from "../../bytes.ts";
import { putVarint } from "../../varint.ts";
import { STALE_HI, STALE_LO, compactBound, getRuns, getValues, putRuns, putValues, REFS_DELTAS, REFS_RUNS, TS_DELTAS as C_TS_DELTAS, TS_RAW as C_TS_RAW, TS_SHARED, tsMode } from "./compact.ts";

/** The plain transaction record (read forever; no longer written by the WAL). */
export const RECORD_TX = 1;
/** A transaction whose body (compact samples) is stored or zstd-compressed: see compress.ts. */
export const RECORD_TX_Z = 2;
/** type u8 + payload length u32 LE. */
export const HEADER_BYTES = 5;
export const CRC_BYTES = 4;
const TS_DELTAS = 0;
const TS_RAW = 1;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("The WAL codec needs a little-endian host: it stores float64 bits by memory copy");
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder("utf-8", { fatal: false });

export class Encoder {
  #buf = new Uint8Array(1 << 16);
  #pos = 0;
  #prevSeriesRef = 0;

  /** Frames one type-1 transaction; the returned bytes are a copy the caller owns. */
  encodeTx(series: readonly WalSeries[], s: WalSamples): Uint8Array {
    this.#pos = HEADER_BYTES;
    this.#series(series);
    this.#samples(s);
    if (s.exemplars !== undefined && s.exemplars.length > 0) this.#exemplars(s.exemplars);
    return this.#frame(RECORD_TX);
  }

  /** The body of a type-2 transaction (series, compact samples, exemplars); a copy the caller owns. */
  encodeBody(series: readonly WalSeries[], s: WalSamples): Uint8Array {
    this.begin(series.length);
    this.seriesRange(series, 0, series.length);
    this.tail(s);
    return this.#buf.slice(0, this.#pos);
  }

  /** The part of a type-2 body after the series (samples, exemplars); a copy the caller owns. */
  encodeTail(s: WalSamples): Uint8Array {
    this.#pos = 0;
    this.tail(s);
    return this.#buf.slice(0, this.#pos);
  }

  // A body piece by piece (for a commit too big to encode in one go): begin(), seriesRange()
  // until all are in, then tail() or bytes(), then take().

  begin(nSeries: number): void {
    this.#pos = 0;
    this.#prevSeriesRef = 0;
    this.#varint(nSeries);
  }

  seriesRange(series: readonly WalSeries[], from: number, to: number): void {
    let prev = this.#prevSeriesRef;
    for (let i = from; i < to; i++) {
      const s = series[i]!;
      this.#varint(zigzag(s.ref - prev));
      prev = s.ref;
      this.#labels(s.labels);
    }
    this.#prevSeriesRef = prev;
  }

  tail(s: WalSamples): void {
    this.#compactSamples(s);
    if (s.exemplars !== undefined && s.exemplars.length > 0) this.#exemplars(s.exemplars);
  }

  bytes(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  /** The bytes written since begin(), without a copy: only for an encoder used once. */
  take(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  #frame(type: number): Uint8Array {
    const len = this.#pos - HEADER_BYTES;
    if (len > 0xffffffff) throw new RangeError(`Cannot write a WAL record of ${len} bytes: the limit is 4 GiB`);
    this.#ensure(CRC_BYTES);
    const b = this.#buf;
    b[0] = type;
    b[1] = len & 0xff;
    b[2] = (len >>> 8) & 0xff;
    b[3] = (len >>> 16) & 0xff;
    b[4] = (len >>> 24) & 0xff;
    const crc = Bun.hash.crc32(b.subarray(0, this.#pos));
    writeU32(b, this.#pos, crc);
    this.#pos += CRC_BYTES;
    return b.slice(0, this.#pos);
  }

  #ensure(n: number): void {
    this.#buf = withRoom(this.#buf, this.#pos, n);
  }

  #varint(v: number): void {
    this.#ensure(10);
    this.#pos = putVarint(this.#buf, this.#pos, v);
  }

  #string(str: string): void {
    const len = str.length;
    this.#ensure(len * 3 + 5);
    const b = this.#buf;
    if (len < 128) {
      // Label names and values are mostly short ASCII: copy the code units straight in.
      let p = this.#pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = str.charCodeAt(i);
        if (c >= 0x80) break;
        b[p++] = c;
      }
      if (i === len) {
        b[this.#pos] = len;
        this.#pos = p;
        return;
      }
    }
    const bytes = utf8.encode(str);
    this.#varint(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  #series(series: readonly WalSeries[]): void {
    this.#varint(series.length);
    this.#prevSeriesRef = 0;
    this.seriesRange(series, 0, series.length);
  }

  #labels(labels: Labels): void {
    this.#varint(labels.size);
    for (const [n, v] of labels) {
      this.#string(n);
      this.#string(v);
    }
  }

  #exemplars(list: readonly WalExemplar[]): void {
    this.#varint(list.length);
    let prev = 0;
    const f = new Float64Array(2);
    const fb = new Uint8Array(f.buffer);
    for (const e of list) {
      this.#varint(zigzag(e.ref - prev));
      prev = e.ref;
      f[0] = e.t;
      f[1] = e.v;
      this.#ensure(16);
      this.#buf.set(fb, this.#pos);
      this.#pos += 16;
      this.#labels(e.labels);
    }
  }

  #compactSamples(s: WalSamples): void {
    const n = checkSamples(s);
    this.#varint(n);
    if (n === 0) return;
    const { refs, ts, values, stale } = s;
    const tmode = tsMode(ts, n);
    this.#ensure(compactBound(n));
    const b = this.#buf;
    let p = this.#pos;
    const layoutAt = p++;
    const q = putRuns(b, p, refs, n);
    b[layoutAt] = tmode | ((q < 0 ? REFS_DELTAS : REFS_RUNS) << 2);
    p = q < 0 ? putRefs(b, p, refs, n) : q;
    if (tmode === TS_SHARED) {
      p = putF64(b, p, ts, 0, 1);
    } else if (tmode === C_TS_DELTAS) {
      p = putF64(b, p, ts, 0, 1);
      p = putTsDeltas(b, p, ts, n);
    } else {
      p = putF64(b, p, ts, 0, n);
    }
    const tagsAt = p;
    p = putValues(b, tagsAt, tagsAt + ((n + 1) >> 1), values, stale, n);
    this.#pos = p;
  }

  #samples(s: WalSamples): void {
    const n = checkSamples(s);
    this.#varint(n);
    if (n === 0) return;
    const { refs, ts, values, stale } = s;
    const mode = allInt32Deltas(ts, n) ? TS_DELTAS : TS_RAW;
    // refs ≤ 5 bytes (zigzag of a u32 delta < 2^33), ts ≤ 5 or 8, values 8.
    this.#ensure(1 + 8 + n * (5 + 8 + 8) + 8);
    const b = this.#buf;
    let p = this.#pos;
    b[p++] = mode;
    p = putRefs(b, p, refs, n);
    if (mode === TS_DELTAS) {
      p = putF64(b, p, ts, 0, 1);
      p = putTsDeltas(b, p, ts, n);
    } else {
      p = putF64(b, p, ts, 0, n);
    }
    const vstart = p;
    p = putF64(b, p, values, 0, n);
    markStale(b, vstart, stale, n);
    this.#pos = p;
  }
}

/** Validates a sample batch before anything is written; returns its count. */
export function checkSamples(s: WalSamples): number {
  const n = s.count;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`Cannot encode WAL samples: count must be a non-negative integer, got ${n}`);
  if (s.refs.length < n || s.ts.length < n || s.values.length < n || s.stale.length < n) {
    throw new RangeError(`Cannot encode WAL samples: count ${n} exceeds an array's length`);
  }
  return n;
}

export interface DecodedTx {
  series: WalSeries[];
  samples: WalSamples | null;
  exemplars: WalExemplar[] | null;
}

/** Parses one type-1 transaction payload (without framing); throws SyntaxError when malformed. */
export function decodeTx(b: Uint8Array, start: number, end: number): DecodedTx {
  const r = new Reader(b, start, end);
  const series = decodeSeries(r);
  const n = r.varint();
  if (n === 0) return { series, samples: null, exemplars: decodeExemplars(r) };
  const mode = r.byte();
  const refs = new Uint32Array(n);
  r.p = getRefs(b, r.p, end, refs, n);
  if (r.p < 0) throw new SyntaxError("sample refs run past the payload");
  const ts = new Float64Array(n);
  if (mode === TS_DELTAS) {
    r.f64s(ts, 1);
    r.p = getTsDeltas(b, r.p, end, ts, n);
    if (r.p < 0) throw new SyntaxError("timestamp deltas run past the payload or exceed int32");
  } else if (mode === TS_RAW) {
    r.f64s(ts, n);
  } else {
    throw new SyntaxError(`unknown timestamp encoding ${mode}`);
  }
  const values = new Float64Array(n);
  r.f64s(values, n);
  const exemplars = decodeExemplars(r);
  const stale = findStale(new Uint32Array(values.buffer), n);
  return { series, samples: { count: n, refs, ts, values, stale }, exemplars };
}

/** Parses one type-2 body (after decompression); throws SyntaxError when malformed. */
export function decodeBody(b: Uint8Array, start: number, end: number): DecodedTx {
  const r = new Reader(b, start, end);
  const series = decodeSeries(r);
  const n = r.varint();
  if (n === 0) return { series, samples: null, exemplars: decodeExemplars(r) };
  // Every sample takes at least half a byte (its code): a bigger count is corruption, not an allocation.
  if (n > (end - r.p) * 2) throw new SyntaxError(`${n} samples cannot fit in ${end - r.p} bytes`);
  const layout = r.byte();
  const tmode = layout & 3;
  const refsMode = layout >> 2;
  const refs = new Uint32Array(n);
  if (refsMode === REFS_RUNS) r.p = getRuns(b, r.p, end, refs, n);
  else if (refsMode === REFS_DELTAS) r.p = getRefs(b, r.p, end, refs, n);
  else throw new SyntaxError(`unknown sample layout ${layout}`);
  if (r.p < 0) throw new SyntaxError("sample refs are malformed or run past the payload");
  const ts = new Float64Array(n);
  if (tmode === TS_SHARED) {
    r.f64s(ts, 1);
    ts.fill(ts[0]!);
  } else if (tmode === C_TS_DELTAS) {
    r.f64s(ts, 1);
    r.p = getTsDeltas(b, r.p, end, ts, n);
    if (r.p < 0) throw new SyntaxError("timestamp deltas run past the payload or exceed int32");
  } else if (tmode === C_TS_RAW) {
    r.f64s(ts, n);
  } else {
    throw new SyntaxError(`unknown sample layout ${layout}`);
  }
  const tagsAt = r.p;
  const tagBytes = (n + 1) >> 1;
  if (tagsAt + tagBytes > end) throw new SyntaxError("sample tags run past the payload");
  const values = new Float64Array(n);
  const stale = new Uint8Array(n);
  r.p = getValues(b, tagsAt, tagsAt + tagBytes, end, values, new Uint32Array(values.buffer), stale, n);
  if (r.p < 0) throw new SyntaxError("sample values are malformed or run past the payload");
  const exemplars = decodeExemplars(r);
  return { series, samples: { count: n, refs, ts, values, stale }, exemplars };
}

function decodeSeries(r: Reader): WalSeries[] {
  const ns = r.varint();
  const series: WalSeries[] = [];
  // Series of one target share most label names and values with the series before them:
  // the string of the same field of the previous series is reused when its bytes match,
  // which skips most string decoding (and shares the strings).
  const prevAt: number[] = [];
  const prevLen: number[] = [];
  const prevStr: string[] = [];
  let ref = 0;
  for (let k = 0; k < ns; k++) {
    ref += unzigzag(r.varint());
    const nl = r.varint();
    const flat: string[] = [];
    for (let f = 0; f < 2 * nl; f++) {
      const len = r.varint();
      const at = r.p;
      let str: string;
      if (f < prevAt.length && prevLen[f] === len && sameBytes(r.b, prevAt[f]!, at, len)) {
        str = prevStr[f]!;
        r.skip(len);
      } else {
        str = r.stringOf(len);
        prevAt[f] = at;
        prevLen[f] = len;
        prevStr[f] = str;
      }
      flat.push(str);
    }
    series.push({ ref, labels: Labels.fromSorted(flat) });
  }
  return series;
}

function sameBytes(b: Uint8Array, x: number, y: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (b[x + i] !== b[y + i]) return false;
  return true;
}

/** The optional exemplar section at the end of a transaction (null when absent). */
function decodeExemplars(r: Reader): WalExemplar[] | null {
  if (r.p === r.end) return null;
  const n = r.varint();
  const out: WalExemplar[] = [];
  const f = new Float64Array(2);
  let ref = 0;
  for (let k = 0; k < n; k++) {
    ref += unzigzag(r.varint());
    r.f64s(f, 2);
    const nl = r.varint();
    const flat: string[] = [];
    for (let j = 0; j < nl; j++) flat.push(r.string(), r.string());
    out.push({ ref, t: f[0]!, v: f[1]!, labels: Labels.fromSorted(flat) });
  }
  r.done();
  return out;
}

class Reader {
  constructor(
    readonly b: Uint8Array,
    public p: number,
    readonly end: number,
  ) {}

  #need(n: number): void {
    if (this.p + n > this.end) throw new SyntaxError(`payload ends early at byte ${this.p}`);
  }

  byte(): number {
    this.#need(1);
    return this.b[this.p++]!;
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const x = this.byte();
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 128;
    }
    throw new SyntaxError(`varint too long at byte ${this.p}`);
  }

  string(): string {
    return this.stringOf(this.varint());
  }

  skip(len: number): void {
    this.#need(len);
    this.p += len;
  }

  /** A string of `len` bytes at the current position. */
  stringOf(len: number): string {
    this.#need(len);
    const b = this.b;
    const start = this.p;
    const end = start + len;
    this.p = end;
    // ASCII (most label names and values) decodes as latin1, which is much cheaper.
    let i = start;
    while (i < end && b[i]! < 0x80) i++;
    if (i === end) return this.#latin1().toString("latin1", start, end);
    return utf8d.decode(b.subarray(start, end));
  }

  #buf: Buffer | null = null;
  #latin1(): Buffer {
    this.#buf ??= Buffer.from(this.b.buffer, this.b.byteOffset, this.b.length);
    return this.#buf;
  }

  f64s(out: Float64Array, n: number): void {
    this.#need(n * 8);
    new Uint8Array(out.buffer, out.byteOffset, n * 8).set(this.b.subarray(this.p, this.p + n * 8));
    this.p += n * 8;
  }

  done(): void {
    if (this.p !== this.end) throw new SyntaxError(`${this.end - this.p} unexpected bytes after the payload`);
  }
}

// The hot loops live in small functions of their own: the JIT optimises each reliably
// (one function holding all of them ran 10× slower in some runs).

function allInt32Deltas(ts: Float64Array, n: number): boolean {
  for (let i = 1; i < n; i++) {
    const d = ts[i]! - ts[i - 1]!;
    if ((d | 0) !== d) return false;
  }
  return true;
}

function putRefs(b: Uint8Array, p: number, refs: Uint32Array, n: number): number {
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const r = refs[i]!;
    const d = r - prev;
    prev = r;
    if ((d | 0) === d) {
      let v = ((d << 1) ^ (d >> 31)) >>> 0;
      while (v >= 0x80) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[p++] = v;
    } else {
      p = putVarint(b, p, zigzag(d));
    }
  }
  return p;
}

/** Deltas known to be int32 (see allInt32Deltas), zigzagged. */
function putTsDeltas(b: Uint8Array, p: number, ts: Float64Array, n: number): number {
  for (let i = 1; i < n; i++) {
    const d = (ts[i]! - ts[i - 1]!) | 0;
    let v = ((d << 1) ^ (d >> 31)) >>> 0;
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
  }
  return p;
}

function markStale(b: Uint8Array, vstart: number, stale: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) {
    if (stale[i] === 1) {
      writeU32(b, vstart + i * 8, STALE_LO);
      writeU32(b, vstart + i * 8 + 4, STALE_HI);
    }
  }
}

/** Decodes `n` zigzag ref deltas; returns the new position, or -1 past `end`. */
function getRefs(b: Uint8Array, p: number, end: number, out: Uint32Array, n: number): number {
  let prev = 0;
  for (let i = 0; i < n; i++) {
    if (p >= end) return -1;
    let x = b[p++]!;
    let z = x;
    if (x >= 0x80) {
      z = x & 0x7f;
      let mul = 128;
      do {
        if (p >= end || mul > 2 ** 63) return -1;
        x = b[p++]!;
        z += (x & 0x7f) * mul;
        mul *= 128;
      } while (x >= 0x80);
    }
    prev += z <= 0xffffffff ? (z >>> 1) ^ -(z & 1) : unzigzag(z);
    out[i] = prev;
  }
  return p;
}

/** Decodes n − 1 int32 zigzag timestamp deltas after ts[0]; -1 past `end` or out of range. */
function getTsDeltas(b: Uint8Array, p: number, end: number, ts: Float64Array, n: number): number {
  let prev = ts[0]!;
  for (let i = 1; i < n; i++) {
    if (p >= end) return -1;
    let x = b[p++]!;
    let z = x;
    if (x >= 0x80) {
      z = x & 0x7f;
      let shift = 7;
      do {
        if (p >= end || shift > 28) return -1;
        x = b[p++]!;
        z = (z | ((x & 0x7f) << shift)) >>> 0;
        shift += 7;
      } while (x >= 0x80);
    }
    prev += (z >>> 1) ^ -(z & 1);
    ts[i] = prev;
  }
  return p;
}

/** stale[i] = 1 where value i holds exactly the StaleNaN bits. */
function findStale(halves: Uint32Array, n: number): Uint8Array {
  const stale = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (halves[2 * i] === STALE_LO && halves[2 * i + 1] === STALE_HI) stale[i] = 1;
  }
  return stale;
}

/** Copies `n` float64s' raw bits (no NaN canonicalisation: a byte copy). */
function putF64(b: Uint8Array, p: number, src: Float64Array, from: number, n: number): number {
  b.set(new Uint8Array(src.buffer, src.byteOffset + from * 8, n * 8), p);
  return p + n * 8;
}

/** Zigzag without 32-bit ops: |v| < 2^52 stays exact. */
function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

export function writeU32(b: Uint8Array, p: number, v: number): void {
  b[p] = v & 0xff;
  b[p + 1] = (v >>> 8) & 0xff;
  b[p + 2] = (v >>> 16) & 0xff;
  b[p + 3] = (v >>> 24) & 0xff;
}

export function readU32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}
