/**
 * The compact sample section of a type-2 record (format: see index.ts): refs as runs of
 * consecutive numbers, one timestamp when a scrape shares it, and each value in the
 * smallest of its forms (integer delta, short decimal, raw bits, stale marker) with a 4-bit
 * code per sample that also gives the byte width, so decoding reads a small integer as one
 * masked u32 with no branch on its width (twice as fast as varints here).
 *
 * The hot loops are small functions of their own over typed arrays, no object per sample:
 * the JIT optimises each reliably. Every value class is exact: a decimal is only chosen when
 * `m / 10^k` gives back the very same bits, and anything else keeps its raw bits (NaN
 * payloads included: they are copied as two u32 halves, never read as a JS number).
 */
import { putVarint } from "../../varint.ts";

export const TS_SHARED = 0;
export const TS_DELTAS = 1;
export const TS_RAW = 2;
export const REFS_DELTAS = 0;
export const REFS_RUNS = 1;

/** Value codes (a nibble a sample): 0..6 an integer delta in code + 1 bytes. */
const C_INT_MAX = 6;
/** 7..12: a decimal, zz(m)·16 + k in code − 6 bytes. */
const C_DEC = 7;
const C_DEC_MAX = 12;
const C_RAW = 13;
const C_STALE = 14;
/** An integer equal to the previous integer (delta 0), no bytes. */
const C_SAME = 15;

export const STALE_LO = 0x00000002;
export const STALE_HI = 0x7ff00000;
/** Decimal mantissas stay below this, so zz(m)·16 + k fits 6 bytes (< raw 8). */
const DEC_LIMIT = 2 ** 43;
/** Integer deltas stay below this, so their zigzag is an exact float64 integer. */
const INT_DELTA_LIMIT = 2 ** 52;
const MAX_K = 15;
const POW10 = Float64Array.from({ length: MAX_K + 1 }, (_, k) => 10 ** k);

/** Worst-case bytes of the section after its count (refs ≤ 5, ts ≤ 8, value ≤ 8, tag ½ a sample). */
export function compactBound(n: number): number {
  return 32 + n * 22;
}

export function tsMode(ts: Float64Array, n: number): number {
  const t0 = ts[0]!;
  let i = 1;
  while (i < n && ts[i] === t0) i++;
  if (i === n) return TS_SHARED;
  for (i = 1; i < n; i++) {
    const d = ts[i]! - ts[i - 1]!;
    if ((d | 0) !== d) return TS_RAW;
  }
  return TS_DELTAS;
}

function put32(b: Uint8Array, p: number, v: number): number {
  while (v >= 0x80) {
    b[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[p++] = v;
  return p;
}

/**
 * Refs as runs of consecutive numbers (ref[i] = ref[i−1] + 1), until they cover all n: per
 * run varint zz(first − last ref of the previous run, from 0), varint (length − 1). Returns
 * the position after them, or -1 when they would take more than n bytes (then one delta a
 * sample is as small: the caller writes those instead).
 */
export function putRuns(b: Uint8Array, p: number, refs: Uint32Array, n: number): number {
  const limit = p + n;
  let last = 0;
  let i = 0;
  while (i < n) {
    const first = refs[i]!;
    let j = i + 1;
    while (j < n && refs[j] === refs[j - 1]! + 1) j++;
    const d = first - last;
    p = putVarint(b, p, d >= 0 ? d * 2 : -d * 2 - 1);
    p = put32(b, p, j - i - 1);
    if (p > limit) return -1;
    last = refs[j - 1]!;
    i = j;
  }
  return p;
}

/** Decodes runs into `out`; returns the new position, or -1 when they are malformed. */
export function getRuns(b: Uint8Array, p: number, end: number, out: Uint32Array, n: number): number {
  const r = { p };
  let last = 0;
  let i = 0;
  while (i < n) {
    const z = varintAt(b, r, end);
    const len = varintAt(b, r, end) + 1;
    if (z < 0 || len < 1 || i + len > n) return -1;
    const first = last + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
    last = first + len - 1;
    if (first < 0 || last > 0xffffffff) return -1;
    fillRun(out, i, len, first);
    i += len;
  }
  return r.p;
}

function fillRun(out: Uint32Array, at: number, len: number, first: number): void {
  if (first + len <= 0x7fffffff) {
    // Int32 arithmetic: twice as fast as counting in doubles.
    const base = (first | 0) - at;
    for (let i = at, stop = at + len; i < stop; i++) out[i] = base + i;
  } else {
    for (let i = 0; i < len; i++) out[at + i] = first + i;
  }
}

/** A varint at r.p (advancing it); -1 when it runs past `end` or is too long. Not for hot loops. */
function varintAt(b: Uint8Array, r: { p: number }, end: number): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (r.p >= end) return -1;
    const x = b[r.p++]!;
    v += (x & 0x7f) * mul;
    if (x < 0x80) return v;
    mul *= 128;
  }
  return -1;
}

/**
 * Writes the value codes (⌈n/2⌉ bytes at `tagsAt`, sample i in the low nibble when i is even)
 * and the value bytes from `p`; returns the position after the values. Needs 4 bytes of slack
 * after the last value (compactBound has them): small integers are stored as 4 and kept as w.
 */
export function putValues(b: Uint8Array, tagsAt: number, p: number, values: Float64Array, stale: Uint8Array, n: number): number {
  const bits = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  let prev = 0;
  let pending = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    let code: number;
    if (stale[i] === 1) {
      code = C_STALE;
    } else if ((v | 0) === v && (v !== 0 || bits[2 * i + 1] === 0)) {
      // An int32 (not -0): the usual counter, bucket or gauge.
      const d = v - prev;
      if ((d | 0) === d) {
        prev = v;
        if (d === 0) {
          code = C_SAME;
        } else {
          const z = ((d << 1) ^ (d >> 31)) >>> 0;
          const w = (39 - Math.clz32(z)) >> 3;
          b[p] = z;
          b[p + 1] = z >>> 8;
          b[p + 2] = z >>> 16;
          b[p + 3] = z >>> 24;
          p += w;
          code = w - 1;
        }
      } else {
        // After a wide integer: its delta may exceed int32 (or even 2^52).
        code = otherValue(b, p, v, prev, bits, i);
        if (code <= C_INT_MAX || code === C_SAME) prev = v;
        p = slotP;
      }
    } else {
      code = otherValue(b, p, v, prev, bits, i);
      if (code <= C_INT_MAX || code === C_SAME) prev = v;
      p = slotP;
    }
    if ((i & 1) === 0) pending = code;
    else b[tagsAt + (i >> 1)] = pending | (code << 4);
  }
  if ((n & 1) === 1) b[tagsAt + (n >> 1)] = pending;
  return p;
}

/** Where otherValue() left the write position (a module slot: no object per sample). */
let slotP = 0;

/**
 * Everything but a stale marker and an int32: a wider integer, a decimal, or raw bits (-0,
 * NaN payloads, ±Inf, full-precision floats). Writes at `p`, sets slotP, returns the code.
 */
function otherValue(b: Uint8Array, p: number, v: number, prev: number, bits: Uint32Array, i: number): number {
  const lo = bits[2 * i]!;
  const hi = bits[2 * i + 1]!;
  slotP = p;
  if (lo === STALE_LO && hi === STALE_HI) return C_STALE;
  if ((hi & 0x7ff00000) !== 0x7ff00000 && v !== 0) {
    // Finite, not ±0 (-0 stays raw: an integer delta would lose its sign).
    if (Number.isInteger(v)) {
      const d = v - prev;
      if (Math.abs(v) <= Number.MAX_SAFE_INTEGER && Math.abs(d) < INT_DELTA_LIMIT) {
        if (d === 0) return C_SAME;
        slotP = putWide(b, p, d >= 0 ? d * 2 : -d * 2 - 1);
        return slotP - p - 1;
      }
    } else {
      const k = decimalScale(v);
      if (k > 0) {
        slotP = putWide(b, p, (decM >= 0 ? decM * 2 : -decM * 2 - 1) * 16 + k);
        return C_DEC + slotP - p - 1;
      }
    }
  }
  b[p] = lo;
  b[p + 1] = lo >>> 8;
  b[p + 2] = lo >>> 16;
  b[p + 3] = lo >>> 24;
  b[p + 4] = hi;
  b[p + 5] = hi >>> 8;
  b[p + 6] = hi >>> 16;
  b[p + 7] = hi >>> 24;
  slotP = p + 8;
  return C_RAW;
}

/** Writes a non-negative integer < 2^53 in as few little-endian bytes as it takes (≥ 1). */
function putWide(b: Uint8Array, p: number, z: number): number {
  // No % on doubles (a slow fmod call): split off the high word, then shift.
  if (z > 0xffffffff) {
    const hi = Math.floor(z / 4294967296);
    const lo = z - hi * 4294967296;
    b[p] = lo;
    b[p + 1] = lo >>> 8;
    b[p + 2] = lo >>> 16;
    b[p + 3] = lo >>> 24;
    p += 4;
    z = hi;
  }
  do {
    b[p++] = z;
    z >>>= 8;
  } while (z > 0);
  return p;
}

/** The mantissa decimalScale() found (a module slot: no object per sample). */
let decM = 0;

/**
 * The smallest k in 1..15 with m = round(v·10^k), |m| < 2^43 and m / 10^k === v (m in decM);
 * else 0. A cheap closeness test spares the division for the k that cannot work.
 */
function decimalScale(v: number): number {
  const a = Math.abs(v);
  for (let k = 1; k <= MAX_K; k++) {
    const p = POW10[k]!;
    const x = v * p;
    if (a * p >= DEC_LIMIT) return 0;
    const m = Math.round(x);
    // v is within half an ulp of m / 10^k, so x is within about an ulp of m: 2^-50 leaves room.
    if (Math.abs(x - m) <= a * p * 8.9e-16 && m / p === v) {
      decM = m;
      return k;
    }
  }
  return 0;
}

const MASK = Int32Array.of(0xff, 0xffff, 0xffffff, -1);

/**
 * Reads `n` values back (see putValues) into `out` (through `bits`, its u32 view) and marks
 * stale markers; returns the position after them, or -1 when they are malformed.
 */
export function getValues(b: Uint8Array, tagsAt: number, p: number, end: number, out: Float64Array, bits: Uint32Array, stale: Uint8Array, n: number): number {
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const code = (b[tagsAt + (i >> 1)]! >>> ((i & 1) << 2)) & 15;
    if (code < 4 && p + 4 <= end) {
      // The hot path: an integer delta of 1..4 bytes, read as one masked u32 (no branch on its width).
      const z = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) & MASK[code]!;
      p += code + 1;
      prev += (z >>> 1) ^ -(z & 1);
      out[i] = prev;
    } else if (code === C_SAME) {
      out[i] = prev;
    } else if (code <= C_DEC_MAX) {
      const w = code <= C_INT_MAX ? code + 1 : code - C_DEC + 1;
      if (p + w > end) return -1;
      let z = 0;
      for (let j = w - 1; j >= 0; j--) z = z * 256 + b[p + j]!;
      p += w;
      if (z > Number.MAX_SAFE_INTEGER) return -1;
      // The low bits come from the first byte (no % on doubles: a slow fmod call).
      if (code <= C_INT_MAX) {
        prev += (b[p - w]! & 1) === 0 ? z / 2 : -(z + 1) / 2;
        out[i] = prev;
      } else {
        const k = b[p - w]! & 15;
        if (k === 0) return -1;
        const zm = (z - k) / 16;
        out[i] = ((b[p - w]! & 16) === 0 ? zm / 2 : -(zm + 1) / 2) / POW10[k]!;
      }
    } else if (code === C_RAW) {
      if (p + 8 > end) return -1;
      const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
      const hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
      bits[2 * i] = lo;
      bits[2 * i + 1] = hi;
      if (lo === STALE_LO && hi === STALE_HI) stale[i] = 1;
      p += 8;
    } else {
      bits[2 * i] = STALE_LO;
      bits[2 * i + 1] = STALE_HI;
      stale[i] = 1;
    }
  }
  return p;
}
