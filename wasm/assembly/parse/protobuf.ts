// Protobuf delimited `io.prometheus.client.MetricFamily` parser (spec §5.4): a hand-written
// decoder over the raw bytes, for counter, gauge, summary, classic histogram and untyped.
//
// Protobuf has no series text, so each sample's series is synthesized into the side arena
// in text-format form: `name{a="b",le="0.5"}` (label values escaped as the text format does;
// names outside the legacy character set are quoted, `{"my.name",…}`), with `le`/`quantile`
// in canonical form. Exemplars are synthesized likewise as `{a="b"} value seconds`.
//
// Native histogram fields (spans, zero bucket) are an error (PARSE_ERR_PB_NATIVE_HISTOGRAM)
// unless PARSE_FLAG_PB_IGNORE_NATIVE is set; then only the classic parts are read, as
// Prometheus does with native histogram scraping off.
//
// Error positions: line = 1-based MetricFamily index, column = 1-based byte offset of the
// offending message in the body. Sample lines are the MetricFamily index.

import {
  FAMILY_HAS_HELP, FAMILY_HAS_TYPE, FAMILY_HAS_UNIT, KIND_COUNTER, KIND_GAUGE,
  KIND_GAUGEHISTOGRAM_BUCKET, KIND_GAUGEHISTOGRAM_GCOUNT, KIND_GAUGEHISTOGRAM_GSUM,
  KIND_HISTOGRAM_BUCKET, KIND_HISTOGRAM_COUNT, KIND_HISTOGRAM_SUM, KIND_SUMMARY_COUNT,
  KIND_SUMMARY_QUANTILE, KIND_SUMMARY_SUM, KIND_UNTYPED, MTYPE_COUNTER, MTYPE_GAUGE,
  MTYPE_GAUGEHISTOGRAM, MTYPE_HISTOGRAM, MTYPE_SUMMARY, MTYPE_UNKNOWN, PARSE_ERR_INVALID_UTF8,
  PARSE_ERR_PB_EMPTY_NAME, PARSE_ERR_PB_INVALID_TYPE, PARSE_ERR_PB_MALFORMED,
  PARSE_ERR_PB_NATIVE_HISTOGRAM, PARSE_ERR_PB_TRUNCATED, SAMPLE_EXEMPLAR_HAS_TIMESTAMP,
  SAMPLE_HAS_EXEMPLAR, SAMPLE_HAS_TIMESTAMP,
} from "../abi";
import { fmtBuf, fmtLen, formatCanonical, formatCanonicalCached } from "./float";
import { lbl, lblN, pushLabel, setLblN } from "./scratch";
import {
  SIDE_EXEMPLAR, SIDE_SERIES, addFamily, addSample, errCode, famRec, setError, setExemplar,
  sideAppend, sideByte, sideLen, sideReserve, sidePtr,
} from "./state";
import { isLabelChar, isLabelStart, isNameChar, isNameStart, validUtf8 } from "./util";

let bodyStart: usize = 0;
let famNo: u32 = 0;
let ignoreNative = false;

function fail(code: i32, at: usize): void {
  setError(code, famNo, <u32>(at - bodyStart + 1));
}

// ---- wire decoding ----
let q: usize = 0; // cursor
let qEnd: usize = 0;
let bad = false;

function varint(): u64 {
  let v: u64 = 0;
  let shift: u64 = 0;
  while (true) {
    if (q >= qEnd || shift >= 70) {
      bad = true;
      return 0;
    }
    const b = <u64>load<u8>(q);
    q++;
    v |= (b & 0x7f) << shift;
    if (b < 0x80) return v;
    shift += 7;
  }
}

let fStart: usize = 0; // payload of the last length-delimited field
let fEnd: usize = 0;
let fNum: u32 = 0;
let fWire: u32 = 0;
let fVal: u64 = 0; // varint or fixed value

/** Reads the next field at q; false at the end or on a malformed field (bad set). */
function nextField(): bool {
  if (q >= qEnd) return false;
  const key = varint();
  if (bad) return false;
  fNum = <u32>(key >> 3);
  fWire = <u32>(key & 7);
  if (fNum == 0) {
    bad = true;
    return false;
  }
  if (fWire == 0) {
    fVal = varint();
  } else if (fWire == 1) {
    if (qEnd - q < 8) {
      bad = true;
      return false;
    }
    fVal = load<u64>(q);
    q += 8;
  } else if (fWire == 5) {
    if (qEnd - q < 4) {
      bad = true;
      return false;
    }
    fVal = <u64>load<u32>(q);
    q += 4;
  } else if (fWire == 2) {
    const n = varint();
    if (bad || n > <u64>(qEnd - q)) {
      bad = true;
      return false;
    }
    fStart = q;
    fEnd = q + <usize>n;
    q = fEnd;
  } else {
    bad = true;
    return false;
  }
  return !bad;
}

@inline function asDouble(): f64 {
  return fWire == 1 ? reinterpret<f64>(fVal) : 0;
}

// ---- series synthesis ----

function isLegacyName(p: usize, e: usize): bool {
  if (p >= e || !isNameStart(<u32>load<u8>(p))) return false;
  for (let r = p + 1; r < e; r++) if (!isNameChar(<u32>load<u8>(r))) return false;
  return true;
}

function isLegacyLabel(p: usize, e: usize): bool {
  if (p >= e || !isLabelStart(<u32>load<u8>(p))) return false;
  for (let r = p + 1; r < e; r++) if (!isLabelChar(<u32>load<u8>(r))) return false;
  return true;
}

function sideEscaped(p: usize, e: usize): void {
  sideReserve(<u32>((e - p) * 2));
  let o = sidePtr + <usize>sideLen;
  for (let r = p; r < e; r++) {
    const c = load<u8>(r);
    if (c == 0x5c || c == 0x22) {
      store<u8>(o++, 0x5c);
      store<u8>(o++, c);
    } else if (c == 0x0a) {
      store<u8>(o++, 0x5c);
      store<u8>(o++, 0x6e);
    } else {
      store<u8>(o++, c);
    }
  }
  sideLen = <u32>(o - sidePtr);
}

function sideQuoted(p: usize, e: usize): void {
  sideByte(0x22);
  sideEscaped(p, e);
  sideByte(0x22);
}

function sideStr(s: string): void {
  for (let i = 0; i < s.length; i++) sideByte(<u32>s.charCodeAt(i));
}

/** Writes the labels [first, lblN) of the scratch list as `{a="b",…` without the brace. */
function sideLabelPairs(first: i32, comma: bool): void {
  for (let i = first; i < lblN; i++) {
    if (comma) sideByte(0x2c);
    comma = true;
    const ns = lbl(i, 0);
    const ne = lbl(i, 1);
    if (isLegacyLabel(ns, ne)) sideAppend(ns, <u32>(ne - ns));
    else sideQuoted(ns, ne);
    sideByte(0x3d);
    sideQuoted(lbl(i, 2), lbl(i, 3));
  }
}

let nameS: usize = 0;
let nameE: usize = 0;

/**
 * Synthesizes `name<suffix>{labels[,extra="fmtBuf"]}` into the side arena; returns its
 * side-relative start (the end is sideLen).
 */
function synthSeries(suffix: string, extra: string): u32 {
  const start = sideLen;
  const legacy = isLegacyName(nameS, nameE);
  const hasExtra = extra.length > 0;
  if (legacy) {
    sideAppend(nameS, <u32>(nameE - nameS));
    sideStr(suffix);
    if (lblN == 0 && !hasExtra) return start;
    sideByte(0x7b);
    sideLabelPairs(0, false);
  } else {
    sideByte(0x7b);
    sideByte(0x22);
    sideEscaped(nameS, nameE);
    sideStr(suffix);
    sideByte(0x22);
    sideLabelPairs(0, true);
  }
  if (hasExtra) {
    if (lblN > 0 || !legacy) sideByte(0x2c);
    sideStr(extra);
    sideStr("=\"");
    sideAppend(fmtBuf, <u32>fmtLen);
    sideByte(0x22);
  }
  sideByte(0x7d);
  return start;
}

function emit(suffix: string, extra: string, v: f64, ts: f64, flags: u32, kind: i32, fam: i32): i32 {
  const s = synthSeries(suffix, extra);
  return addSample(s, sideLen, v, ts, flags | SIDE_SERIES, kind, famNo, fam);
}

// ---- exemplars ----

/** Decodes an Exemplar message [s, e) and attaches it to sample i. */
function exemplar(i: i32, s: usize, e: usize): bool {
  const saveQ = q;
  const saveEnd = qEnd;
  q = s;
  qEnd = e;
  const first = lblN;
  let value: f64 = 0;
  let hasTs = false;
  let ts: f64 = 0;
  while (nextField()) {
    if (fNum == 1 && fWire == 2) {
      if (!label(fStart, fEnd)) return false;
    } else if (fNum == 2) {
      value = asDouble();
    } else if (fNum == 3 && fWire == 2) {
      // google.protobuf.Timestamp {seconds = 1, nanos = 2}
      const q2 = q;
      const e2 = qEnd;
      q = fStart;
      qEnd = fEnd;
      let sec: i64 = 0;
      let nanos: i64 = 0;
      while (nextField()) {
        if (fNum == 1 && fWire == 0) sec = <i64>fVal;
        else if (fNum == 2 && fWire == 0) nanos = <i64><i32>fVal;
      }
      q = q2;
      qEnd = e2;
      hasTs = true;
      ts = <f64>(sec * 1000 + nanos / 1000000);
    }
  }
  if (bad) {
    fail(PARSE_ERR_PB_MALFORMED, s);
    return false;
  }
  // text: {labels} value [seconds]
  const start = sideLen;
  sideByte(0x7b);
  for (let k = first; k < lblN; k++) {
    if (k > first) sideByte(0x2c);
    const ns = lbl(k, 0);
    const ne = lbl(k, 1);
    if (isLegacyLabel(ns, ne)) sideAppend(ns, <u32>(ne - ns));
    else sideQuoted(ns, ne);
    sideByte(0x3d);
    sideQuoted(lbl(k, 2), lbl(k, 3));
  }
  sideByte(0x7d);
  sideByte(0x20);
  formatCanonical(value);
  sideAppend(fmtBuf, <u32>fmtLen);
  if (hasTs) {
    sideByte(0x20);
    formatCanonical(ts / 1000);
    sideAppend(fmtBuf, <u32>fmtLen);
  }
  setLblN(first);
  setExemplar(i, start, sideLen, value, ts, SAMPLE_HAS_EXEMPLAR | (hasTs ? SAMPLE_EXEMPLAR_HAS_TIMESTAMP : 0) | SIDE_EXEMPLAR);
  q = saveQ;
  qEnd = saveEnd;
  return true;
}

// ---- messages ----

/** LabelPair [s, e) → scratch list. */
function label(s: usize, e: usize): bool {
  const saveQ = q;
  const saveEnd = qEnd;
  q = s;
  qEnd = e;
  let ns: usize = 0;
  let ne: usize = 0;
  let vs: usize = 0;
  let ve: usize = 0;
  while (nextField()) {
    if (fWire != 2) continue;
    if (fNum == 1) {
      ns = fStart;
      ne = fEnd;
    } else if (fNum == 2) {
      vs = fStart;
      ve = fEnd;
    }
  }
  q = saveQ;
  qEnd = saveEnd;
  if (bad) {
    fail(PARSE_ERR_PB_MALFORMED, s);
    return false;
  }
  if (ns == ne || !validUtf8(ns, ne) || !validUtf8(vs, ve)) {
    fail(PARSE_ERR_INVALID_UTF8, s);
    return false;
  }
  pushLabel(ns, ne, vs, ve);
  return true;
}

/** Value field 1 (double) of a Gauge/Counter/Untyped message. */
function simpleValue(s: usize, e: usize): f64 {
  const saveQ = q;
  const saveEnd = qEnd;
  q = s;
  qEnd = e;
  let v: f64 = 0;
  while (nextField()) if (fNum == 1) v = asDouble();
  q = saveQ;
  qEnd = saveEnd;
  return v;
}

function counter(s: usize, e: usize, ts: f64, flags: u32, fam: i32): bool {
  const saveQ = q;
  const saveEnd = qEnd;
  q = s;
  qEnd = e;
  let v: f64 = 0;
  let exS: usize = 0;
  let exE: usize = 0;
  while (nextField()) {
    if (fNum == 1) v = asDouble();
    else if (fNum == 2 && fWire == 2) {
      exS = fStart;
      exE = fEnd;
    }
  }
  q = saveQ;
  qEnd = saveEnd;
  if (bad) {
    fail(PARSE_ERR_PB_MALFORMED, s);
    return false;
  }
  const i = emit("", "", v, ts, flags, KIND_COUNTER, fam);
  return exS == 0 || exemplar(i, exS, exE);
}

function summary(s: usize, e: usize, ts: f64, flags: u32, fam: i32): bool {
  const saveQ = q;
  const saveEnd = qEnd;
  q = s;
  qEnd = e;
  let count: f64 = 0;
  let sum: f64 = 0;
  while (nextField()) {
    if (fNum == 1 && fWire == 0) count = <f64>fVal;
    else if (fNum == 2) sum = asDouble();
  }
  if (bad) {
    fail(PARSE_ERR_PB_MALFORMED, s);
    return false;
  }
  emit("_count", "", count, ts, flags, KIND_SUMMARY_COUNT, fam);
  emit("_sum", "", sum, ts, flags, KIND_SUMMARY_SUM, fam);
  q = s;
  while (nextField()) {
    if (fNum != 3 || fWire != 2) continue;
    const q2 = q;
    const e2 = qEnd;
    q = fStart;
    qEnd = fEnd;
    let quant: f64 = 0;
    let v: f64 = 0;
    while (nextField()) {
      if (fNum == 1) quant = asDouble();
      else if (fNum == 2) v = asDouble();
    }
    q = q2;
    qEnd = e2;
    if (bad) break;
    formatCanonicalCached(quant);
    emit("", "quantile", v, ts, flags, KIND_SUMMARY_QUANTILE, fam);
  }
  q = saveQ;
  qEnd = saveEnd;
  if (bad) {
    fail(PARSE_ERR_PB_MALFORMED, s);
    return false;
  }
  return true;
}

function histogram(s: usize, e: usize, ts: f64, flags: u32, fam: i32, gauge: bool): bool {
  const saveQ = q;
  const saveEnd = qEnd;
  q = s;
  qEnd = e;
  let count: f64 = 0;
  let countFloat: f64 = 0;
  let sum: f64 = 0;
  let native = false;
  while (nextField()) {
    switch (fNum) {
      case 1:
        if (fWire == 0) count = <f64>fVal;
        break;
      case 2:
        sum = asDouble();
        break;
      case 4:
        countFloat = asDouble();
        break;
      case 6:
        if (asDouble() > 0) native = true;
        break;
      case 7:
        if (fWire == 0 && fVal > 0) native = true;
        break;
      case 8:
        if (asDouble() > 0) native = true;
        break;
      case 9:
      case 12:
        native = true;
        break;
      default:
    }
  }
  if (bad) {
    fail(PARSE_ERR_PB_MALFORMED, s);
    return false;
  }
  if (native && !ignoreNative) {
    fail(PARSE_ERR_PB_NATIVE_HISTOGRAM, s);
    return false;
  }
  if (countFloat > 0) count = countFloat;
  emit("_count", "", count, ts, flags, gauge ? KIND_GAUGEHISTOGRAM_GCOUNT : KIND_HISTOGRAM_COUNT, fam);
  emit("_sum", "", sum, ts, flags, gauge ? KIND_GAUGEHISTOGRAM_GSUM : KIND_HISTOGRAM_SUM, fam);
  const bucketKind = gauge ? KIND_GAUGEHISTOGRAM_BUCKET : KIND_HISTOGRAM_BUCKET;
  let lastInf = false;
  q = s;
  while (nextField()) {
    if (fNum != 3 || fWire != 2) continue;
    const q2 = q;
    const e2 = qEnd;
    q = fStart;
    qEnd = fEnd;
    let cum: f64 = 0;
    let cumFloat: f64 = 0;
    let ub: f64 = 0;
    let exS: usize = 0;
    let exE: usize = 0;
    while (nextField()) {
      if (fNum == 1 && fWire == 0) cum = <f64>fVal;
      else if (fNum == 4) cumFloat = asDouble();
      else if (fNum == 2) ub = asDouble();
      else if (fNum == 3 && fWire == 2) {
        exS = fStart;
        exE = fEnd;
      }
    }
    q = q2;
    qEnd = e2;
    if (bad) break;
    if (cumFloat > 0) cum = cumFloat;
    formatCanonicalCached(ub);
    const i = emit("_bucket", "le", cum, ts, flags, bucketKind, fam);
    if (exS != 0 && !exemplar(i, exS, exE)) return false;
    lastInf = ub == Infinity;
  }
  q = saveQ;
  qEnd = saveEnd;
  if (bad) {
    fail(PARSE_ERR_PB_MALFORMED, s);
    return false;
  }
  if (!lastInf) {
    formatCanonical(Infinity);
    emit("_bucket", "le", count, ts, flags, bucketKind, fam);
  }
  return true;
}

/** One Metric message [s, e) of a family of protobuf type t. */
function metric(s: usize, e: usize, t: i32, fam: i32): bool {
  const saveQ = q;
  const saveEnd = qEnd;
  q = s;
  qEnd = e;
  setLblN(0);
  let ts: f64 = 0;
  let flags: u32 = 0;
  let subS: usize = 0;
  let subE: usize = 0;
  const want: u32 = t == 0 ? 3 : t == 1 ? 2 : t == 2 ? 4 : t == 3 ? 5 : 7;
  while (nextField()) {
    if (fNum == 1 && fWire == 2) {
      if (!label(fStart, fEnd)) return false;
    } else if (fNum == 6 && fWire == 0) {
      const v = <i64>fVal;
      if (v != 0) {
        ts = <f64>v;
        flags = SAMPLE_HAS_TIMESTAMP;
      }
    } else if (fNum == want && fWire == 2) {
      subS = fStart;
      subE = fEnd;
    }
  }
  q = saveQ;
  qEnd = saveEnd;
  if (bad) {
    fail(PARSE_ERR_PB_MALFORMED, s);
    return false;
  }
  if (subS == 0) subS = subE = s; // missing value message: defaults
  switch (t) {
    case 0:
      return counter(subS, subE, ts, flags, fam);
    case 1:
      emit("", "", simpleValue(subS, subE), ts, flags, KIND_GAUGE, fam);
      return true;
    case 2:
      return summary(subS, subE, ts, flags, fam);
    case 3:
      emit("", "", simpleValue(subS, subE), ts, flags, KIND_UNTYPED, fam);
      return true;
    default:
      return histogram(subS, subE, ts, flags, fam, t == 5);
  }
}

/** One MetricFamily message [s, e). */
function family(s: usize, e: usize): bool {
  q = s;
  qEnd = e;
  let helpS: usize = 0;
  let helpE: usize = 0;
  let unitS: usize = 0;
  let unitE: usize = 0;
  let hasHelp = false;
  let hasUnit = false;
  let t: i64 = 0;
  let metrics = 0;
  nameS = 0;
  nameE = 0;
  while (nextField()) {
    if (fNum == 1 && fWire == 2) {
      nameS = fStart;
      nameE = fEnd;
    } else if (fNum == 2 && fWire == 2) {
      helpS = fStart;
      helpE = fEnd;
      hasHelp = true;
    } else if (fNum == 3 && fWire == 0) {
      t = <i64>fVal;
    } else if (fNum == 4 && fWire == 2) {
      metrics++;
    } else if (fNum == 5 && fWire == 2) {
      unitS = fStart;
      unitE = fEnd;
      hasUnit = unitE > unitS;
    }
  }
  if (bad) {
    fail(PARSE_ERR_PB_MALFORMED, s);
    return false;
  }
  if (nameE == nameS || !validUtf8(nameS, nameE)) {
    fail(PARSE_ERR_PB_EMPTY_NAME, s);
    return false;
  }
  if (hasHelp && !validUtf8(helpS, helpE)) {
    fail(PARSE_ERR_INVALID_UTF8, helpS);
    return false;
  }
  if (t < 0 || t > 5) {
    fail(PARSE_ERR_PB_INVALID_TYPE, s);
    return false;
  }
  if (metrics == 0) return true;
  const ti = <i32>t;
  const f = addFamily(<u32>nameS, <u32>nameE);
  const r = famRec(f);
  store<u32>(r + 8, <u32>helpS);
  store<u32>(r + 12, <u32>helpE);
  store<u32>(r + 16, <u32>unitS);
  store<u32>(r + 20, <u32>unitE);
  const mtype = ti == 0 ? MTYPE_COUNTER : ti == 1 ? MTYPE_GAUGE : ti == 2 ? MTYPE_SUMMARY : ti == 3 ? MTYPE_UNKNOWN : ti == 4 ? MTYPE_HISTOGRAM : MTYPE_GAUGEHISTOGRAM;
  store<u32>(r + 24, <u32>mtype);
  store<u32>(r + 28, FAMILY_HAS_HELP | FAMILY_HAS_TYPE | (hasUnit ? FAMILY_HAS_UNIT : 0));
  q = s;
  qEnd = e;
  while (nextField()) {
    if (fNum == 4 && fWire == 2) {
      if (!metric(fStart, fEnd, ti, f)) return false;
    }
  }
  return errCode == 0;
}

export function parseProtobuf(start: usize, len: usize, ignoreNativeParts: bool): void {
  bodyStart = start;
  ignoreNative = ignoreNativeParts;
  bad = false;
  famNo = 0;
  const end = start + len;
  let p = start;
  while (p < end) {
    famNo++;
    // length prefix: a uvarint of at most 5 bytes
    let n: u64 = 0;
    let shift: u64 = 0;
    let k = 0;
    while (true) {
      if (p >= end) {
        fail(PARSE_ERR_PB_TRUNCATED, p);
        return;
      }
      if (k == 5) {
        fail(PARSE_ERR_PB_MALFORMED, p);
        return;
      }
      const b = <u64>load<u8>(p);
      p++;
      k++;
      n |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
    }
    if (n > <u64>(end - p)) {
      fail(PARSE_ERR_PB_TRUNCATED, p);
      return;
    }
    const e = p + <usize>n;
    if (!family(p, e)) return;
    p = e;
  }
}
