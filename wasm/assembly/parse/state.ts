// Output and scratch memory of the exposition parsers, reused between parses.
//
// Samples are struct-of-arrays; capacity doubles when full (never an allocation per sample).
// Series/exemplar/metadata ranges are absolute addresses in linear memory. During a parse,
// ranges that live in the side arena (rewritten `le`/`quantile` series, protobuf's
// synthesized series) are stored relative to the arena and marked with an internal flag
// bit, because the arena may move when it grows; finish() turns them into absolute
// addresses and clears the bits.

import { alloc, allocZeroed, free } from "../alloc";
import {
  FAMILY_WORDS, PH_ERR_CODE, PH_ERR_COLUMN, PH_ERR_LINE, PH_EXEMPLAR_END, PH_EXEMPLAR_START,
  PH_EXEMPLAR_TIMESTAMP, PH_EXEMPLAR_VALUE, PH_FAMILIES, PH_FAMILY, PH_FAMILY_RECORDS, PH_FLAGS,
  PH_FORMAT, PH_INPUT, PH_INPUT_LEN, PH_KIND, PH_LINE, PH_SAMPLES, PH_SERIES_END, PH_SERIES_START,
  PH_TIMESTAMP, PH_VALUE, PH_WORDS, PH_SIDE, PH_SIDE_LEN,
} from "../abi";

export const header: usize = allocZeroed(<usize>PH_WORDS * 4);

// ---- samples ----
export let count: i32 = 0;
let cap: i32 = 0;
export let aStart: usize = 0; // u32
export let aEnd: usize = 0; // u32
export let aValue: usize = 0; // f64
export let aTs: usize = 0; // f64
export let aKind: usize = 0; // u8
export let aFlags: usize = 0; // u8
export let aExStart: usize = 0; // u32
export let aExEnd: usize = 0; // u32
export let aExValue: usize = 0; // f64
export let aExTs: usize = 0; // f64
export let aLine: usize = 0; // u32
export let aFam: usize = 0; // i32

/** Internal sample flags (cleared by finish()): series / exemplar range is side-relative. */
export const SIDE_SERIES: u32 = 0x40;
export const SIDE_EXEMPLAR: u32 = 0x80;

function regrow(old: usize, oldBytes: usize, newBytes: usize): usize {
  const p = alloc(newBytes);
  if (old != 0) {
    memory.copy(p, old, oldBytes);
    free(old, oldBytes);
  }
  return p;
}

function growSamples(): void {
  const n = cap == 0 ? 1024 : cap * 2;
  const o = <usize>cap;
  const m = <usize>n;
  aStart = regrow(aStart, o * 4, m * 4);
  aEnd = regrow(aEnd, o * 4, m * 4);
  aValue = regrow(aValue, o * 8, m * 8);
  aTs = regrow(aTs, o * 8, m * 8);
  aKind = regrow(aKind, o, m);
  aFlags = regrow(aFlags, o, m);
  aExStart = regrow(aExStart, o * 4, m * 4);
  aExEnd = regrow(aExEnd, o * 4, m * 4);
  aExValue = regrow(aExValue, o * 8, m * 8);
  aExTs = regrow(aExTs, o * 8, m * 8);
  aLine = regrow(aLine, o * 4, m * 4);
  aFam = regrow(aFam, o * 4, m * 4);
  cap = n;
}

/** Appends a sample without exemplar; returns its index. */
export function addSample(start: u32, end: u32, value: f64, ts: f64, flags: u32, kind: u32, line: u32, fam: i32): i32 {
  if (count == cap) growSamples();
  const i = <usize>count;
  store<u32>(aStart + (i << 2), start);
  store<u32>(aEnd + (i << 2), end);
  store<f64>(aValue + (i << 3), value);
  store<f64>(aTs + (i << 3), ts);
  store<u8>(aKind + i, <u8>kind);
  store<u8>(aFlags + i, <u8>flags);
  store<u32>(aExStart + (i << 2), 0);
  store<u32>(aExEnd + (i << 2), 0);
  store<f64>(aExValue + (i << 3), 0);
  store<f64>(aExTs + (i << 3), 0);
  store<u32>(aLine + (i << 2), line);
  store<i32>(aFam + (i << 2), fam);
  count++;
  return <i32>i;
}

export function setExemplar(i: i32, start: u32, end: u32, value: f64, ts: f64, flags: u32): void {
  const k = <usize>i;
  store<u32>(aExStart + (k << 2), start);
  store<u32>(aExEnd + (k << 2), end);
  store<f64>(aExValue + (k << 3), value);
  store<f64>(aExTs + (k << 3), ts);
  store<u8>(aFlags + k, load<u8>(aFlags + k) | <u8>flags);
}

// ---- families ----
export let famCount: i32 = 0;
let famCap: i32 = 0;
export let aFamRec: usize = 0;

/** Appends a zeroed family record; returns its index. */
export function addFamily(nameStart: u32, nameEnd: u32): i32 {
  if (famCount == famCap) {
    const n = famCap == 0 ? 256 : famCap * 2;
    aFamRec = regrow(aFamRec, <usize>famCap * FAMILY_WORDS * 4, <usize>n * FAMILY_WORDS * 4);
    famCap = n;
  }
  const r = famRec(famCount);
  memory.fill(r, 0, FAMILY_WORDS * 4);
  store<u32>(r, nameStart);
  store<u32>(r + 4, nameEnd);
  return famCount++;
}

@inline export function famRec(i: i32): usize {
  return aFamRec + <usize>i * FAMILY_WORDS * 4;
}

// ---- input arena ----
export let inPtr: usize = 0;
let inCap: usize = 0;
export let inLen: usize = 0;

/** Returns an address with room for `len` bytes (plus padding); JS copies the body there. */
export function reserveInput(len: usize): usize {
  const need = len + 64;
  if (need > inCap) {
    if (inPtr != 0) free(inPtr, inCap);
    let c: usize = 4096;
    while (c < need) c <<= 1;
    inPtr = alloc(c);
    inCap = c;
  }
  return inPtr;
}

// ---- side arena ----
export let sidePtr: usize = 0;
let sideCap: usize = 0;
export let sideLen: u32 = 0;

export function sideReserve(n: u32): void {
  const need = <usize>sideLen + <usize>n;
  if (need <= sideCap) return;
  let c: usize = sideCap == 0 ? 4096 : sideCap * 2;
  while (c < need) c <<= 1;
  sidePtr = regrow(sidePtr, sideCap, c);
  sideCap = c;
}

export function sideAppend(src: usize, n: u32): void {
  sideReserve(n);
  memory.copy(sidePtr + <usize>sideLen, src, <usize>n);
  sideLen += n;
}

export function sideByte(c: u32): void {
  sideReserve(1);
  store<u8>(sidePtr + <usize>sideLen, <u8>c);
  sideLen++;
}

// ---- errors ----
export let errCode: i32 = 0;
export let errLine: u32 = 0;
export let errCol: u32 = 0;

export function setError(code: i32, line: u32, col: u32): void {
  if (errCode != 0) return;
  errCode = code;
  errLine = line;
  errCol = col;
}

export function reset(len: usize): void {
  count = 0;
  famCount = 0;
  sideLen = 0;
  errCode = 0;
  errLine = 0;
  errCol = 0;
  inLen = len;
  if (cap == 0) growSamples();
}

/** Resolves side-arena ranges and fills the header. Returns the sample count or -1. */
export function finish(format: i32): i32 {
  // Also after an error: the samples before it stay readable.
  if (sideLen > 0) {
    const base = <u32>sidePtr;
    for (let i = 0; i < count; i++) {
      const f = <u32>load<u8>(aFlags + <usize>i);
      if ((f & (SIDE_SERIES | SIDE_EXEMPLAR)) == 0) continue;
      const k = <usize>i << 2;
      if ((f & SIDE_SERIES) != 0) {
        store<u32>(aStart + k, load<u32>(aStart + k) + base);
        store<u32>(aEnd + k, load<u32>(aEnd + k) + base);
      }
      if ((f & SIDE_EXEMPLAR) != 0) {
        store<u32>(aExStart + k, load<u32>(aExStart + k) + base);
        store<u32>(aExEnd + k, load<u32>(aExEnd + k) + base);
      }
      store<u8>(aFlags + <usize>i, <u8>(f & ~(SIDE_SERIES | SIDE_EXEMPLAR)));
    }
  }
  const h = header;
  // On an error, the samples and families before it stay readable (Prometheus parses
  // incrementally, and what came before a bad line matters for staleness).
  store<u32>(h + PH_SAMPLES * 4, count);
  store<u32>(h + PH_FAMILIES * 4, famCount);
  store<u32>(h + PH_SERIES_START * 4, <u32>aStart);
  store<u32>(h + PH_SERIES_END * 4, <u32>aEnd);
  store<u32>(h + PH_VALUE * 4, <u32>aValue);
  store<u32>(h + PH_TIMESTAMP * 4, <u32>aTs);
  store<u32>(h + PH_KIND * 4, <u32>aKind);
  store<u32>(h + PH_FLAGS * 4, <u32>aFlags);
  store<u32>(h + PH_EXEMPLAR_START * 4, <u32>aExStart);
  store<u32>(h + PH_EXEMPLAR_END * 4, <u32>aExEnd);
  store<u32>(h + PH_EXEMPLAR_VALUE * 4, <u32>aExValue);
  store<u32>(h + PH_EXEMPLAR_TIMESTAMP * 4, <u32>aExTs);
  store<u32>(h + PH_LINE * 4, <u32>aLine);
  store<u32>(h + PH_FAMILY * 4, <u32>aFam);
  store<u32>(h + PH_FAMILY_RECORDS * 4, <u32>aFamRec);
  store<u32>(h + PH_ERR_CODE * 4, <u32>errCode);
  store<u32>(h + PH_ERR_LINE * 4, errLine);
  store<u32>(h + PH_ERR_COLUMN * 4, errCol);
  store<u32>(h + PH_INPUT * 4, <u32>inPtr);
  store<u32>(h + PH_INPUT_LEN * 4, <u32>inLen);
  store<u32>(h + PH_FORMAT * 4, <u32>format);
  store<u32>(h + PH_SIDE * 4, <u32>sidePtr);
  store<u32>(h + PH_SIDE_LEN * 4, sideLen);
  return errCode != 0 ? -1 : count;
}
