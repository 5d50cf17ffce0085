// Prometheus text (0.0.4 / 1.0.0) and OpenMetrics 1.0 text parsers (spec §5.1–5.3, §5.5).
//
// One scanner serves both formats; `om` switches to OpenMetrics' strict whitespace, its
// comment rules, exemplars, float-second timestamps and `# EOF`. With `strict` set,
// OpenMetrics input also gets the semantic validation of the OpenMetrics test suite
// (see strict.ts); Prometheus itself does not do that, so scrapes run without it.
//
// Series identity bytes are the raw exposed bytes from the start of the name (or `{` for a
// quoted name) to the end of the label block. When an `le` (histogram) or `quantile`
// (summary) value is not in canonical form, the series bytes are rewritten with the
// canonical value into the side arena.

import {
  KIND_COUNTER, KIND_CREATED, KIND_GAUGE, KIND_GAUGEHISTOGRAM_BUCKET, KIND_GAUGEHISTOGRAM_GCOUNT,
  KIND_GAUGEHISTOGRAM_GSUM, KIND_HISTOGRAM_BUCKET, KIND_HISTOGRAM_COUNT, KIND_HISTOGRAM_SUM,
  KIND_INFO, KIND_STATESET, KIND_SUMMARY_COUNT, KIND_SUMMARY_QUANTILE, KIND_SUMMARY_SUM,
  KIND_UNTYPED, MTYPE_COUNTER, MTYPE_GAUGE, MTYPE_GAUGEHISTOGRAM, MTYPE_HISTOGRAM, MTYPE_INFO,
  MTYPE_STATESET, MTYPE_SUMMARY, MTYPE_UNKNOWN, FAMILY_HAS_HELP, FAMILY_HAS_TYPE,
  FAMILY_HAS_UNIT, PARSE_ERR_BLANK_LINE, PARSE_ERR_CARRIAGE_RETURN, PARSE_ERR_DATA_AFTER_EOF,
  PARSE_ERR_EXPECTED_COMMA_OR_BRACE, PARSE_ERR_EXPECTED_EQUALS, PARSE_ERR_EXPECTED_LABEL_VALUE,
  PARSE_ERR_EXPECTED_LINE_END, PARSE_ERR_EXPECTED_VALUE, PARSE_ERR_INVALID_COMMENT,
  PARSE_ERR_INVALID_EXEMPLAR, PARSE_ERR_INVALID_METADATA, PARSE_ERR_INVALID_TIMESTAMP,
  PARSE_ERR_INVALID_TYPE, PARSE_ERR_INVALID_UTF8, PARSE_ERR_INVALID_VALUE, PARSE_ERR_LABEL_NAME,
  PARSE_ERR_METRIC_NAME, PARSE_ERR_NAME_ALREADY_SET, PARSE_ERR_NO_EOF,
  PARSE_ERR_UNIT_NOT_SUFFIX, PARSE_ERR_UNTERMINATED_STRING, PARSE_ERR_VALUE_RANGE,
  SAMPLE_EXEMPLAR_HAS_TIMESTAMP, SAMPLE_HAS_EXEMPLAR, SAMPLE_HAS_TIMESTAMP,
} from "../abi";
import { lbl, lblN, pushLabel, setLblN } from "./scratch";
import { FP_RANGE, fmtBuf, fmtLen, formatParsed, fpErr, parseFloat } from "./float";
import {
  SIDE_SERIES, addFamily, addSample, errCode, famRec, setError, setExemplar,
  sideAppend, sideLen,
} from "./state";
import * as strict from "./strict";
import { bytesEqual, codePoints, endsWithStr, equalsStr, isLabelStart, isNameStart, scanNameChars, validUtf8 } from "./util";

// ---- scanner state ----
let p: usize = 0;
let end: usize = 0;
let lineNo: u32 = 1;
let lineStart: usize = 0;
let om: bool = false;
let isStrict: bool = false;

@inline function ch(): u32 {
  return p < end ? <u32>load<u8>(p) : 0x10000;
}

@inline function isBlank(c: u32): bool {
  return c == 0x20 || c == 0x09;
}

function fail(code: i32, at: usize): void {
  setError(code, lineNo, <u32>(at - lineStart + 1));
}

/** Errors on a bad token: a CR inside it gets its own code (CRLF line endings). */
function failToken(code: i32, s: usize, e: usize): void {
  for (let q = s; q < e; q++) {
    if (load<u8>(q) == 0x0d) {
      fail(PARSE_ERR_CARRIAGE_RETURN, q);
      return;
    }
  }
  fail(code, s);
}

@inline function skipBlanks(): void {
  while (p < end && isBlank(<u32>load<u8>(p))) p++;
}

function skipToLineEnd(): void {
  // 16 bytes at a time; the input arena has padding past `end`, so whole-vector loads are safe
  const nl = i8x16.splat(0x0a);
  while (p + 16 <= end) {
    const bits = i8x16.bitmask(i8x16.eq(v128.load(p), nl));
    if (bits != 0) {
      p += <usize>ctz(bits);
      return;
    }
    p += 16;
  }
  while (p < end && load<u8>(p) != 0x0a) p++;
}

/** Advances p to the next `"`, `\\`, newline or non-ASCII byte (or to end). */
@inline function skipPlainQuoted(): void {
  const quote = i8x16.splat(0x22);
  const bslash = i8x16.splat(0x5c);
  const nl = i8x16.splat(0x0a);
  const zero = i8x16.splat(0);
  while (p + 16 <= end) {
    const v = v128.load(p);
    const m = v128.or(v128.or(i8x16.eq(v, quote), i8x16.eq(v, bslash)), v128.or(i8x16.eq(v, nl), i8x16.lt_s(v, zero)));
    const bits = i8x16.bitmask(m);
    if (bits != 0) {
      p += <usize>ctz(bits);
      return;
    }
    p += 16;
  }
}

// ---- quoted strings ----
let qS: usize = 0;
let qE: usize = 0;

/** Scans a double-quoted string at p; content in [qS, qE). Returns false on error. */
function scanQuoted(): bool {
  const open = p;
  const openLine = lineNo;
  const openLineStart = lineStart;
  p++;
  qS = p;
  let ascii = true;
  while (true) {
    if (p >= end) {
      lineNo = openLine;
      lineStart = openLineStart;
      fail(PARSE_ERR_UNTERMINATED_STRING, open);
      return false;
    }
    skipPlainQuoted();
    if (p >= end) continue;
    const c = <u32>load<u8>(p);
    if (c == 0x22) break;
    if (c == 0x5c) {
      if (p + 1 >= end || load<u8>(p + 1) == 0x0a) {
        lineNo = openLine;
        lineStart = openLineStart;
        fail(PARSE_ERR_UNTERMINATED_STRING, open);
        return false;
      }
      if (load<u8>(p + 1) >= 0x80) ascii = false;
      p += 2;
      continue;
    }
    if (c == 0x0a) {
      if (om) {
        fail(PARSE_ERR_UNTERMINATED_STRING, open);
        return false;
      }
      lineNo++;
      lineStart = p + 1;
    } else if (c >= 0x80) {
      ascii = false;
    }
    p++;
  }
  qE = p;
  p++;
  if (!ascii && !validUtf8(qS, qE)) {
    fail(PARSE_ERR_INVALID_UTF8, qS);
    return false;
  }
  return true;
}

// ---- label blocks ----
let nameS: usize = 0;
let nameE: usize = 0;

/**
 * Parses `{…}` at p. A quoted string followed by `,` or `}` names the metric (not allowed
 * in exemplars). Labels are appended to the scratch list.
 */
function parseLabels(exemplar: bool): bool {
  p++; // {
  let afterComma = false;
  while (true) {
    if (!om) skipBlanks();
    let c = ch();
    if (c == 0x7d) {
      if (afterComma && om && isStrict) {
        fail(PARSE_ERR_LABEL_NAME, p);
        return false;
      }
      p++;
      return true;
    }
    let ns: usize;
    let ne: usize;
    if (c == 0x22) {
      if (!scanQuoted()) return false;
      ns = qS;
      ne = qE;
      if (!om) skipBlanks();
      c = ch();
      if (c == 0x2c || c == 0x7d) {
        if (exemplar) {
          fail(PARSE_ERR_EXPECTED_EQUALS, p);
          return false;
        }
        if (nameE != 0) {
          fail(PARSE_ERR_NAME_ALREADY_SET, ns - 1);
          return false;
        }
        nameS = ns;
        nameE = ne;
        if (c == 0x2c) {
          p++;
          afterComma = true;
        }
        continue;
      }
    } else if (isLabelStart(c)) {
      ns = p;
      p++;
      p = scanNameChars(p, end, false);
      ne = p;
      if (!om) skipBlanks();
    } else {
      fail(PARSE_ERR_LABEL_NAME, p);
      return false;
    }
    if (ch() != 0x3d) {
      fail(PARSE_ERR_EXPECTED_EQUALS, p);
      return false;
    }
    p++;
    if (!om) skipBlanks();
    if (ch() != 0x22) {
      fail(PARSE_ERR_EXPECTED_LABEL_VALUE, p);
      return false;
    }
    if (!scanQuoted()) return false;
    pushLabel(ns, ne, qS, qE);
    if (!om) skipBlanks();
    c = ch();
    afterComma = false;
    if (c == 0x2c) {
      p++;
      afterComma = true;
      continue;
    }
    if (c == 0x7d) continue;
    if (!om && (c == 0x22 || isLabelStart(c))) continue; // text: commas may be left out
    fail(PARSE_ERR_EXPECTED_COMMA_OR_BRACE, p);
    return false;
  }
}

// ---- families ----
/** Index of the family record samples are matched against, or -1. */
let curFam: i32 = -1;
let curType: i32 = MTYPE_UNKNOWN;
let curNameS: usize = 0;
let curNameE: usize = 0;

function suffixIs(s: usize, e: usize, suffix: string): bool {
  const n = curNameE - curNameS;
  return e - s == n + <usize>suffix.length && bytesEqual(s, curNameS, n) && endsWithStr(s, e, suffix);
}

/** Kind of a sample named [s, e) in the current family, or -1 when it is not part of it. */
function kindInFamily(s: usize, e: usize): i32 {
  if (curFam < 0) return -1;
  switch (curType) {
    case MTYPE_COUNTER:
      if (suffixIs(s, e, "_total")) return KIND_COUNTER;
      if (suffixIs(s, e, "_created")) return KIND_CREATED;
      if (!om && suffixIs(s, e, "")) return KIND_COUNTER;
      return -1;
    case MTYPE_GAUGE:
      return suffixIs(s, e, "") ? KIND_GAUGE : -1;
    case MTYPE_HISTOGRAM:
      if (suffixIs(s, e, "_bucket")) return KIND_HISTOGRAM_BUCKET;
      if (suffixIs(s, e, "_sum")) return KIND_HISTOGRAM_SUM;
      if (suffixIs(s, e, "_count")) return KIND_HISTOGRAM_COUNT;
      if (suffixIs(s, e, "_created")) return KIND_CREATED;
      return -1;
    case MTYPE_SUMMARY:
      if (suffixIs(s, e, "")) return KIND_SUMMARY_QUANTILE;
      if (suffixIs(s, e, "_sum")) return KIND_SUMMARY_SUM;
      if (suffixIs(s, e, "_count")) return KIND_SUMMARY_COUNT;
      if (suffixIs(s, e, "_created")) return KIND_CREATED;
      return -1;
    case MTYPE_GAUGEHISTOGRAM:
      if (suffixIs(s, e, "_bucket")) return KIND_GAUGEHISTOGRAM_BUCKET;
      if (suffixIs(s, e, "_gsum")) return KIND_GAUGEHISTOGRAM_GSUM;
      if (suffixIs(s, e, "_gcount")) return KIND_GAUGEHISTOGRAM_GCOUNT;
      return -1;
    case MTYPE_INFO:
      return suffixIs(s, e, "_info") ? KIND_INFO : -1;
    case MTYPE_STATESET:
      return suffixIs(s, e, "") ? KIND_STATESET : -1;
    default:
      return suffixIs(s, e, "") ? KIND_UNTYPED : -1;
  }
}

/** Family record for metadata about [s, e): the current one when the name matches, else a new one. */
function familyFor(s: usize, e: usize): i32 {
  if (curFam >= 0 && curNameE - curNameS == e - s && bytesEqual(s, curNameS, e - s)) return curFam;
  curFam = addFamily(<u32>s, <u32>e);
  curType = MTYPE_UNKNOWN;
  curNameS = s;
  curNameE = e;
  return curFam;
}

function typeWord(s: usize, e: usize): i32 {
  if (equalsStr(s, e, "counter")) return MTYPE_COUNTER;
  if (equalsStr(s, e, "gauge")) return MTYPE_GAUGE;
  if (equalsStr(s, e, "histogram")) return MTYPE_HISTOGRAM;
  if (equalsStr(s, e, "summary")) return MTYPE_SUMMARY;
  if (om) {
    if (equalsStr(s, e, "gaugehistogram")) return MTYPE_GAUGEHISTOGRAM;
    if (equalsStr(s, e, "info")) return MTYPE_INFO;
    if (equalsStr(s, e, "stateset")) return MTYPE_STATESET;
    if (equalsStr(s, e, "unknown")) return MTYPE_UNKNOWN;
  } else if (equalsStr(s, e, "untyped")) {
    return MTYPE_UNKNOWN;
  }
  return -1;
}

// ---- metadata lines ----
const META_HELP: i32 = 1;
const META_TYPE: i32 = 2;
const META_UNIT: i32 = 3;

/** Name of a metadata line at p: identifier or quoted string. */
function metaName(): bool {
  const c = ch();
  if (c == 0x22) {
    if (!scanQuoted()) return false;
    nameS = qS;
    nameE = qE;
    return true;
  }
  if (!isNameStart(c)) {
    failToken(PARSE_ERR_METRIC_NAME, p, p < end ? p + 1 : p);
    return false;
  }
  nameS = p;
  p++;
  p = scanNameChars(p, end, true);
  nameE = p;
  return true;
}

/** Text after a metadata name up to the line end, into [nameS..] globals tS/tE. */
let tS: usize = 0;
let tE: usize = 0;

function applyMeta(kind: i32): bool {
  const f = familyFor(nameS, nameE);
  const r = famRec(f);
  if (isStrict && !strict.onMeta(kind, nameS, nameE, lineNo)) return false;
  const flags = load<u32>(r + 28);
  if (kind == META_HELP) {
    if (!validUtf8(tS, tE)) {
      fail(PARSE_ERR_INVALID_UTF8, tS);
      return false;
    }
    store<u32>(r + 8, <u32>tS);
    store<u32>(r + 12, <u32>tE);
    store<u32>(r + 28, flags | FAMILY_HAS_HELP);
  } else if (kind == META_TYPE) {
    const t = typeWord(tS, tE);
    if (t < 0) {
      failToken(PARSE_ERR_INVALID_TYPE, tS, tE);
      return false;
    }
    store<u32>(r + 24, <u32>t);
    store<u32>(r + 28, flags | FAMILY_HAS_TYPE);
    curType = t;
    if (isStrict) strict.setType(t);
  } else {
    if (tE > tS) {
      const n = tE - tS;
      const ok = nameE - nameS > n && load<u8>(nameE - n - 1) == 0x5f && bytesEqual(nameE - n, tS, n);
      if (!ok) {
        fail(PARSE_ERR_UNIT_NOT_SUFFIX, tS);
        return false;
      }
    }
    store<u32>(r + 16, <u32>tS);
    store<u32>(r + 20, <u32>tE);
    store<u32>(r + 28, flags | FAMILY_HAS_UNIT);
    if (isStrict) strict.setUnit(tS, tE);
  }
  return true;
}

/** Text format: p at `#`. HELP/TYPE lines are metadata; everything else is a comment. */
function textComment(): bool {
  p++;
  if (!isBlank(ch())) {
    skipToLineEnd();
    return true;
  }
  skipBlanks();
  let kind = 0;
  if (end - p >= 5 && isBlank(<u32>load<u8>(p + 4))) {
    if (equalsStr(p, p + 4, "HELP")) kind = META_HELP;
    else if (equalsStr(p, p + 4, "TYPE")) kind = META_TYPE;
  }
  if (kind == 0) {
    skipToLineEnd();
    return true;
  }
  p += 4;
  skipBlanks();
  if (!metaName()) return false;
  const c = ch();
  if (c == 0x0a || c == 0x10000) {
    if (kind == META_TYPE) {
      fail(PARSE_ERR_INVALID_TYPE, p);
      return false;
    }
    tS = p;
    tE = p;
  } else if (isBlank(c)) {
    p++;
    tS = p;
    skipToLineEnd();
    tE = p;
  } else {
    failToken(PARSE_ERR_INVALID_METADATA, p, p + 1);
    return false;
  }
  return applyMeta(kind);
}

let sawEof: bool = false;

/** OpenMetrics: p at `#` at the start of a line. */
function omComment(): bool {
  const s = p;
  if (end - s >= 5 && equalsStr(s, s + 5, "# EOF")) {
    p = s + 5;
    if (p == end || (load<u8>(p) == 0x0a && p + 1 == end)) {
      sawEof = true;
      p = end;
      return true;
    }
    if (load<u8>(p) == 0x0a) {
      lineNo++;
      lineStart = p + 1;
      fail(PARSE_ERR_DATA_AFTER_EOF, p + 1);
    } else {
      fail(PARSE_ERR_DATA_AFTER_EOF, p);
    }
    return false;
  }
  let kind = 0;
  if (end - s >= 7 && load<u8>(s + 1) == 0x20 && load<u8>(s + 6) == 0x20) {
    if (equalsStr(s + 2, s + 6, "HELP")) kind = META_HELP;
    else if (equalsStr(s + 2, s + 6, "TYPE")) kind = META_TYPE;
    else if (equalsStr(s + 2, s + 6, "UNIT")) kind = META_UNIT;
  }
  if (kind == 0) {
    fail(PARSE_ERR_INVALID_COMMENT, s);
    return false;
  }
  p = s + 7;
  if (!metaName()) return false;
  const c = ch();
  if (c != 0x20) {
    if (c == 0x10000) fail(PARSE_ERR_NO_EOF, p);
    else failToken(PARSE_ERR_INVALID_METADATA, p, p + 1);
    return false;
  }
  p++;
  tS = p;
  skipToLineEnd();
  tE = p;
  if (p >= end) {
    fail(PARSE_ERR_NO_EOF, p);
    return false;
  }
  return applyMeta(kind);
}

// ---- samples ----
let tsVal: f64 = 0;
let tsSec: f64 = 0; // OpenMetrics timestamp in seconds (strict ordering checks)

/** Text format timestamp: [0-9]+ as int64 milliseconds. */
function textTimestamp(s: usize, e: usize): bool {
  if (s == e) {
    failToken(PARSE_ERR_INVALID_TIMESTAMP, s, e);
    return false;
  }
  let v: u64 = 0;
  for (let q = s; q < e; q++) {
    const d = <u32>load<u8>(q) - 0x30;
    if (d > 9) {
      failToken(PARSE_ERR_INVALID_TIMESTAMP, s, e);
      return false;
    }
    if (e - s > 18 && v > (0x7fffffffffffffff - <u64>d) / 10) {
      fail(PARSE_ERR_INVALID_TIMESTAMP, s);
      return false;
    }
    v = v * 10 + <u64>d;
  }
  tsVal = <f64>v;
  return true;
}

/** OpenMetrics timestamp: a float in seconds, finite; int64(sec × 1000) truncated. */
function omTimestamp(s: usize, e: usize): bool {
  const v = parseFloat(s, e);
  if (fpErr != 0 || !isFinite(v)) {
    failToken(PARSE_ERR_INVALID_TIMESTAMP, s, e);
    return false;
  }
  tsSec = v;
  tsVal = Math.trunc(v * 1000);
  if (tsVal == 0) tsVal = 0; // no -0
  return true;
}

function parseValue(s: usize, e: usize): f64 {
  if (s == e) {
    fail(PARSE_ERR_EXPECTED_VALUE, s);
    return 0;
  }
  const v = parseFloat(s, e);
  if (fpErr != 0) failToken(fpErr == FP_RANGE ? PARSE_ERR_VALUE_RANGE : PARSE_ERR_INVALID_VALUE, s, e);
  return v;
}

let exS: usize = 0;
let exE: usize = 0;
let exVal: f64 = 0;
let exTs: f64 = 0;
let exHasTs: bool = false;
let exCp: i32 = 0;

/** OpenMetrics exemplar at p (`# {…} value [ts]`), up to the line end. */
function parseExemplar(): bool {
  if (end - p < 3 || load<u8>(p + 1) != 0x20 || load<u8>(p + 2) != 0x7b) {
    fail(PARSE_ERR_INVALID_EXEMPLAR, p);
    return false;
  }
  p += 2;
  exS = p;
  const first = lblN;
  if (!parseLabels(true)) return false;
  exCp = 0;
  for (let i = first; i < lblN; i++) exCp += codePoints(lbl(i, 0), lbl(i, 1)) + codePoints(lbl(i, 2), lbl(i, 3));
  setLblN(first);
  if (ch() != 0x20) {
    fail(PARSE_ERR_INVALID_EXEMPLAR, p);
    return false;
  }
  p++;
  const vs = p;
  while (p < end && load<u8>(p) != 0x20 && load<u8>(p) != 0x0a) p++;
  if (vs == p) {
    fail(PARSE_ERR_INVALID_EXEMPLAR, vs);
    return false;
  }
  exVal = parseFloat(vs, p);
  if (fpErr != 0) {
    failToken(PARSE_ERR_INVALID_EXEMPLAR, vs, p);
    return false;
  }
  exHasTs = false;
  if (ch() == 0x20) {
    p++;
    const ts = p;
    while (p < end && load<u8>(p) != 0x20 && load<u8>(p) != 0x0a) p++;
    const v = parseFloat(ts, p);
    if (ts == p || fpErr != 0 || !isFinite(v)) {
      failToken(PARSE_ERR_INVALID_EXEMPLAR, ts, p);
      return false;
    }
    exTs = Math.trunc(v * 1000);
    if (exTs == 0) exTs = 0;
    exHasTs = true;
  }
  exE = p;
  return true;
}

/** Rewrites the series when `le`/`quantile` is not canonical. Returns the side start or -1. */
function normalise(sStart: usize, sEnd: usize, label: string): i32 {
  let from = sStart;
  let out: i32 = -1;
  for (let i = 0; i < lblN; i++) {
    if (!equalsStr(lbl(i, 0), lbl(i, 1), label)) continue;
    const vs = lbl(i, 2);
    const ve = lbl(i, 3);
    const v = parseFloat(vs, ve);
    if (fpErr != 0) continue; // not a float: kept as written
    formatParsed(v);
    if (<usize>fmtLen == ve - vs && bytesEqual(fmtBuf, vs, ve - vs)) continue;
    if (out < 0) out = <i32>sideLen;
    sideAppend(from, <u32>(vs - from));
    sideAppend(fmtBuf, <u32>fmtLen);
    from = ve;
  }
  if (out >= 0) sideAppend(from, <u32>(sEnd - from));
  return out;
}

/** A sample line at p (text: after leading blanks). */
function parseSample(): bool {
  const sStart = p;
  const line = lineNo;
  nameS = 0;
  nameE = 0;
  setLblN(0);
  let c = ch();
  if (isNameStart(c)) {
    nameS = p;
    p++;
    p = scanNameChars(p, end, true);
    nameE = p;
    if (!om) skipBlanks();
  } else if (c != 0x7b) {
    failToken(PARSE_ERR_METRIC_NAME, p, p + 1);
    return false;
  }
  let sEnd = nameE;
  if (ch() == 0x7b) {
    if (!parseLabels(false)) return false;
    sEnd = p;
    if (nameE == 0) {
      fail(PARSE_ERR_METRIC_NAME, sStart);
      return false;
    }
    if (!om) skipBlanks();
  }
  let flags: u32 = 0;
  let value: f64 = 0;
  tsVal = 0;
  let hasEx = false;
  if (om) {
    if (ch() != 0x20) {
      if (p >= end) fail(PARSE_ERR_NO_EOF, p);
      else failToken(PARSE_ERR_EXPECTED_VALUE, p, p + 1);
      return false;
    }
    p++;
    const vs = p;
    while (p < end && load<u8>(p) != 0x20 && load<u8>(p) != 0x0a) p++;
    value = parseValue(vs, p);
    if (errCode != 0) return false;
    if (ch() == 0x20) {
      p++;
      if (ch() == 0x23) {
        hasEx = true;
      } else {
        const ts = p;
        while (p < end && load<u8>(p) != 0x20 && load<u8>(p) != 0x0a) p++;
        if (!omTimestamp(ts, p)) return false;
        flags |= SAMPLE_HAS_TIMESTAMP;
        if (ch() == 0x20) {
          p++;
          if (ch() != 0x23) {
            fail(PARSE_ERR_INVALID_EXEMPLAR, p);
            return false;
          }
          hasEx = true;
        }
      }
    }
    if (hasEx) {
      if (!parseExemplar()) return false;
      flags |= SAMPLE_HAS_EXEMPLAR;
      if (exHasTs) flags |= SAMPLE_EXEMPLAR_HAS_TIMESTAMP;
    }
    if (p >= end) {
      fail(PARSE_ERR_NO_EOF, p);
      return false;
    }
    if (load<u8>(p) != 0x0a) {
      failToken(PARSE_ERR_EXPECTED_LINE_END, p, p + 1);
      return false;
    }
  } else {
    const vs = p;
    while (p < end) {
      c = <u32>load<u8>(p);
      if (c == 0x7b || c == 0x20 || c == 0x09 || c == 0x0a) break;
      p++;
    }
    value = parseValue(vs, p);
    if (errCode != 0) return false;
    skipBlanks();
    c = ch();
    if (c != 0x0a && c != 0x10000) {
      const ts = p;
      while (p < end) {
        c = <u32>load<u8>(p);
        if (c == 0x20 || c == 0x09 || c == 0x0a) break;
        p++;
      }
      if (!textTimestamp(ts, p)) return false;
      flags |= SAMPLE_HAS_TIMESTAMP;
      skipBlanks();
      c = ch();
      if (c != 0x0a && c != 0x10000) {
        failToken(PARSE_ERR_EXPECTED_LINE_END, p, p + 1);
        return false;
      }
    }
  }
  // family, kind, normalisation
  let kind = kindInFamily(nameS, nameE);
  let fam = curFam;
  if (kind < 0) {
    if (isStrict) {
      if (!strict.onImplicitFamily(nameS, nameE, lineNo)) return false;
      curFam = -1; // the reference parser's sample names follow the implicit family now
    }
    kind = KIND_UNTYPED;
    fam = -1;
  }
  let side: i32 = -1;
  if (lblN > 0) {
    if (kind == KIND_HISTOGRAM_BUCKET) side = normalise(sStart, sEnd, "le");
    else if (kind == KIND_SUMMARY_QUANTILE) side = normalise(sStart, sEnd, "quantile");
  }
  if (isStrict) {
    if (!strict.onSample(kind, nameS, nameE, value, (flags & SAMPLE_HAS_TIMESTAMP) != 0, tsSec, hasEx, exCp, lineNo)) return false;
  }
  let i: i32;
  if (side >= 0) {
    i = addSample(<u32>side, sideLen, value, tsVal, flags | SIDE_SERIES, kind, line, fam);
  } else {
    i = addSample(<u32>sStart, <u32>sEnd, value, tsVal, flags, kind, line, fam);
  }
  if (hasEx) setExemplar(i, <u32>exS, <u32>exE, exVal, exHasTs ? exTs : 0, 0);
  return true;
}

/** Parses [start, start+len). Returns false on error (state.errCode set). */
export function parseText(start: usize, len: usize, isOm: bool, strictMode: bool): bool {
  p = start;
  end = start + len;
  lineNo = 1;
  lineStart = start;
  om = isOm;
  isStrict = isOm && strictMode;
  curFam = -1;
  curType = MTYPE_UNKNOWN;
  curNameS = 0;
  curNameE = 0;
  sawEof = false;
  if (isStrict) strict.begin(start);
  while (p < end) {
    let c = <u32>load<u8>(p);
    if (om) {
      if (c == 0x23) {
        if (!omComment()) return false;
        if (sawEof) break;
      } else if (c == 0x0a) {
        fail(PARSE_ERR_BLANK_LINE, p);
        return false;
      } else {
        if (!parseSample()) return false;
      }
    } else {
      if (isBlank(c)) {
        skipBlanks();
        c = ch();
      }
      if (c == 0x10000) break;
      if (c == 0) break; // NUL at a line start ends the input, without error
      if (c == 0x0a) {
        // blank line
      } else if (c == 0x23) {
        if (!textComment()) return false;
      } else {
        if (!parseSample()) return false;
      }
    }
    // p is at the line end
    if (p < end) {
      p++;
      lineNo++;
      lineStart = p;
    }
  }
  if (om && !sawEof) {
    fail(PARSE_ERR_NO_EOF, end);
    return false;
  }
  if (isStrict && !strict.end(lineNo)) return false;
  return errCode == 0;
}
