// Small byte helpers shared by the parsers.

import { alloc, free } from "../alloc";

@inline export function isNameStart(c: u32): bool {
  return ((c | 0x20) - 0x61 < 26) || c == 0x5f || c == 0x3a;
}

@inline export function isNameChar(c: u32): bool {
  return ((c | 0x20) - 0x61 < 26) || c - 0x30 < 10 || c == 0x5f || c == 0x3a;
}

@inline export function isLabelStart(c: u32): bool {
  return ((c | 0x20) - 0x61 < 26) || c == 0x5f;
}

@inline export function isLabelChar(c: u32): bool {
  return ((c | 0x20) - 0x61 < 26) || c - 0x30 < 10 || c == 0x5f;
}

/**
 * First position in [p, end) that is not a name byte ([a-zA-Z0-9_], plus `:` when colon),
 * 16 bytes at a time. Reads whole vectors past `end`: callers guarantee padding.
 */
export function scanNameChars(p: usize, end: usize, colon: bool): usize {
  const a = i8x16.splat(0x61);
  const n26 = i8x16.splat(26);
  const d0 = i8x16.splat(0x30);
  const n10 = i8x16.splat(10);
  const us = i8x16.splat(0x5f);
  const cl = i8x16.splat(colon ? 0x3a : 0x5f);
  const lc = i8x16.splat(0x20);
  while (p < end) {
    const v = v128.load(p);
    const letters = i8x16.lt_u(i8x16.sub(v128.or(v, lc), a), n26);
    const digits = i8x16.lt_u(i8x16.sub(v, d0), n10);
    const ok = v128.or(v128.or(letters, digits), v128.or(i8x16.eq(v, us), i8x16.eq(v, cl)));
    const bad = ~i8x16.bitmask(ok) & 0xffff;
    if (bad != 0) {
      const q = p + <usize>ctz(bad);
      return q < end ? q : end;
    }
    p += 16;
  }
  return end;
}

/** Go utf8.Valid over [p, end). */
export function validUtf8(p: usize, end: usize): bool {
  while (p < end) {
    const c = <u32>load<u8>(p);
    if (c < 0x80) {
      p++;
      continue;
    }
    let n: i32;
    let cp: u32;
    let min: u32;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
      min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
      min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
      min = 0x10000;
    } else {
      return false;
    }
    if (p + <usize>n >= end) return false;
    for (let i = 1; i <= n; i++) {
      const cc = <u32>load<u8>(p + <usize>i);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    p += <usize>n + 1;
  }
  return true;
}

/** Number of code points in [p, end) (UTF-8 assumed valid), counting `\x` escapes as one. */
export function codePoints(p: usize, end: usize): i32 {
  let n = 0;
  while (p < end) {
    const c = <u32>load<u8>(p);
    if (c == 0x5c && p + 1 < end) {
      p += 2;
      n++;
      continue;
    }
    if ((c & 0xc0) != 0x80) n++;
    p++;
  }
  return n;
}

export function bytesEqual(a: usize, b: usize, n: usize): bool {
  for (let i: usize = 0; i < n; i++) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
  }
  return true;
}

/** Equality of [a, ae) with the ASCII string s. */
export function equalsStr(a: usize, ae: usize, s: string): bool {
  const n = s.length;
  if (<usize>n != ae - a) return false;
  for (let i = 0; i < n; i++) {
    if (<u32>load<u8>(a + <usize>i) != <u32>s.charCodeAt(i)) return false;
  }
  return true;
}

/** Whether [a, ae) ends with the ASCII string s. */
export function endsWithStr(a: usize, ae: usize, s: string): bool {
  const n = <usize>s.length;
  if (ae - a < n) return false;
  return equalsStr(ae - n, ae, s);
}

// ---- 64-bit hashing (validation only, never the cache key) ----

export function hashBytes(h: u64, p: usize, end: usize): u64 {
  while (p < end) {
    h ^= <u64>load<u8>(p);
    h *= 0x100000001b3;
    p++;
  }
  return h;
}

export function hashStr(h: u64, s: string): u64 {
  for (let i = 0; i < s.length; i++) {
    h ^= <u64>s.charCodeAt(i);
    h *= 0x100000001b3;
  }
  return h;
}

export const HASH_SEED: u64 = 0xcbf29ce484222325;

export function fmix(k: u64): u64 {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccd;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53;
  k ^= k >> 33;
  return k;
}

/** Open-addressing set of non-zero u64 keys. */
export class Set64 {
  ptr: usize = 0;
  cap: i32 = 0;
  n: i32 = 0;

  clear(): void {
    if (this.n > 0) memory.fill(this.ptr, 0, <usize>this.cap * 8);
    this.n = 0;
  }

  /** Adds k; returns false when it was already present. */
  add(k: u64): bool {
    if (k == 0) k = 1;
    if ((this.n + 1) * 2 > this.cap) this.grow();
    const mask = <u64>(this.cap - 1);
    let i = fmix(k) & mask;
    while (true) {
      const slot = this.ptr + <usize>(i << 3);
      const v = load<u64>(slot);
      if (v == 0) {
        store<u64>(slot, k);
        this.n++;
        return true;
      }
      if (v == k) return false;
      i = (i + 1) & mask;
    }
  }

  has(k: u64): bool {
    if (k == 0) k = 1;
    if (this.cap == 0) return false;
    const mask = <u64>(this.cap - 1);
    let i = fmix(k) & mask;
    while (true) {
      const v = load<u64>(this.ptr + <usize>(i << 3));
      if (v == 0) return false;
      if (v == k) return true;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const oldPtr = this.ptr;
    const oldCap = this.cap;
    const cap = oldCap == 0 ? 64 : oldCap * 2;
    this.ptr = alloc(<usize>cap * 8);
    memory.fill(this.ptr, 0, <usize>cap * 8);
    this.cap = cap;
    this.n = 0;
    for (let i = 0; i < oldCap; i++) {
      const v = load<u64>(oldPtr + <usize>(i << 3));
      if (v != 0) this.add(v);
    }
    if (oldPtr != 0) free(oldPtr, <usize>oldCap * 8);
  }
}
