// Exports of the exposition parsers (see wasm/parser.ts for the bindings).

import { FORMAT_OPENMETRICS, FORMAT_PROTOBUF, FORMAT_TEXT, PARSE_ERR_BAD_FORMAT, PARSE_FLAG_OM_STRICT, PARSE_FLAG_PB_IGNORE_NATIVE } from "../abi";
import { fmtBuf, formatCanonical, fmtLen, fpErr, parseFloat } from "./float";
import { decodeLabels, decodeWords } from "./labels";
import { parseProtobuf } from "./protobuf";
import { finish, header, inPtr, reserveInput, reset, setError } from "./state";
import { parseText } from "./text";

/** Address of the parser header (PH_* u32 words). */
export function parserHeader(): usize {
  return header;
}

/** Makes room for a body of `len` bytes and returns where to copy it. May grow memory. */
export function parserInput(len: i32): usize {
  return reserveInput(<usize>len);
}

/**
 * Parses the `len` bytes at parserInput(). Returns the sample count, or -1 on error (the
 * header has the code, line and column). May grow memory.
 */
export function parserRun(len: i32, format: i32, flags: i32): i32 {
  reset(<usize>len);
  if (format == FORMAT_TEXT || format == FORMAT_OPENMETRICS) {
    parseText(inPtr, <usize>len, format == FORMAT_OPENMETRICS, (flags & PARSE_FLAG_OM_STRICT) != 0);
  } else if (format == FORMAT_PROTOBUF) {
    parseProtobuf(inPtr, <usize>len, (flags & PARSE_FLAG_PB_IGNORE_NATIVE) != 0);
  } else {
    setError(PARSE_ERR_BAD_FORMAT, 0, 0);
  }
  return finish(format);
}

/** Decodes the series bytes [start, end) into decode words; returns the label count or -code. */
export function parserDecodeLabels(start: usize, end: usize): i32 {
  return decodeLabels(start, end);
}

export function parserDecodeWords(): usize {
  return decodeWords();
}

/** Test hooks for the float routines: parse the bytes at `ptr`, error in parserFloatError(). */
export function parserParseFloat(ptr: usize, len: i32): f64 {
  return parseFloat(ptr, ptr + <usize>len);
}

export function parserFloatError(): i32 {
  return fpErr;
}

/** Canonical (OpenMetrics) text of v at parserFormatBuffer(); returns its length. */
export function parserFormatFloat(v: f64): i32 {
  formatCanonical(v);
  return fmtLen;
}

export function parserFormatBuffer(): usize {
  return fmtBuf;
}
