// Decodes one series' identity bytes (as the parsers return them) into its metric name and
// unescaped label pairs. Used for new series only (scrape-cache misses).
//
// Output at decodeWords(): u32 words [nameStart, nameEnd, then per label nameStart, nameEnd,
// valueStart, valueEnd], absolute addresses into the decode byte buffer.

import { PARSE_ERR_DUPLICATE_LABEL, PARSE_ERR_EXPECTED_EQUALS, PARSE_ERR_LABEL_NAME, PARSE_ERR_METRIC_NAME, PARSE_ERR_UNTERMINATED_STRING } from "../abi";
import { alloc, free } from "../alloc";
import { bytesEqual, isLabelChar, isLabelStart, isNameChar, isNameStart } from "./util";

let wordsPtr: usize = 0;
let wordsCap: usize = 0;
let bytesPtr: usize = 0;
let bytesCap: usize = 0;
let out: usize = 0;
let nw: usize = 0;

export function decodeWords(): usize {
  return wordsPtr;
}

function ensure(len: usize): void {
  const needB = len + 16;
  if (needB > bytesCap) {
    if (bytesPtr != 0) free(bytesPtr, bytesCap);
    bytesCap = needB < 256 ? 256 : needB * 2;
    bytesPtr = alloc(bytesCap);
  }
  const needW = (len + 4) * 4 * 4;
  if (needW > wordsCap) {
    if (wordsPtr != 0) free(wordsPtr, wordsCap);
    wordsCap = needW < 1024 ? 1024 : needW * 2;
    wordsPtr = alloc(wordsCap);
  }
}

@inline function word(v: usize): void {
  store<u32>(wordsPtr + (nw << 2), <u32>v);
  nw++;
}

let p: usize = 0;
let end: usize = 0;

@inline function skipWs(): void {
  while (p < end && (load<u8>(p) == 0x20 || load<u8>(p) == 0x09)) p++;
}

/** Unescapes the quoted string at p into the byte buffer; false when unterminated. */
function quoted(): bool {
  p++;
  const s = out;
  while (true) {
    if (p >= end) return false;
    let c = <u32>load<u8>(p);
    if (c == 0x22) break;
    if (c == 0x5c && p + 1 < end) {
      const n = <u32>load<u8>(p + 1);
      if (n == 0x5c || n == 0x22) {
        c = n;
        p++;
      } else if (n == 0x6e) {
        c = 0x0a;
        p++;
      }
    }
    store<u8>(out, <u8>c);
    out++;
    p++;
  }
  p++;
  word(s);
  word(out);
  return true;
}

function copyRange(s: usize, e: usize): void {
  word(out);
  memory.copy(out, s, e - s);
  out += e - s;
  word(out);
}

/** Returns the number of labels, or -PARSE_ERR_* when the bytes do not form a series. */
export function decodeLabels(start: usize, stop: usize): i32 {
  ensure(stop - start);
  p = start;
  end = stop;
  out = bytesPtr;
  nw = 2;
  store<u32>(wordsPtr, 0);
  store<u32>(wordsPtr + 4, 0);
  let hasName = false;
  skipWs();
  if (p < end && isNameStart(<u32>load<u8>(p))) {
    const s = p;
    while (p < end && isNameChar(<u32>load<u8>(p))) p++;
    store<u32>(wordsPtr, <u32>out);
    memory.copy(out, s, p - s);
    out += p - s;
    store<u32>(wordsPtr + 4, <u32>out);
    hasName = true;
    skipWs();
  }
  if (p < end && load<u8>(p) == 0x7b) {
    p++;
    while (true) {
      skipWs();
      if (p >= end) return -PARSE_ERR_UNTERMINATED_STRING;
      let c = <u32>load<u8>(p);
      if (c == 0x7d) {
        p++;
        break;
      }
      if (c == 0x2c) {
        p++;
        continue;
      }
      if (c == 0x22) {
        if (!quoted()) return -PARSE_ERR_UNTERMINATED_STRING;
        skipWs();
        c = p < end ? <u32>load<u8>(p) : 0;
        if (c != 0x3d) {
          // a quoted metric name
          if (hasName) return -PARSE_ERR_METRIC_NAME;
          nw -= 2;
          store<u32>(wordsPtr, load<u32>(wordsPtr + (nw << 2)));
          store<u32>(wordsPtr + 4, load<u32>(wordsPtr + (nw << 2) + 4));
          hasName = true;
          continue;
        }
      } else if (isLabelStart(c)) {
        const s = p;
        while (p < end && isLabelChar(<u32>load<u8>(p))) p++;
        copyRange(s, p);
        skipWs();
      } else {
        return -PARSE_ERR_LABEL_NAME;
      }
      if (p >= end || load<u8>(p) != 0x3d) return -PARSE_ERR_EXPECTED_EQUALS;
      p++;
      skipWs();
      if (p >= end || load<u8>(p) != 0x22) return -PARSE_ERR_EXPECTED_EQUALS;
      if (!quoted()) return -PARSE_ERR_UNTERMINATED_STRING;
    }
  }
  if (!hasName) return -PARSE_ERR_METRIC_NAME;
  const n = <i32>((nw - 2) / 4);
  for (let i = 1; i < n; i++) {
    const a = wordsPtr + 8 + (<usize>i << 4);
    const al = load<u32>(a + 4) - load<u32>(a);
    for (let j = 0; j < i; j++) {
      const b = wordsPtr + 8 + (<usize>j << 4);
      if (load<u32>(b + 4) - load<u32>(b) == al && bytesEqual(<usize>load<u32>(a), <usize>load<u32>(b), <usize>al)) {
        return -PARSE_ERR_DUPLICATE_LABEL;
      }
    }
  }
  return n;
}
