// Decimal text ↔ IEEE double, with Go `strconv` semantics (spec §5.1, §8 "Float handling").
//
// parseFloat(): what Go's ParseFloat(s, 64) accepts for decimal input, minus hex floats and
// `_` (Prometheus rejects `p`, `P`, `_`): optional sign, digits with an optional `.`, an
// optional exponent; `inf`/`infinity` (signed or not) and unsigned `nan`, any case.
// Overflow to ±Inf is an error; underflow gives ±0. Results are correctly rounded
// (round-half-even), so they are bit-identical to JS `Number()` on valid decimals.
// Fast path: ≤15 significant digits and a small power of ten, exact in double arithmetic.
// Slow path: an arbitrary-precision decimal scaled by powers of two (exact).
//
// formatCanonical(): the OpenMetrics canonical text of a double, as Prometheus prints `le` and
// `quantile`: Go `%g` with the shortest round-trip digits, `.0` appended when the text has
// neither `.` nor `e`; `+Inf`, `-Inf`, `NaN`.

import { alloc } from "../alloc";

const MAXD: i32 = 800;

/** An arbitrary-precision decimal 0.d[0]d[1]…d[nd-1] × 10^dp (digits as 0..9, not ASCII). */
class Dec {
  d: usize = alloc(<usize>MAXD + 32);
  nd: i32 = 0;
  dp: i32 = 0;
  neg: bool = false;
  trunc: bool = false; // non-zero digits were dropped past MAXD
}

const decA = new Dec();
const decU = new Dec();
const decL = new Dec();

@inline function dig(a: Dec, i: i32): u32 {
  return <u32>load<u8>(a.d + <usize>i);
}

function trim(a: Dec): void {
  while (a.nd > 0 && load<u8>(a.d + <usize>(a.nd - 1)) == 0) a.nd--;
  if (a.nd == 0) a.dp = 0;
}

function assignU64(a: Dec, v: u64): void {
  // write digits backwards into a small scratch area at the end of the buffer
  let n = 0;
  const tmp = a.d + <usize>MAXD;
  while (v > 0) {
    const q = v / 10;
    store<u8>(tmp + <usize>n, <u8>(v - q * 10));
    n++;
    v = q;
  }
  for (let i = 0; i < n; i++) store<u8>(a.d + <usize>i, load<u8>(tmp + <usize>(n - 1 - i)));
  a.nd = n;
  a.dp = n;
  a.trunc = false;
  trim(a);
}

/** a /= 2^k, 1 ≤ k ≤ 60. */
function rshift(a: Dec, k: u32): void {
  let r = 0;
  let w = 0;
  let n: u64 = 0;
  for (; (n >> k) == 0; r++) {
    if (r >= a.nd) {
      if (n == 0) {
        a.nd = 0;
        a.dp = 0;
        return;
      }
      while ((n >> k) == 0) {
        n = n * 10;
        r++;
      }
      break;
    }
    n = n * 10 + <u64>dig(a, r);
  }
  a.dp -= r - 1;
  const mask: u64 = ((<u64>1) << k) - 1;
  for (; r < a.nd; r++) {
    const c = <u64>dig(a, r);
    store<u8>(a.d + <usize>w, <u8>(n >> k));
    w++;
    n = (n & mask) * 10 + c;
  }
  while (n > 0) {
    const dd = n >> k;
    n = n & mask;
    if (w < MAXD) {
      store<u8>(a.d + <usize>w, <u8>dd);
      w++;
    } else if (dd > 0) {
      a.trunc = true;
    }
    n = n * 10;
  }
  a.nd = w;
  trim(a);
}

/** a *= 2^k, 1 ≤ k ≤ 60. */
function lshift(a: Dec, k: u32): void {
  if (a.nd == 0) return;
  const delta = <i32>((k * 3) / 10) + 2; // ≥ the number of new leading digits
  let w = a.nd + delta - 1;
  let n: u64 = 0;
  for (let r = a.nd - 1; r >= 0; r--) {
    n += (<u64>dig(a, r)) << k;
    const q = n / 10;
    const rem = n - q * 10;
    if (w < MAXD) store<u8>(a.d + <usize>w, <u8>rem);
    else if (rem != 0) a.trunc = true;
    w--;
    n = q;
  }
  while (n > 0) {
    const q = n / 10;
    const rem = n - q * 10;
    if (w < MAXD) store<u8>(a.d + <usize>w, <u8>rem);
    else if (rem != 0) a.trunc = true;
    w--;
    n = q;
  }
  const start = w + 1; // first written digit (0 ≤ start ≤ delta)
  let nd = a.nd + delta - start;
  if (nd > MAXD - start) nd = MAXD - start;
  if (a.nd + delta > MAXD) nd = MAXD - start;
  if (start > 0) memory.copy(a.d, a.d + <usize>start, <usize>nd);
  a.nd = nd;
  a.dp += delta - start;
  trim(a);
}

/** a *= 2^k for any k (negative divides). */
function shift(a: Dec, k: i32): void {
  while (k > 60) {
    lshift(a, 60);
    k -= 60;
  }
  if (k > 0) lshift(a, <u32>k);
  while (k < -60) {
    rshift(a, 60);
    k += 60;
  }
  if (k < 0) rshift(a, <u32>-k);
}

function shouldRoundUp(a: Dec, nd: i32): bool {
  if (nd < 0 || nd >= a.nd) return false;
  if (dig(a, nd) == 5 && nd + 1 == a.nd) {
    if (a.trunc) return true;
    return nd > 0 && (dig(a, nd - 1) & 1) != 0;
  }
  return dig(a, nd) >= 5;
}

function roundDown(a: Dec, nd: i32): void {
  if (nd < 0 || nd >= a.nd) return;
  a.nd = nd;
  trim(a);
}

function roundUp(a: Dec, nd: i32): void {
  if (nd < 0 || nd >= a.nd) return;
  let i = nd - 1;
  while (i >= 0 && dig(a, i) == 9) i--;
  if (i < 0) {
    store<u8>(a.d, 1);
    a.nd = 1;
    a.dp++;
    return;
  }
  store<u8>(a.d + <usize>i, <u8>(dig(a, i) + 1));
  a.nd = i + 1;
}

function roundNearest(a: Dec, nd: i32): void {
  if (shouldRoundUp(a, nd)) roundUp(a, nd);
  else roundDown(a, nd);
}

function roundedInteger(a: Dec): u64 {
  let n: u64 = 0;
  let i = 0;
  for (; i < a.dp && i < a.nd; i++) n = n * 10 + <u64>dig(a, i);
  for (; i < a.dp; i++) n = n * 10;
  if (shouldRoundUp(a, a.dp)) n++;
  return n;
}

/** Set by decToDouble / parseFloat: 0 ok, FP_SYNTAX, FP_RANGE. */
export let fpErr: i32 = 0;
export const FP_SYNTAX: i32 = 1;
export const FP_RANGE: i32 = 2;

const BIAS: i32 = -1023;
/** Prometheus' NormalNaN (Go's math.NaN()), 0x7ff8000000000001. */
const NORMAL_NAN: u64 = 0x7ff8000000000001;

function decToDouble(a: Dec): f64 {
  const sign: u64 = a.neg ? (<u64>1) << 63 : 0;
  if (a.nd == 0 || a.dp < -330) return reinterpret<f64>(sign);
  if (a.dp > 310) {
    fpErr = FP_RANGE;
    return reinterpret<f64>(sign | 0x7ff0000000000000);
  }
  let exp: i32 = 0;
  while (a.dp > 0) {
    let n = (a.dp * 33) / 10;
    if (n > 60) n = 60;
    rshift(a, <u32>n);
    exp += n;
  }
  while (a.dp < 0 || (a.dp == 0 && dig(a, 0) < 5)) {
    let n = a.dp == 0 ? 1 : (-a.dp * 33) / 10;
    if (n > 60) n = 60;
    lshift(a, <u32>n);
    exp -= n;
  }
  // a in [0.5, 1): the double's range is [1, 2)
  exp--;
  if (exp < BIAS + 1) {
    const n = BIAS + 1 - exp;
    shift(a, -n);
    exp += n;
  }
  if (exp - BIAS >= 0x7ff) {
    fpErr = FP_RANGE;
    return reinterpret<f64>(sign | 0x7ff0000000000000);
  }
  lshift(a, 53);
  let mant = roundedInteger(a);
  if (mant == (<u64>2) << 52) {
    mant >>= 1;
    exp++;
    if (exp - BIAS >= 0x7ff) {
      fpErr = FP_RANGE;
      return reinterpret<f64>(sign | 0x7ff0000000000000);
    }
  }
  if ((mant & ((<u64>1) << 52)) == 0) exp = BIAS;
  const bits = (mant & (((<u64>1) << 52) - 1)) | ((<u64>((exp - BIAS) & 0x7ff)) << 52) | sign;
  return reinterpret<f64>(bits);
}

const POW10 = new StaticArray<f64>(23);
{
  let p: f64 = 1;
  for (let i = 0; i < 23; i++) {
    unchecked((POW10[i] = p));
    p *= 10;
  }
}

// ---- double-double fast path ----

let ddOk = false;
let tpErr: f64 = 0; // low part of the last twoProd
let tsErr: f64 = 0; // low part of the last twoSum

@inline function twoSum(a: f64, b: f64): f64 {
  const s = a + b;
  const bb = s - a;
  tsErr = (a - (s - bb)) + (b - bb);
  return s;
}

/** a × b = result + tpErr exactly (Dekker; no FMA in WASM MVP). */
function twoProd(a: f64, b: f64): f64 {
  const p = a * b;
  const ca = a * 134217729.0;
  const ah = ca - (ca - a);
  const al = a - ah;
  const cb = b * 134217729.0;
  const bh = cb - (cb - b);
  const bl = b - bh;
  tpErr = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  return p;
}

/**
 * m × 10^e for m < 10^19 and |e| ≤ 22, from hi + lo with a relative error far below 2^-90.
 * Sets ddOk only when hi is certainly the correctly rounded result.
 */
function ddScale(m: u64, e: i32): f64 {
  ddOk = false;
  const mh = <f64>m;
  const ml = <f64>(<i64>(m - <u64>mh));
  let hi: f64;
  let lo: f64;
  if (e >= 0) {
    const pw = unchecked(POW10[e]);
    const p1 = twoProd(mh, pw);
    const e1 = tpErr;
    hi = twoSum(p1, e1 + ml * pw);
    lo = tsErr;
  } else {
    const pw = unchecked(POW10[-e]);
    const q1 = mh / pw;
    const t1 = twoProd(q1, pw);
    const t2 = tpErr;
    const r = ((mh - t1) - t2) + ml;
    hi = twoSum(q1, r / pw);
    lo = tsErr;
  }
  if (hi == 0 || !isFinite(hi)) return hi;
  const bits = reinterpret<u64>(hi);
  if ((bits & 0x000fffffffffffff) == 0) return hi; // power of two: uneven neighbours, decide slowly
  const halfUlp = reinterpret<f64>((bits & 0x7ff0000000000000) - ((<u64>53) << 52));
  const tol = Math.abs(hi) * 8.077935669463161e-28; // 2^-90
  if (Math.abs(Math.abs(lo) - halfUlp) <= tol) return hi;
  if (Math.abs(lo) > halfUlp) return hi; // not normalised: should not happen; decide slowly
  ddOk = true;
  return hi;
}

@inline function lower(c: u32): u32 {
  return c | 0x20;
}

/** Case-insensitive match of the ASCII lower-case word at `w` (length n). */
function matchWord(p: usize, end: usize, w: string): bool {
  const n = w.length;
  if (<usize>n != end - p) return false;
  for (let i = 0; i < n; i++) {
    if (lower(<u32>load<u8>(p + <usize>i)) != <u32>w.charCodeAt(i)) return false;
  }
  return true;
}

/** Digits of the last fast-path parse (for canonical formatting): mantissa, exponent, count. */
export let fpFast: bool = false;
export let fpMant: u64 = 0;
export let fpExp10: i32 = 0;

/** Parses [p, end) as a whole. Sets fpErr (0 on success). */
export function parseFloat(p: usize, end: usize): f64 {
  fpErr = 0;
  fpFast = false;
  if (p >= end) {
    fpErr = FP_SYNTAX;
    return 0;
  }
  let neg = false;
  let q = p;
  let c = <u32>load<u8>(q);
  if (c == 0x2b || c == 0x2d) {
    neg = c == 0x2d;
    q++;
    if (q >= end) {
      fpErr = FP_SYNTAX;
      return 0;
    }
    c = <u32>load<u8>(q);
  }
  if (lower(c) == 0x69 /* i */) {
    if (matchWord(q, end, "inf") || matchWord(q, end, "infinity")) return neg ? -Infinity : Infinity;
    fpErr = FP_SYNTAX;
    return 0;
  }
  if (lower(c) == 0x6e /* n */ && q == p) {
    if (matchWord(q, end, "nan")) return reinterpret<f64>(NORMAL_NAN); // what Go's math.NaN() returns
    fpErr = FP_SYNTAX;
    return 0;
  }
  // mantissa
  let mant: u64 = 0;
  let nd = 0; // significant digits seen (after leading zeros)
  let ndMant = 0; // digits folded into mant
  let dp = 0; // decimal point position relative to the first significant digit
  let sawDot = false;
  let sawDigit = false;
  let trunc = false;
  const start = q;
  for (; q < end; q++) {
    c = <u32>load<u8>(q);
    if (c == 0x2e) {
      if (sawDot) break;
      sawDot = true;
      continue;
    }
    const d = c - 0x30;
    if (d > 9) break;
    sawDigit = true;
    if (d == 0 && nd == 0) {
      if (sawDot) dp--;
      continue;
    }
    nd++;
    if (!sawDot) dp++;
    if (ndMant < 19) {
      mant = mant * 10 + <u64>d;
      ndMant++;
    } else if (d != 0) {
      trunc = true;
    }
  }
  if (!sawDigit) {
    fpErr = FP_SYNTAX;
    return 0;
  }
  const mantEnd = q;
  let e: i32 = 0;
  if (q < end && lower(<u32>load<u8>(q)) == 0x65) {
    q++;
    let eneg = false;
    if (q < end && (load<u8>(q) == 0x2b || load<u8>(q) == 0x2d)) {
      eneg = load<u8>(q) == 0x2d;
      q++;
    }
    if (q >= end) {
      fpErr = FP_SYNTAX;
      return 0;
    }
    let any = false;
    for (; q < end; q++) {
      const d = <u32>load<u8>(q) - 0x30;
      if (d > 9) break;
      any = true;
      if (e < 100000) e = e * 10 + <i32>d;
    }
    if (!any) {
      fpErr = FP_SYNTAX;
      return 0;
    }
    if (eneg) e = -e;
  }
  if (q != end) {
    fpErr = FP_SYNTAX;
    return 0;
  }
  if (nd == 0) return neg ? -0.0 : 0.0;
  while (ndMant > 15 && !trunc && mant % 10 == 0) {
    mant /= 10;
    ndMant--;
  }
  // value = mant × 10^(dp + e - ndMant) when not truncated
  const e10 = dp + e - ndMant;
  if (!trunc && ndMant <= 15) {
    fpFast = true;
    fpMant = mant;
    fpExp10 = e10;
    let f = <f64>mant;
    if (e10 == 0) return neg ? -f : f;
    if (e10 > 0 && e10 <= 22) {
      f *= unchecked(POW10[e10]);
      return neg ? -f : f;
    }
    if (e10 < 0 && e10 >= -22) {
      f /= unchecked(POW10[-e10]);
      return neg ? -f : f;
    }
    if (e10 > 22 && e10 <= 22 + 15 - ndMant) {
      f *= unchecked(POW10[e10 - 22]);
      f *= unchecked(POW10[22]);
      return neg ? -f : f;
    }
  }
  // up to 19 digits and a small power of ten: double-double arithmetic, exact unless the
  // result lies too close to a rounding midpoint to decide
  if (!trunc && e10 >= -22 && e10 <= 22) {
    const f = ddScale(mant, e10);
    if (ddOk) return neg ? -f : f;
  }
  // slow path: load all digits into the decimal
  const a = decA;
  a.neg = neg;
  a.trunc = false;
  let n = 0;
  let first = true;
  for (let r = start; r < mantEnd; r++) {
    const ch = <u32>load<u8>(r);
    if (ch == 0x2e) continue;
    const d = ch - 0x30;
    if (first && d == 0) continue;
    first = false;
    if (n < MAXD) {
      store<u8>(a.d + <usize>n, <u8>d);
      n++;
    } else if (d != 0) {
      a.trunc = true;
    }
  }
  a.nd = n;
  let dpe = <i64>dp + <i64>e;
  if (dpe > 100000) dpe = 100000;
  if (dpe < -100000) dpe = -100000;
  a.dp = <i32>dpe;
  trim(a);
  return decToDouble(a);
}

// ---- canonical formatting ----

/** Computes the shortest digits that round-trip to v (finite, non-zero magnitude) into decA. */
function shortestDigits(v: f64): void {
  const bits = reinterpret<u64>(v);
  let mant = bits & (((<u64>1) << 52) - 1);
  let exp = <i32>((bits >> 52) & 0x7ff);
  if (exp == 0) exp++;
  else mant |= (<u64>1) << 52;
  exp += BIAS; // v = mant × 2^(exp-52)
  const d = decA;
  assignU64(d, mant);
  shift(d, exp - 52);
  if (d.nd == 0) return;
  const u = decU;
  assignU64(u, mant * 2 + 1);
  shift(u, exp - 52 - 1);
  let mlo: u64;
  let elo: i32;
  if (mant > (<u64>1) << 52 || exp == BIAS + 1) {
    mlo = mant - 1;
    elo = exp;
  } else {
    mlo = mant * 2 - 1;
    elo = exp - 1;
  }
  const l = decL;
  assignU64(l, mlo * 2 + 1);
  shift(l, elo - 52 - 1);
  const inclusive = (mant & 1) == 0;
  // Walk the digits in the upper bound's frame; stop at the first place where rounding d
  // down and/or up stays strictly inside (or on, when inclusive) the interval.
  let upperDelta = 0;
  for (let ui = 0; ; ui++) {
    const mi = ui - u.dp + d.dp;
    if (mi >= d.nd) break;
    const li = ui - u.dp + l.dp;
    const ld: u32 = li >= 0 && li < l.nd ? dig(l, li) : 0;
    const md: u32 = mi >= 0 ? dig(d, mi) : 0;
    const ud: u32 = ui < u.nd ? dig(u, ui) : 0;
    const okDown = ld != md || (inclusive && li + 1 == l.nd);
    if (upperDelta == 0 && md + 1 < ud) upperDelta = 2;
    else if (upperDelta == 0 && md != ud) upperDelta = 1;
    else if (upperDelta == 1 && (md != 9 || ud != 0)) upperDelta = 2;
    const okUp = upperDelta > 0 && (inclusive || upperDelta > 1 || ui + 1 < u.nd);
    if (okDown && okUp) {
      roundNearest(d, mi + 1);
      return;
    } else if (okDown) {
      roundDown(d, mi + 1);
      return;
    } else if (okUp) {
      roundUp(d, mi + 1);
      return;
    }
  }
}

/** Scratch for formatted text (≤ 32 bytes needed). */
export const fmtBuf: usize = alloc(64);
export let fmtLen: i32 = 0;

@inline function put(c: u32): void {
  store<u8>(fmtBuf + <usize>fmtLen, <u8>c);
  fmtLen++;
}

function putExp(x: i32): void {
  put(0x65);
  if (x < 0) {
    put(0x2d);
    x = -x;
  } else {
    put(0x2b);
  }
  if (x < 10) {
    put(0x30);
    put(0x30 + <u32>x);
  } else if (x < 100) {
    put(0x30 + <u32>(x / 10));
    put(0x30 + <u32>(x % 10));
  } else {
    put(0x30 + <u32>(x / 100));
    put(0x30 + <u32>((x / 10) % 10));
    put(0x30 + <u32>(x % 10));
  }
}

/** Writes %g of the digits in decA (nd ≥ 1) with sign, then ensures a `.` or `e`. */
function formatDigits(neg: bool): void {
  const a = decA;
  fmtLen = 0;
  if (neg) put(0x2d);
  const nd = a.nd;
  const x = a.dp - 1;
  if (x < -4 || x >= 6) {
    put(0x30 + dig(a, 0));
    if (nd > 1) {
      put(0x2e);
      for (let i = 1; i < nd; i++) put(0x30 + dig(a, i));
    }
    putExp(x);
    return;
  }
  if (a.dp <= 0) {
    put(0x30);
    put(0x2e);
    for (let i = 0; i < -a.dp; i++) put(0x30);
    for (let i = 0; i < nd; i++) put(0x30 + dig(a, i));
    return;
  }
  for (let i = 0; i < a.dp; i++) put(i < nd ? 0x30 + dig(a, i) : 0x30);
  put(0x2e);
  if (nd > a.dp) {
    for (let i = a.dp; i < nd; i++) put(0x30 + dig(a, i));
  } else {
    put(0x30);
  }
}

function putStr(s: string): void {
  fmtLen = 0;
  for (let i = 0; i < s.length; i++) put(<u32>s.charCodeAt(i));
}

/** Canonical OpenMetrics text of v into fmtBuf/fmtLen. */
export function formatCanonical(v: f64): void {
  if (isNaN(v)) {
    putStr("NaN");
    return;
  }
  if (!isFinite(v)) {
    putStr(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  const neg = (reinterpret<u64>(v) >> 63) != 0;
  if (v == 0) {
    putStr(neg ? "-0.0" : "0.0");
    return;
  }
  shortestDigits(neg ? -v : v);
  formatDigits(neg);
}

// Histogram bounds and quantiles repeat across series: a small direct-mapped cache of
// canonical texts keyed by the value's bits saves the exact shortest-digits computation.
const CACHE_SLOTS: usize = 256;
const cacheKeys: usize = alloc(CACHE_SLOTS * 8);
const cacheText: usize = alloc(CACHE_SLOTS * 32);
memory.fill(cacheKeys, 0, CACHE_SLOTS * 8);
memory.fill(cacheText, 0, CACHE_SLOTS * 32);

/** formatCanonical() through the cache (texts are at most 24 bytes). */
export function formatCanonicalCached(v: f64): void {
  const bits = reinterpret<u64>(v);
  let h = bits * 0x9e3779b97f4a7c15;
  h ^= h >> 29;
  const slot = <usize>(h & (<u64>CACHE_SLOTS - 1));
  const key = cacheKeys + (slot << 3);
  const text = cacheText + (slot << 5);
  const len = <i32>load<u8>(text);
  if (len > 0 && load<u64>(key) == bits) {
    memory.copy(fmtBuf, text + 1, <usize>len);
    fmtLen = len;
    return;
  }
  formatCanonical(v);
  if (fmtLen < 31) {
    store<u64>(key, bits);
    store<u8>(text, <u8>fmtLen);
    memory.copy(text + 1, fmtBuf, <usize>fmtLen);
  }
}

/**
 * Canonical text of the float just parsed by parseFloat (value v). When the parse took the
 * fast path (≤15 significant digits) its digits are already the shortest round-trip digits,
 * so no big-number work is needed.
 */
export function formatParsed(v: f64): void {
  if (!fpFast || v == 0 || !isFinite(v)) {
    formatCanonical(v);
    return;
  }
  let m = fpMant;
  let e10 = fpExp10;
  while (m % 10 == 0) {
    m /= 10;
    e10++;
  }
  assignU64(decA, m);
  decA.dp += e10;
  formatDigits(v < 0);
}

/** Test hook: parse [p, p+len) and return the value; error in parseFloatErr(). */
export function parseFloatAt(p: usize, len: i32): f64 {
  return parseFloat(p, p + <usize>len);
}

export function parseFloatErr(): i32 {
  return fpErr;
}

/** Test hook: canonical text of v written to fmtBuf; returns its length (fmtBuf via fmtBufPtr). */
export function formatFloat(v: f64): i32 {
  formatCanonical(v);
  return fmtLen;
}

export function fmtBufPtr(): usize {
  return fmtBuf;
}
