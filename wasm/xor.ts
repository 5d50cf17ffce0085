/**
 * Typed bindings for the XOR (Gorilla) chunk codec in wasm/assembly/xor.ts.
 *
 * A chunk is a handle (a pointer into WASM memory); nothing per chunk or per sample lives
 * in JS. Timestamps cross as numbers (integer milliseconds, exact below 2^53). Values cross
 * as numbers only where their bits cannot matter: JavaScriptCore canonicalises NaN payloads,
 * so StaleNaN (0x7ff0000000000002) and any other NaN payload go through `appendStale()`,
 * `appendBits()` or an `XorBatch` (raw bits in WASM memory), and come back as raw bits
 * (`valueHi`/`valueLo`, `isStale`) from an iterator.
 *
 * @example
 * const xor = new XorCodec(await core());
 * const c = xor.create();
 * xor.append(c, 1_700_000_000_000, 1.5);
 * xor.appendStale(c, 1_700_000_015_000);
 * const it = xor.iterator(c);
 * while (it.next()) console.log(it.t, it.isStale ? "stale" : it.value);
 * it.close();
 * xor.free(c);
 */
import {
  ABI_VERSION,
  XOR_CHUNK_HEADER_SIZE,
  STALE_NAN_HI,
  STALE_NAN_LO,
  XOR_ERR_CORRUPT,
  XOR_ITER_STALE,
  XOR_ITER_T,
  XOR_ITER_V,
} from "./assembly/abi.ts";
import type { Core } from "./index.ts";

export {
  XOR_DUPLICATE,
  XOR_ERR_CORRUPT,
  XOR_ERR_DUPLICATE_TIMESTAMP,
  XOR_ERR_FULL,
  XOR_ERR_OUT_OF_ORDER,
  XOR_MAX_SAMPLES,
  XOR_OK,
} from "./assembly/abi.ts";

const XOR_SNAPSHOT_HEADER = XOR_CHUNK_HEADER_SIZE;

/** Tags snapshot records: a build with another ABI or chunk header cannot read them. */
export const SNAPSHOT_FORMAT = `xor-abi${ABI_VERSION}-h${XOR_CHUNK_HEADER_SIZE}`;

/** A chunk in WASM memory (pointer to its header). 0 is never a valid chunk. */
export type ChunkHandle = number;

interface XorExports {
  xorNew(): number;
  xorFree(c: number): void;
  xorCount(c: number): number;
  xorBytesPtr(c: number): number;
  xorBytesLen(c: number): number;
  xorMinTime(c: number): number;
  xorMaxTime(c: number): number;
  xorAppend(c: number, t: number, v: number): number;
  xorAppendBits(c: number, t: number, hi: number, lo: number): number;
  xorAppendStale(c: number, t: number): number;
  xorAppendBatch(chunks: number, ts: number, vbits: number, n: number, status: number): number;
  xorIterNew(c: number): number;
  xorIterReset(it: number, c: number): void;
  xorIterNext(it: number): number;
  xorIterFree(it: number): void;
  xorDecode(c: number, tsOut: number, vbitsOut: number, max: number): number;
  xorFromBytes(ptr: number, len: number): number;
  xorSnapshot(handles: number, n: number, out: number, cap: number, result: number): void;
  xorRestoreMany(src: number, bytes: number, handles: number, max: number): number;
  alloc(size: number): number;
  free(ptr: number, size: number): void;
}

const TWO_32 = 4294967296;

/** Reads the i64 at byte offset `p` as a number (exact for |t| < 2^53). */
function readI64(u32: Uint32Array, i32: Int32Array, p: number): number {
  return i32[(p >>> 2) + 1]! * TWO_32 + u32[p >>> 2]!;
}

function writeI64(u32: Uint32Array, i32: Int32Array, p: number, t: number): void {
  const hi = Math.floor(t / TWO_32);
  u32[p >>> 2] = t - hi * TWO_32;
  i32[(p >>> 2) + 1] = hi;
}

export class XorCodec {
  readonly #core: Core;
  readonly #x: XorExports;

  constructor(core: Core) {
    this.#core = core;
    this.#x = core.exports as unknown as XorExports;
  }

  /** Creates an empty chunk. May grow memory. */
  create(): ChunkHandle {
    return this.#x.xorNew();
  }

  free(c: ChunkHandle): void {
    this.#x.xorFree(c);
  }

  /** Number of samples in the chunk (the TSDB cuts chunks at 120). */
  count(c: ChunkHandle): number {
    return this.#x.xorCount(c);
  }

  minTime(c: ChunkHandle): number {
    return this.#x.xorMinTime(c);
  }

  maxTime(c: ChunkHandle): number {
    return this.#x.xorMaxTime(c);
  }

  /**
   * Appends (t, v). A NaN `v` is written with whatever bits the engine hands over (its
   * canonical NaN); use appendBits() for an exact payload. Returns XOR_OK, XOR_DUPLICATE or
   * a negative XOR_ERR_* code. May grow memory.
   */
  append(c: ChunkHandle, t: number, v: number): number {
    return this.#x.xorAppend(c, t, v);
  }

  /** Appends (t, value bits) with the 64 value bits as two u32 halves. */
  appendBits(c: ChunkHandle, t: number, hi: number, lo: number): number {
    return this.#x.xorAppendBits(c, t, hi, lo);
  }

  /** Appends a stale marker (StaleNaN) at t. */
  appendStale(c: ChunkHandle, t: number): number {
    return this.#x.xorAppendStale(c, t);
  }

  /** A copy of the chunk's bytes in Prometheus's XOR chunk format. */
  bytes(c: ChunkHandle): Uint8Array {
    const p = this.#x.xorBytesPtr(c);
    return this.#core.views().u8.slice(p, p + this.#x.xorBytesLen(c));
  }

  /**
   * Loads Prometheus XOR chunk bytes into a new chunk that can be appended to.
   * @throws SyntaxError when the bytes are not a valid XOR chunk.
   */
  fromBytes(bytes: Uint8Array): ChunkHandle {
    const p = this.#x.alloc(Math.max(bytes.length, 1));
    this.#core.views().u8.set(bytes, p);
    const c = this.#x.xorFromBytes(p, bytes.length);
    this.#x.free(p, Math.max(bytes.length, 1));
    if (c === 0) {
      throw new SyntaxError(`Cannot load XOR chunk: its ${bytes.length} bytes end early or hold a malformed sample`);
    }
    return c;
  }

  /**
   * The chunks `handles` as snapshot records (wasm/assembly/xor.ts: their whole appender
   * state, readable only by this build: see SNAPSHOT_FORMAT), handed to `sink` in pieces of
   * at most `piece` bytes (each a fresh copy).
   */
  snapshot(handles: Uint32Array, sink: (records: Uint8Array) => void, piece = 4 << 20): void {
    const x = this.#x;
    const batch = Math.min(handles.length, 65_536);
    const hp = x.alloc(Math.max(batch, 1) * 4);
    const out = x.alloc(piece);
    const res = x.alloc(8);
    try {
      for (let i = 0; i < handles.length; ) {
        const n = Math.min(batch, handles.length - i);
        this.#core.views().u32.set(handles.subarray(i, i + n), hp >>> 2);
        x.xorSnapshot(hp, n, out, piece, res);
        const v = this.#core.views();
        const done = v.u32[res >>> 2]!;
        if (done === 0) throw new RangeError(`Cannot snapshot chunk ${handles[i]}: its record is larger than ${piece} bytes`);
        sink(v.u8.slice(out, out + v.u32[(res >>> 2) + 1]!));
        i += done;
      }
    } finally {
      x.free(hp, Math.max(batch, 1) * 4);
      x.free(out, piece);
      x.free(res, 8);
    }
  }

  /**
   * Restores `count` chunks from snapshot records (what snapshot() wrote, concatenated);
   * returns their handles in record order.
   * @throws SyntaxError when a record is not one this build writes (no chunk is left allocated).
   */
  restore(records: Uint8Array, count: number): Uint32Array {
    const x = this.#x;
    const handles = new Uint32Array(count);
    const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
    const piece = 4 << 20;
    let scratch = 0;
    let scratchSize = 0;
    const hp = x.alloc(Math.max(Math.min(count, 65_536), 1) * 4);
    let done = 0;
    let at = 0;
    try {
      while (done < count) {
        // Whole records, up to `piece` bytes (or one, however large) and 65,536 chunks.
        let end = at;
        let n = 0;
        while (done + n < count && n < 65_536 && end + 4 <= records.length) {
          const len = 4 + XOR_SNAPSHOT_HEADER + dv.getUint32(end, true);
          if (n > 0 && end + len - at > piece) break;
          end += len;
          n++;
        }
        if (n === 0 || end > records.length) throw new SyntaxError(`Cannot restore chunk ${done + 1} of ${count}: the snapshot's chunk records end early`);
        if (end - at > scratchSize) {
          if (scratch !== 0) x.free(scratch, scratchSize);
          scratchSize = Math.max(piece, end - at);
          scratch = x.alloc(scratchSize);
        }
        this.#core.views().u8.set(records.subarray(at, end), scratch);
        const got = x.xorRestoreMany(scratch, end - at, hp, n);
        if (got !== n) throw new SyntaxError(`Cannot restore chunk ${done + (got < 0 ? -got : got + 1)} of ${count}: its snapshot record does not hold a chunk this build wrote`);
        handles.set(this.#core.views().u32.subarray(hp >>> 2, (hp >>> 2) + n), done);
        done += n;
        at = end;
      }
    } catch (e) {
      for (let i = 0; i < done; i++) x.xorFree(handles[i]!);
      throw e;
    } finally {
      if (scratch !== 0) x.free(scratch, scratchSize);
      x.free(hp, Math.max(Math.min(count, 65_536), 1) * 4);
    }
    return handles;
  }

  /** An iterator over the samples in the chunk now; close() it when done. */
  iterator(c: ChunkHandle): XorIterator {
    return new XorIterator(this.#core, this.#x, c);
  }

  /** Decodes every sample: exact i64 timestamps and raw value bits. For tests and tools. */
  decodeBits(c: ChunkHandle): { t: BigInt64Array; bits: BigUint64Array } {
    const n = this.count(c);
    const bytes = Math.max(n * 8, 8);
    const ts = this.#x.alloc(bytes);
    const vs = this.#x.alloc(bytes);
    const got = this.#x.xorDecode(c, ts, vs, n);
    const buf = this.#core.exports.memory.buffer;
    const out = got < 0 ? null : { t: new BigInt64Array(buf.slice(ts, ts + got * 8)), bits: new BigUint64Array(buf.slice(vs, vs + got * 8)) };
    this.#x.free(ts, bytes);
    this.#x.free(vs, bytes);
    if (out === null) throw new SyntaxError(`Cannot decode XOR chunk ${c}: its bytes end early or hold a malformed sample`);
    return out;
  }

  /** A reusable struct-of-arrays batch for appendBatch(). */
  batch(capacity: number): XorBatch {
    return new XorBatch(this.#core, this.#x, capacity);
  }
}

/** Reads samples one at a time; the current sample lives in WASM memory, not in JS objects. */
export class XorIterator {
  readonly #core: Core;
  readonly #x: XorExports;
  #it: number;

  constructor(core: Core, x: XorExports, c: ChunkHandle) {
    this.#core = core;
    this.#x = x;
    this.#it = x.xorIterNew(c);
  }

  /** Restarts at the beginning of chunk c (reusing this iterator). */
  reset(c: ChunkHandle): void {
    this.#x.xorIterReset(this.#it, c);
  }

  /** Advances; false at the end. @throws SyntaxError on corrupt chunk bytes. */
  next(): boolean {
    if (this.#it === 0) return false; // closed
    const r = this.#x.xorIterNext(this.#it);
    if (r === XOR_ERR_CORRUPT) throw new SyntaxError("Cannot iterate XOR chunk: its bytes end early or hold a malformed sample");
    return r === 1;
  }

  /** Timestamp in ms (exact below 2^53). */
  get t(): number {
    const v = this.#core.views();
    return readI64(v.u32, v.i32, this.#it + XOR_ITER_T);
  }

  /** Timestamp as an exact i64. */
  get tBig(): bigint {
    return this.#core.views().dv.getBigInt64(this.#it + XOR_ITER_T, true);
  }

  /** The value as a number; NaN payloads are not preserved (see valueHi/valueLo/isStale). */
  get value(): number {
    return this.#core.views().f64[(this.#it + XOR_ITER_V) >>> 3]!;
  }

  get valueHi(): number {
    return this.#core.views().u32[((this.#it + XOR_ITER_V) >>> 2) + 1]!;
  }

  get valueLo(): number {
    return this.#core.views().u32[(this.#it + XOR_ITER_V) >>> 2]!;
  }

  /** True when the value's bits are exactly StaleNaN. */
  get isStale(): boolean {
    return this.#core.views().u32[(this.#it + XOR_ITER_STALE) >>> 2] === 1;
  }

  close(): void {
    if (this.#it !== 0) this.#x.xorIterFree(this.#it);
    this.#it = 0;
  }
}

/**
 * Struct-of-arrays sample batch in WASM memory: chunk handle (u32), timestamp (i64) and
 * value bits (u64) per sample, plus a status (i32) per sample after append(). The pointers
 * are public so WASM-side producers can fill the arrays directly.
 */
export class XorBatch {
  readonly #core: Core;
  readonly #x: XorExports;
  #cap = 0;
  chunksPtr = 0;
  tsPtr = 0;
  vbitsPtr = 0;
  statusPtr = 0;

  constructor(core: Core, x: XorExports, capacity: number) {
    this.#core = core;
    this.#x = x;
    this.ensure(capacity);
  }

  get capacity(): number {
    return this.#cap;
  }

  /** Grows the arrays to hold at least n samples (contents are not kept). May grow memory. */
  ensure(n: number): void {
    if (n <= this.#cap) return;
    this.dispose();
    const cap = Math.max(n, 16);
    this.chunksPtr = this.#x.alloc(cap * 4);
    this.tsPtr = this.#x.alloc(cap * 8);
    this.vbitsPtr = this.#x.alloc(cap * 8);
    this.statusPtr = this.#x.alloc(cap * 4);
    this.#cap = cap;
  }

  /** Sets sample i to (chunk, t, v); v's NaN payload is not kept (use setBits/setStale). */
  set(i: number, chunk: ChunkHandle, t: number, v: number): void {
    const w = this.#core.views();
    w.u32[(this.chunksPtr >>> 2) + i] = chunk;
    writeI64(w.u32, w.i32, this.tsPtr + i * 8, t);
    w.f64[(this.vbitsPtr >>> 3) + i] = v;
  }

  setBits(i: number, chunk: ChunkHandle, t: number, hi: number, lo: number): void {
    const w = this.#core.views();
    w.u32[(this.chunksPtr >>> 2) + i] = chunk;
    writeI64(w.u32, w.i32, this.tsPtr + i * 8, t);
    const q = (this.vbitsPtr >>> 2) + i * 2;
    w.u32[q] = lo;
    w.u32[q + 1] = hi;
  }

  /** Sets sample i from an exact i64 timestamp and u64 value bits (BigInts: tools, not hot paths). */
  setExact(i: number, chunk: ChunkHandle, t: bigint, bits: bigint): void {
    const w = this.#core.views();
    w.u32[(this.chunksPtr >>> 2) + i] = chunk;
    w.dv.setBigInt64(this.tsPtr + i * 8, t, true);
    w.dv.setBigUint64(this.vbitsPtr + i * 8, bits, true);
  }

  setStale(i: number, chunk: ChunkHandle, t: number): void {
    this.setBits(i, chunk, t, STALE_NAN_HI, STALE_NAN_LO);
  }

  /** Appends samples 0..n-1 in order; returns how many did not get XOR_OK (see status()). */
  append(n: number): number {
    if (n > this.#cap) throw new RangeError(`Cannot append a batch of ${n} samples: its capacity is ${this.#cap}`);
    return this.#x.xorAppendBatch(this.chunksPtr, this.tsPtr, this.vbitsPtr, n, this.statusPtr);
  }

  /** Status of sample i from the last append(). */
  status(i: number): number {
    return this.#core.views().i32[(this.statusPtr >>> 2) + i]!;
  }

  dispose(): void {
    if (this.#cap === 0) return;
    this.#x.free(this.chunksPtr, this.#cap * 4);
    this.#x.free(this.tsPtr, this.#cap * 8);
    this.#x.free(this.vbitsPtr, this.#cap * 8);
    this.#x.free(this.statusPtr, this.#cap * 4);
    this.#cap = 0;
  }
}
