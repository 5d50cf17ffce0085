// XOR (Gorilla) chunk codec with Prometheus's chunk layout (tsdb/chunkenc/xor.go behaviour):
//
//   bytes 0..1  sample count, big-endian u16
//   sample 0    timestamp as a zig-zag varint (Go binary.PutVarint), value as raw 64 bits
//   sample 1    timestamp delta as a uvarint (Go binary.PutUvarint), value XOR-encoded
//   sample n≥2  delta-of-delta: '0' | '10'+14 bits | '110'+17 bits | '1110'+20 bits |
//               '1111'+64 bits, then the value XOR-encoded
//   value       '0' when equal to the previous value's bits; else '1' then either
//               '0' + the meaningful bits inside the previous leading/trailing window (when
//               the new XOR fits in it), or '1' + 5 bits leading (clamped to 31) + 6 bits
//               significant-bit count (64 written as 0) + the significant bits.
//
// Bits are written most significant first; the last byte is zero-padded. Go's bstream adds
// one more, empty, byte when the stream ends on a byte boundary and its last write was a
// whole byte (writeByte always appends the next byte; writeBit does not): a single-sample
// chunk ends in 00, and so does a chunk whose last value wrote a multiple of 8 bits that
// ended aligned. The PAD flag reproduces that so the bytes match Prometheus's exactly
// (checked against promtool-written chunks in wasm/xor.test.ts). A bucket of n bits
// holds -(2^(n-1)-1) .. 2^(n-1): the reader treats a raw value above 2^(n-1) as negative, so
// -2^(n-1) itself needs the next bucket (Prometheus's bitRange()).
//
// Byte compatibility is checked against chunks written by Prometheus 2.42 (promtool, see
// wasm/testdata/). Unverified: that 3.x writes the same bytes (we know of no change to
// xor.go or bstream.go that would alter them), and appending to a chunk re-opened from
// bytes: we continue exactly as if the chunk had been built here, where Prometheus's
// Appender() on a re-opened chunk whose values never changed starts from a 0/0 window
// instead (both decode the same; Prometheus only does that for chunks it re-opens).
//
// Timestamps are i64 milliseconds; deltas are computed in wrapping u64 arithmetic, exactly
// like Go's uint64(t - a.t), so every i64 timestamp pair round-trips.
//
// Policy that lives here rather than in the TSDB, because a chunk must never hold it:
// a timestamp before the last one is rejected (XOR_ERR_OUT_OF_ORDER). An equal timestamp is
// rejected too, the way Prometheus's head does it (the codec itself would encode a zero
// delta): identical value bits give XOR_DUPLICATE (nothing written, not an error for the
// head), different bits give XOR_ERR_DUPLICATE_TIMESTAMP.
//
// Memory: a chunk is a 48-byte header (below) plus a growable byte buffer, both from
// alloc(). The buffer always keeps at least SLACK zero bytes past the last written byte, so
// the bit writer/reader can use unaligned 8-byte loads/stores without bounds checks.
import { alloc, allocZeroed, blockSize, free } from "./alloc";
import {
  XOR_CHUNK_BITS,
  XOR_CHUNK_BUF,
  XOR_CHUNK_CAP,
  XOR_CHUNK_COUNT,
  XOR_CHUNK_HEADER_SIZE,
  XOR_CHUNK_LAST_T,
  XOR_CHUNK_LAST_V,
  XOR_DUPLICATE,
  XOR_ERR_CORRUPT,
  XOR_ERR_DUPLICATE_TIMESTAMP,
  XOR_ERR_FULL,
  XOR_ERR_OUT_OF_ORDER,
  XOR_ITER_END,
  XOR_ITER_LEADING,
  XOR_ITER_POS,
  XOR_ITER_READ,
  XOR_ITER_SIZE,
  XOR_ITER_STALE,
  XOR_ITER_CHUNK,
  XOR_ITER_T,
  XOR_ITER_TDELTA,
  XOR_ITER_TOTAL,
  XOR_ITER_TRAILING,
  XOR_ITER_V,
  XOR_MAX_SAMPLES,
  XOR_OK,
} from "./abi";

// Header fields not needed by JS stay private.
const TDELTA: usize = 24;
const LEADING: usize = 40;
const TRAILING: usize = 41;
const PAD: usize = 42;

// A new chunk's buffer: 64 bytes, of which 32 are for samples (10–15 typical ones) and SLACK
// stays free past the last byte; it doubles as the chunk fills (most end at 256 or 512 bytes).
const INITIAL_CAP: usize = 64;
// The largest sample is 4+64 timestamp bits plus 1+1+5+6+64 value bits (19 bytes); the first
// one is a 10-byte varint plus 8 bytes. Writes touch up to 9 bytes past the current byte, so
// 19 + 9 bytes must be free before an append: SLACK is that, rounded up.
const SLACK: usize = 32;

export const STALE_NAN: u64 = 0x7ff0000000000002;

// ---------------------------------------------------------------------------------------
// Bit stream primitives. `pos` is a bit offset from `buf`.

// @ts-ignore: decorator
@inline function writeBits(buf: usize, pos: u32, v: u64, n: u32): u32 {
  // n in 1..64; bits of v above n are ignored.
  const p = buf + (<usize>pos >> 3);
  const off = <u64>(pos & 7);
  const s = v << <u64>(64 - n);
  store<u64>(p, bswap<u64>(bswap<u64>(load<u64>(p)) | (s >> off)));
  if (off != 0) store<u8>(p + 8, load<u8>(p + 8) | <u8>(s << (8 - off)));
  return pos + n;
}

// @ts-ignore: decorator
@inline function readBits(buf: usize, pos: u32, n: u32): u64 {
  // n in 1..64.
  const p = buf + (<usize>pos >> 3);
  const off = <u64>(pos & 7);
  let x = bswap<u64>(load<u64>(p)) << off;
  if (off != 0) x |= <u64>load<u8>(p + 8) >> (8 - off);
  return x >> <u64>(64 - n);
}

function writeUvarint(buf: usize, pos: u32, x: u64): u32 {
  while (x >= 0x80) {
    pos = writeBits(buf, pos, (x & 0x7f) | 0x80, 8);
    x >>= 7;
  }
  return writeBits(buf, pos, x, 8);
}

// Decoder scratch results (the decoder is single-threaded per instance).
let varintValue: u64 = 0;

/** Reads a uvarint at `pos` into varintValue; returns the new position or -1 when malformed. */
function readUvarint(buf: usize, pos: u32): i64 {
  let x: u64 = 0;
  let shift: u64 = 0;
  for (let i = 0; i < 10; i++) {
    const b = readBits(buf, pos, 8);
    pos += 8;
    if (b < 0x80) {
      if (i == 9 && b > 1) return -1; // overflows 64 bits (Go: errOverflow)
      varintValue = x | (b << shift);
      return <i64>pos;
    }
    x |= (b & 0x7f) << shift;
    shift += 7;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------
// Chunks

function newChunkWithCap(cap: usize): usize {
  const c = allocZeroed(XOR_CHUNK_HEADER_SIZE);
  const buf = allocZeroed(cap);
  store<u32>(c + XOR_CHUNK_BUF, <u32>buf);
  store<u32>(c + XOR_CHUNK_CAP, <u32>blockSize(cap));
  store<u32>(c + XOR_CHUNK_BITS, 16); // the count header
  store<u8>(c + LEADING, 0xff);
  return c;
}

/** Creates an empty chunk; returns its handle (a pointer to its header). */
export function xorNew(): usize {
  return newChunkWithCap(INITIAL_CAP);
}

/** Frees a chunk and its buffer. */
export function xorFree(c: usize): void {
  if (c == 0) return;
  free(<usize>load<u32>(c + XOR_CHUNK_BUF), <usize>load<u32>(c + XOR_CHUNK_CAP));
  free(c, XOR_CHUNK_HEADER_SIZE);
}

export function xorCount(c: usize): i32 {
  return <i32>load<u32>(c + XOR_CHUNK_COUNT);
}

/** Pointer to the chunk's bytes (count header included), valid until the next append. */
export function xorBytesPtr(c: usize): usize {
  return <usize>load<u32>(c + XOR_CHUNK_BUF);
}

/** Length of the chunk's bytes as Prometheus writes them (see PAD above). */
export function xorBytesLen(c: usize): i32 {
  const bits = load<u32>(c + XOR_CHUNK_BITS);
  return <i32>((bits + 7) >> 3) + ((bits & 7) == 0 ? <i32>load<u8>(c + PAD) : 0);
}

/** First and last timestamp as f64 (exact below 2^53; JS reads the i64 fields otherwise). */
export function xorMinTime(c: usize): f64 {
  // Not kept in the header (48 bytes a chunk, a million chunks): sample 0's timestamp is
  // the zig-zag varint right after the 2-byte count.
  if (load<u32>(c + XOR_CHUNK_COUNT) == 0) return 0;
  const buf = <usize>load<u32>(c + XOR_CHUNK_BUF);
  let x: u64 = 0;
  let shift: u64 = 0;
  for (let i: usize = 2; i < 12; i++) {
    const b = <u64>load<u8>(buf + i);
    x |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  return <f64>(<i64>(x >> 1) ^ -(<i64>(x & 1)));
}
export function xorMaxTime(c: usize): f64 {
  return <f64>load<i64>(c + XOR_CHUNK_LAST_T);
}

function ensureRoom(c: usize): usize {
  let buf = <usize>load<u32>(c + XOR_CHUNK_BUF);
  const cap = <usize>load<u32>(c + XOR_CHUNK_CAP);
  const used = <usize>((load<u32>(c + XOR_CHUNK_BITS) + 7) >> 3);
  if (used + SLACK <= cap) return buf;
  const nb = allocZeroed(cap << 1);
  memory.copy(nb, buf, used);
  free(buf, cap);
  store<u32>(c + XOR_CHUNK_BUF, <u32>nb);
  store<u32>(c + XOR_CHUNK_CAP, <u32>blockSize(cap << 1));
  return nb;
}

/** Appends one sample with the value given as raw bits. Returns XOR_OK or a status code. */
export function appendBits(c: usize, t: i64, vb: u64): i32 {
  const n = load<u32>(c + XOR_CHUNK_COUNT);
  if (n != 0) {
    const lt = load<i64>(c + XOR_CHUNK_LAST_T);
    if (t < lt) return XOR_ERR_OUT_OF_ORDER;
    if (t == lt) return vb == load<u64>(c + XOR_CHUNK_LAST_V) ? XOR_DUPLICATE : XOR_ERR_DUPLICATE_TIMESTAMP;
    if (n >= <u32>XOR_MAX_SAMPLES) return XOR_ERR_FULL;
  }
  const buf = ensureRoom(c);
  let pos = load<u32>(c + XOR_CHUNK_BITS);
  if (n == 0) {
    // Zig-zag varint, as Go's binary.PutVarint.
    pos = writeUvarint(buf, pos, <u64>((t << 1) ^ (t >> 63)));
    pos = writeBits(buf, pos, vb, 64);
    lastWriteWasByte = true;
  } else {
    const tDelta = <u64>t - <u64>load<i64>(c + XOR_CHUNK_LAST_T);
    if (n == 1) {
      pos = writeUvarint(buf, pos, tDelta);
    } else {
      const dod = <i64>(tDelta - load<u64>(c + TDELTA));
      if (dod == 0) {
        pos += 1; // a '0' bit: the buffer past pos is already zero
      } else if (dod >= -8191 && dod <= 8192) {
        pos = writeBits(buf, pos, (<u64>0b10 << 14) | (<u64>dod & 0x3fff), 16);
      } else if (dod >= -65535 && dod <= 65536) {
        pos = writeBits(buf, pos, (<u64>0b110 << 17) | (<u64>dod & 0x1ffff), 20);
      } else if (dod >= -524287 && dod <= 524288) {
        pos = writeBits(buf, pos, (<u64>0b1110 << 20) | (<u64>dod & 0xfffff), 24);
      } else {
        pos = writeBits(buf, pos, 0b1111, 4);
        pos = writeBits(buf, pos, <u64>dod, 64);
      }
    }
    store<u64>(c + TDELTA, tDelta);
    pos = writeValue(c, buf, pos, vb);
  }
  store<u8>(c + PAD, lastWriteWasByte ? 1 : 0);
  store<u32>(c + XOR_CHUNK_BITS, pos);
  store<i64>(c + XOR_CHUNK_LAST_T, t);
  store<u64>(c + XOR_CHUNK_LAST_V, vb);
  store<u32>(c + XOR_CHUNK_COUNT, n + 1);
  store<u16>(buf, bswap<u16>(<u16>(n + 1)));
  return XOR_OK;
}

// Whether Go's last bstream call for the sample was writeByte (see PAD).
let lastWriteWasByte = false;

// @ts-ignore: decorator
@inline function writeValue(c: usize, buf: usize, pos: u32, vb: u64): u32 {
  const delta = vb ^ load<u64>(c + XOR_CHUNK_LAST_V);
  lastWriteWasByte = false;
  if (delta == 0) return pos + 1; // '0'
  let leading = <u32>clz<u64>(delta);
  const trailing = <u32>ctz<u64>(delta);
  if (leading >= 32) leading = 31; // 5 bits hold at most 31
  const pl = <u32>load<u8>(c + LEADING);
  const pt = <u32>load<u8>(c + TRAILING);
  if (pl != 0xff && leading >= pl && trailing >= pt) {
    // '10' + the bits inside the previous window.
    pos = writeBits(buf, pos, 0b10, 2);
    lastWriteWasByte = ((pl + pt) & 7) == 0;
    return writeBits(buf, pos, delta >> pt, 64 - pl - pt);
  }
  store<u8>(c + LEADING, <u8>leading);
  store<u8>(c + TRAILING, <u8>trailing);
  const sig = 64 - leading - trailing; // 1..64; 64 is written as 0 in 6 bits
  // '11' + 5 bits leading + 6 bits significant count: 13 bits in one write.
  pos = writeBits(buf, pos, (<u64>0b11 << 11) | (<u64>leading << 6) | <u64>(sig & 63), 13);
  lastWriteWasByte = (sig & 7) == 0;
  return writeBits(buf, pos, delta >> trailing, sig);
}

/** Appends (t, v) with t and v as f64 (t must be an integer number of ms below 2^53). */
export function xorAppend(c: usize, t: f64, v: f64): i32 {
  return appendBits(c, <i64>t, reinterpret<u64>(v));
}

/** Appends (t, bits) with the value's 64 bits given as two u32 halves (NaN payloads kept). */
export function xorAppendBits(c: usize, t: f64, hi: u32, lo: u32): i32 {
  return appendBits(c, <i64>t, (<u64>hi << 32) | <u64>lo);
}

/** Appends a stale marker (StaleNaN, 0x7ff0000000000002) at t. */
export function xorAppendStale(c: usize, t: f64): i32 {
  return appendBits(c, <i64>t, STALE_NAN);
}

/**
 * Appends n samples given as struct-of-arrays in memory: chunk handles (u32), timestamps
 * (i64) and value bits (u64). Samples are appended in array order, so one chunk may appear
 * many times. When `statusPtr` is not 0, the status of sample i goes to statusPtr[i] (i32).
 * Returns the number of samples whose status is not XOR_OK.
 */
export function xorAppendBatch(chunksPtr: usize, tsPtr: usize, vbitsPtr: usize, n: i32, statusPtr: usize): i32 {
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i;
    const st = appendBits(<usize>load<u32>(chunksPtr + (o << 2)), load<i64>(tsPtr + (o << 3)), load<u64>(vbitsPtr + (o << 3)));
    if (st != XOR_OK) bad++;
    if (statusPtr != 0) store<i32>(statusPtr + (o << 2), st);
  }
  return bad;
}

// ---------------------------------------------------------------------------------------
// Iteration. An iterator reads a snapshot of the chunk (the samples present when it was
// reset); it follows the chunk's buffer if later appends move it.

/** Creates an iterator over chunk c (free it with xorIterFree). */
export function xorIterNew(c: usize): usize {
  const it = alloc(XOR_ITER_SIZE);
  xorIterReset(it, c);
  return it;
}

export function xorIterFree(it: usize): void {
  free(it, XOR_ITER_SIZE);
}

/** Points an iterator at the start of chunk c. */
export function xorIterReset(it: usize, c: usize): void {
  memory.fill(it, 0, XOR_ITER_SIZE);
  store<u32>(it + XOR_ITER_CHUNK, <u32>c);
  store<u32>(it + XOR_ITER_POS, 16);
  store<u32>(it + XOR_ITER_END, load<u32>(c + XOR_CHUNK_BITS));
  store<u32>(it + XOR_ITER_TOTAL, load<u32>(c + XOR_CHUNK_COUNT));
  store<u8>(it + XOR_ITER_LEADING, 0xff); // no leading/trailing window seen yet
}

/**
 * Decodes the next sample into the iterator's T (i64), V (value bits) and STALE (u32 flag)
 * fields. Returns 1 for a sample, 0 at the end, XOR_ERR_CORRUPT when the bytes run out or a
 * varint is malformed.
 */
export function xorIterNext(it: usize): i32 {
  const read = load<u32>(it + XOR_ITER_READ);
  if (read >= load<u32>(it + XOR_ITER_TOTAL)) return 0;
  const buf = <usize>load<u32>(<usize>load<u32>(it + XOR_ITER_CHUNK) + XOR_CHUNK_BUF);
  let pos = load<u32>(it + XOR_ITER_POS);
  let t = load<i64>(it + XOR_ITER_T);
  let vb = load<u64>(it + XOR_ITER_V);
  if (read == 0) {
    const p = readUvarint(buf, pos);
    if (p < 0) return XOR_ERR_CORRUPT;
    pos = <u32>p;
    const ux = varintValue;
    t = <i64>(ux >> 1) ^ -(<i64>(ux & 1)); // zig-zag decode
    vb = readBits(buf, pos, 64);
    pos += 64;
  } else {
    let tDelta: u64;
    if (read == 1) {
      const p = readUvarint(buf, pos);
      if (p < 0) return XOR_ERR_CORRUPT;
      pos = <u32>p;
      tDelta = varintValue;
    } else {
      const head = <u32>readBits(buf, pos, 4);
      let dod: i64 = 0;
      if ((head & 0b1000) == 0) {
        pos += 1;
      } else if ((head & 0b0100) == 0) {
        dod = signExtend(readBits(buf, pos + 2, 14), 14);
        pos += 16;
      } else if ((head & 0b0010) == 0) {
        dod = signExtend(readBits(buf, pos + 3, 17), 17);
        pos += 20;
      } else if ((head & 0b0001) == 0) {
        dod = signExtend(readBits(buf, pos + 4, 20), 20);
        pos += 24;
      } else {
        dod = <i64>readBits(buf, pos + 4, 64);
        pos += 68;
      }
      tDelta = load<u64>(it + XOR_ITER_TDELTA) + <u64>dod;
    }
    store<u64>(it + XOR_ITER_TDELTA, tDelta);
    t = <i64>(<u64>t + tDelta);
    // Value.
    if (readBits(buf, pos, 1) == 0) {
      pos += 1;
    } else if (readBits(buf, pos + 1, 1) == 0) {
      let l = <u32>load<u8>(it + XOR_ITER_LEADING);
      let tr = <u32>load<u8>(it + XOR_ITER_TRAILING);
      // No window yet: Prometheus's reader starts from leading = trailing = 0 (64 bits).
      // Its appender writes this only after re-opening such a chunk from bytes.
      if (l == 0xff) {
        l = 0;
        tr = 0;
      }
      const sig = 64 - l - tr;
      vb ^= readBits(buf, pos + 2, sig) << <u64>tr;
      pos += 2 + sig;
    } else {
      const hdr = <u32>readBits(buf, pos + 2, 11);
      const l = hdr >> 6;
      let sig = hdr & 63;
      if (sig == 0) sig = 64;
      if (l + sig > 64) return XOR_ERR_CORRUPT;
      const tr = 64 - l - sig;
      store<u8>(it + XOR_ITER_LEADING, <u8>l);
      store<u8>(it + XOR_ITER_TRAILING, <u8>tr);
      vb ^= readBits(buf, pos + 13, sig) << <u64>tr;
      pos += 13 + sig;
    }
  }
  if (pos > load<u32>(it + XOR_ITER_END)) return XOR_ERR_CORRUPT;
  store<u32>(it + XOR_ITER_POS, pos);
  store<i64>(it + XOR_ITER_T, t);
  store<u64>(it + XOR_ITER_V, vb);
  store<u32>(it + XOR_ITER_STALE, vb == STALE_NAN ? 1 : 0);
  store<u32>(it + XOR_ITER_READ, read + 1);
  return 1;
}

// @ts-ignore: decorator
@inline function signExtend(x: u64, bits: u32): i64 {
  // Prometheus reads a raw value above 2^(bits-1) as negative; 2^(bits-1) itself is positive.
  return x > (<u64>1 << <u64>(bits - 1)) ? <i64>x - (<i64>1 << <i64>bits) : <i64>x;
}

let scratchIter: usize = 0;

/**
 * Decodes up to `max` samples of chunk c into tsOut (i64) and vbitsOut (u64). Returns the
 * number decoded, or XOR_ERR_CORRUPT.
 */
export function xorDecode(c: usize, tsOut: usize, vbitsOut: usize, max: i32): i32 {
  if (scratchIter == 0) scratchIter = alloc(XOR_ITER_SIZE);
  const it = scratchIter;
  xorIterReset(it, c);
  let i = 0;
  while (i < max) {
    const r = xorIterNext(it);
    if (r == 0) break;
    if (r < 0) return r;
    store<i64>(tsOut + (<usize>i << 3), load<i64>(it + XOR_ITER_T));
    store<u64>(vbitsOut + (<usize>i << 3), load<u64>(it + XOR_ITER_V));
    i++;
  }
  return i;
}

/**
 * Creates a chunk from `len` bytes of Prometheus XOR chunk data at `ptr` (count header
 * first). Every sample is decoded to validate the data and to rebuild the appender state, so
 * appending continues at the exact bit after the last sample (Prometheus re-derives the
 * same state from its iterator). Returns the handle, or 0 when the bytes are not a valid
 * XOR chunk.
 */
export function xorFromBytes(ptr: usize, len: i32): usize {
  // A full chunk (65535 samples of at most 19 bytes) is about 1.2 MiB.
  if (len < 2 || len > 1 << 24) return 0;
  let cap = INITIAL_CAP;
  while (cap < <usize>len + SLACK) cap <<= 1;
  const c = newChunkWithCap(cap);
  const buf = <usize>load<u32>(c + XOR_CHUNK_BUF);
  memory.copy(buf, ptr, <usize>len);
  const total = <u32>bswap<u16>(load<u16>(buf));
  store<u32>(c + XOR_CHUNK_BITS, <u32>len << 3);
  store<u32>(c + XOR_CHUNK_COUNT, total);
  const it = alloc(XOR_ITER_SIZE);
  xorIterReset(it, c);
  let ok = true;
  for (let i: u32 = 0; i < total; i++) {
    if (xorIterNext(it) != 1) {
      ok = false;
      break;
    }
  }
  if (ok && total > 0) {
    const end = load<u32>(it + XOR_ITER_POS);
    store<u32>(c + XOR_CHUNK_BITS, end);
    // Keep Go's trailing empty byte when the input had one (see PAD).
    store<u8>(c + PAD, (end & 7) == 0 && (<u32>len << 3) > end ? 1 : 0);
    // Bits past the last sample must be zero for the OR-ing writer.
    const endByte = <usize>(end >> 3);
    if ((end & 7) != 0) {
      store<u8>(buf + endByte, load<u8>(buf + endByte) & <u8>(<u32>0xff << (8 - (end & 7))));
      memory.fill(buf + endByte + 1, 0, cap - endByte - 1);
    } else {
      memory.fill(buf + endByte, 0, cap - endByte);
    }
    store<i64>(c + XOR_CHUNK_LAST_T, load<i64>(it + XOR_ITER_T));
    store<u64>(c + XOR_CHUNK_LAST_V, load<u64>(it + XOR_ITER_V));
    store<u64>(c + TDELTA, load<u64>(it + XOR_ITER_TDELTA));
    // 0xff when no window was set yet, so appending continues exactly as if the chunk had
    // been built here from scratch. (Prometheus's Appender() on a re-opened chunk would
    // start from 0/0 instead and write a 64-bit window; both decode the same.)
    store<u8>(c + LEADING, load<u8>(it + XOR_ITER_LEADING));
    store<u8>(c + TRAILING, load<u8>(it + XOR_ITER_TRAILING));
  } else if (ok) {
    store<u32>(c + XOR_CHUNK_BITS, 16);
    memory.fill(buf + 2, 0, cap - 2);
  }
  free(it, XOR_ITER_SIZE);
  if (!ok) {
    xorFree(c);
    return 0;
  }
  return c;
}

// ---------------------------------------------------------------------------------------
// Snapshots (the head's open chunks at shutdown, reloaded at start-up without decoding).
// A record is: data length u32, the 48-byte header as it is in memory (its BUF and CAP
// fields are meaningless outside this memory and rewritten on restore), then the data bytes
// written so far ((BITS + 7) >> 3). Only this build's layout reads them back: the TSDB tags
// a snapshot with ABI_VERSION and XOR_CHUNK_HEADER_SIZE.

/**
 * Writes the records of chunks handles[0..n) (u32 each) to out[0..cap), stopping before a
 * record that does not fit. Stores at result the number of chunks written (u32) and at
 * result+4 the bytes written (u32).
 */
export function xorSnapshot(handles: usize, n: i32, out: usize, cap: usize, result: usize): void {
  let at: usize = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = <usize>load<u32>(handles + (<usize>i << 2));
    const len = <usize>((load<u32>(c + XOR_CHUNK_BITS) + 7) >> 3);
    if (at + 4 + XOR_CHUNK_HEADER_SIZE + len > cap) break;
    store<u32>(out + at, <u32>len);
    memory.copy(out + at + 4, c, XOR_CHUNK_HEADER_SIZE);
    memory.copy(out + at + 4 + XOR_CHUNK_HEADER_SIZE, <usize>load<u32>(c + XOR_CHUNK_BUF), len);
    at += 4 + XOR_CHUNK_HEADER_SIZE + len;
  }
  store<u32>(result, <u32>i);
  store<u32>(result + 4, <u32>at);
}

/**
 * Restores the chunks of the records in src[0..bytes) (xorSnapshot's format), writing their
 * handles to handles[0..max) (u32). Returns how many, or −1 − i when record i is not a chunk
 * this build could have written (its length, count or bit position do not agree); chunks
 * restored before it are freed then.
 */
export function xorRestoreMany(src: usize, bytes: usize, handles: usize, max: i32): i32 {
  let at: usize = 0;
  let i = 0;
  while (at < bytes && i < max) {
    if (at + 4 + XOR_CHUNK_HEADER_SIZE > bytes) return restoreFailed(handles, i);
    const len = <usize>load<u32>(src + at);
    const hdr = src + at + 4;
    const bits = load<u32>(hdr + XOR_CHUNK_BITS);
    const count = load<u32>(hdr + XOR_CHUNK_COUNT);
    if (
      at + 4 + XOR_CHUNK_HEADER_SIZE + len > bytes ||
      len < 2 ||
      <usize>((bits + 7) >> 3) != len ||
      count > <u32>XOR_MAX_SAMPLES ||
      <u32>bswap<u16>(load<u16>(hdr + XOR_CHUNK_HEADER_SIZE)) != count
    ) return restoreFailed(handles, i);
    let cap = INITIAL_CAP;
    while (cap < len + SLACK) cap <<= 1;
    const c = alloc(XOR_CHUNK_HEADER_SIZE);
    memory.copy(c, hdr, XOR_CHUNK_HEADER_SIZE);
    const buf = allocZeroed(cap);
    memory.copy(buf, hdr + XOR_CHUNK_HEADER_SIZE, len);
    store<u32>(c + XOR_CHUNK_BUF, <u32>buf);
    store<u32>(c + XOR_CHUNK_CAP, <u32>blockSize(cap));
    store<u32>(handles + (<usize>i << 2), <u32>c);
    at += 4 + XOR_CHUNK_HEADER_SIZE + len;
    i++;
  }
  return i;
}

function restoreFailed(handles: usize, n: i32): i32 {
  for (let k = 0; k < n; k++) xorFree(<usize>load<u32>(handles + (<usize>k << 2)));
  return -1 - n;
}
