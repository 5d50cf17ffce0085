// OpenMetrics semantic validation (PARSE_FLAG_OM_STRICT), as the OpenMetrics test suite and
// its reference parser (Python prometheus_client) expect. Prometheus' own parser checks
// none of this (spec §5.3 "Semantic checks"), so scrapes run without it.
//
// Family model: a family starts at a metadata line for a new name, or at a sample whose
// name is not one of the current family's sample names (an implicit `unknown` family).
// When a family ends, its name plus each sample suffix of its type is added to the set of
// seen names; a repeat is a clash (this also catches interleaved families).
// Groups: within a family, samples with the same labels (minus `le`/`quantile`/the stateset
// label) form a group; groups must be contiguous and timestamps must not go backwards.
// Set membership uses 64-bit hashes of the names/label sets (validation only).

import {
  KIND_COUNTER, KIND_GAUGEHISTOGRAM_BUCKET, KIND_GAUGEHISTOGRAM_GCOUNT, KIND_GAUGEHISTOGRAM_GSUM,
  KIND_HISTOGRAM_BUCKET, KIND_HISTOGRAM_COUNT, KIND_HISTOGRAM_SUM, KIND_INFO, KIND_STATESET,
  KIND_SUMMARY_COUNT, KIND_SUMMARY_QUANTILE, KIND_SUMMARY_SUM, MTYPE_COUNTER,
  MTYPE_GAUGEHISTOGRAM, MTYPE_HISTOGRAM, MTYPE_INFO, MTYPE_STATESET, MTYPE_SUMMARY, MTYPE_UNKNOWN,
  PARSE_ERR_CLASHING_NAME, PARSE_ERR_DUPLICATE_LABEL, PARSE_ERR_EXEMPLAR_NOT_ALLOWED,
  PARSE_ERR_EXEMPLAR_TOO_LONG, PARSE_ERR_INVALID_GROUPING, PARSE_ERR_INVALID_HISTOGRAM,
  PARSE_ERR_INVALID_LABEL_FOR_TYPE, PARSE_ERR_INVALID_VALUE_FOR_TYPE,
  PARSE_ERR_METADATA_AFTER_SAMPLES, PARSE_ERR_REPEATED_METADATA, PARSE_ERR_TIMESTAMP_ORDER,
  PARSE_ERR_UNIT_NOT_ALLOWED,
} from "../abi";
import { fpErr, parseFloat } from "./float";
import { lbl, lblN } from "./scratch";
import { setError } from "./state";
import { HASH_SEED, Set64, bytesEqual, equalsStr, fmix, hashBytes, hashStr } from "./util";

const seenNames = new Set64();
const seenGroups = new Set64();

let active = false;
let implicit = false;
let nS: usize = 0;
let nE: usize = 0;
let type: i32 = MTYPE_UNKNOWN;
let hasHelp = false;
let hasType = false;
let hasUnit = false;
let unitLen: usize = 0;
let samples: i32 = 0;

// group state
let gActive = false;
let gKey: u64 = 0;
let gHasTs = false;
let gTs: f64 = 0;

// histogram group state
let hActive = false;
let hKey: u64 = 0;
let hHasTs = false;
let hTs: f64 = 0;
let hHasBucket = false;
let hBucket: f64 = 0;
let hValue: f64 = 0;
let hHasCount = false;
let hCount: f64 = 0;
let hNeg = false;
let hHasSum = false;
let hHasGsum = false;
let hNegGsum = false;

function err(code: i32, line: u32): bool {
  setError(code, line, 1);
  return false;
}

export function begin(_start: usize): void {
  seenNames.clear();
  seenGroups.clear();
  active = false;
}

function start(s: usize, e: usize, isImplicit: bool): void {
  active = true;
  implicit = isImplicit;
  nS = s;
  nE = e;
  type = MTYPE_UNKNOWN;
  hasHelp = false;
  hasType = false;
  hasUnit = false;
  unitLen = 0;
  samples = 0;
  gActive = false;
  hActive = false;
  seenGroups.clear();
}

function addName(suffix: string, line: u32): bool {
  const h = hashStr(hashBytes(HASH_SEED, nS, nE), suffix);
  if (!seenNames.add(h)) return err(PARSE_ERR_CLASHING_NAME, line);
  return true;
}

function histChecks(line: u32): bool {
  if (!hHasBucket || hBucket != Infinity) return err(PARSE_ERR_INVALID_HISTOGRAM, line);
  if (hHasCount && hValue != hCount) return err(PARSE_ERR_INVALID_HISTOGRAM, line);
  if ((hHasSum || hHasGsum) && !hHasCount) return err(PARSE_ERR_INVALID_HISTOGRAM, line);
  if (!(hHasSum || hHasGsum) && hHasCount) return err(PARSE_ERR_INVALID_HISTOGRAM, line);
  if (hNeg && hHasSum) return err(PARSE_ERR_INVALID_HISTOGRAM, line);
  if (!hNeg && hNegGsum) return err(PARSE_ERR_INVALID_HISTOGRAM, line);
  return true;
}

function finishFamily(line: u32): bool {
  if (!active) return true;
  active = false;
  if (!addName("", line)) return false;
  switch (type) {
    case MTYPE_COUNTER:
      if (!addName("_total", line) || !addName("_created", line)) return false;
      break;
    case MTYPE_SUMMARY:
      if (!addName("_sum", line) || !addName("_count", line) || !addName("_created", line)) return false;
      break;
    case MTYPE_HISTOGRAM:
      if (!addName("_sum", line) || !addName("_count", line) || !addName("_bucket", line) || !addName("_created", line)) return false;
      break;
    case MTYPE_GAUGEHISTOGRAM:
      if (!addName("_gsum", line) || !addName("_gcount", line) || !addName("_bucket", line)) return false;
      break;
    case MTYPE_INFO:
      if (!addName("_info", line)) return false;
      break;
    default:
  }
  if (unitLen > 0 && (type == MTYPE_INFO || type == MTYPE_STATESET)) return err(PARSE_ERR_UNIT_NOT_ALLOWED, line);
  if ((type == MTYPE_HISTOGRAM || type == MTYPE_GAUGEHISTOGRAM) && hActive) return histChecks(line);
  return true;
}

const META_HELP: i32 = 1;
const META_TYPE: i32 = 2;

/** A HELP/TYPE/UNIT line for [s, e). */
export function onMeta(kind: i32, s: usize, e: usize, line: u32): bool {
  if (!active || nE - nS != e - s || !bytesEqual(s, nS, e - s)) {
    if (!finishFamily(line)) return false;
    start(s, e, false);
  } else if (samples > 0) {
    return err(PARSE_ERR_METADATA_AFTER_SAMPLES, line);
  }
  if (kind == META_HELP) {
    if (hasHelp) return err(PARSE_ERR_REPEATED_METADATA, line);
    hasHelp = true;
  } else if (kind == META_TYPE) {
    if (hasType) return err(PARSE_ERR_REPEATED_METADATA, line);
    hasType = true;
  } else {
    if (hasUnit) return err(PARSE_ERR_REPEATED_METADATA, line);
    hasUnit = true;
  }
  return true;
}

export function setType(t: i32): void {
  type = t;
}

export function setUnit(s: usize, e: usize): void {
  unitLen = e - s;
}

/** A sample [s, e) that is not part of the current family. */
export function onImplicitFamily(s: usize, e: usize, line: u32): bool {
  if (active && implicit && nE - nS == e - s && bytesEqual(s, nS, e - s)) return true;
  if (!finishFamily(line)) return false;
  start(s, e, true);
  return true;
}

function findLabel(name: string): i32 {
  for (let i = 0; i < lblN; i++) {
    if (equalsStr(lbl(i, 0), lbl(i, 1), name)) return i;
  }
  return -1;
}

function findFamilyLabel(): i32 {
  const n = nE - nS;
  for (let i = 0; i < lblN; i++) {
    if (lbl(i, 1) - lbl(i, 0) == n && bytesEqual(lbl(i, 0), nS, n)) return i;
  }
  return -1;
}

@inline function rotl(x: u64, r: u64): u64 {
  return (x << r) | (x >> (64 - r));
}

function groupKey(exclude: i32): u64 {
  let k: u64 = 0x9e3779b97f4a7c15;
  for (let i = 0; i < lblN; i++) {
    if (i == exclude) continue;
    const hn = hashBytes(HASH_SEED, lbl(i, 0), lbl(i, 1));
    const hv = hashBytes(HASH_SEED ^ 0x5555, lbl(i, 2), lbl(i, 3));
    k += fmix(hn ^ rotl(hv, 29));
  }
  return k;
}

export function onSample(kind: i32, _s: usize, _e: usize, v: f64, hasTs: bool, tsSec: f64, hasEx: bool, exCp: i32, line: u32): bool {
  samples++;
  if (hasEx) {
    if (kind != KIND_HISTOGRAM_BUCKET && kind != KIND_GAUGEHISTOGRAM_BUCKET && kind != KIND_COUNTER) {
      return err(PARSE_ERR_EXEMPLAR_NOT_ALLOWED, line);
    }
    if (exCp > 128) return err(PARSE_ERR_EXEMPLAR_TOO_LONG, line);
  }
  for (let i = 1; i < lblN; i++) {
    for (let j = 0; j < i; j++) {
      const n = lbl(i, 1) - lbl(i, 0);
      if (lbl(j, 1) - lbl(j, 0) == n && bytesEqual(lbl(i, 0), lbl(j, 0), n)) return err(PARSE_ERR_DUPLICATE_LABEL, line);
    }
  }
  let exclude = -1;
  let leVal: f64 = 0;
  if (kind == KIND_STATESET) {
    exclude = findFamilyLabel();
    if (exclude < 0) return err(PARSE_ERR_INVALID_LABEL_FOR_TYPE, line);
  }
  if (kind == KIND_HISTOGRAM_BUCKET || kind == KIND_GAUGEHISTOGRAM_BUCKET) {
    exclude = findLabel("le");
    if (exclude < 0) return err(PARSE_ERR_INVALID_LABEL_FOR_TYPE, line);
    const s = lbl(exclude, 2);
    const e = lbl(exclude, 3);
    leVal = parseFloat(s, e);
    if (fpErr != 0 || isNaN(leVal)) return err(PARSE_ERR_INVALID_LABEL_FOR_TYPE, line);
    if (!isFinite(leVal) && !equalsStr(s, e, "+Inf") && !equalsStr(s, e, "-Inf")) return err(PARSE_ERR_INVALID_LABEL_FOR_TYPE, line);
  }
  if (kind == KIND_SUMMARY_QUANTILE) {
    exclude = findLabel("quantile");
    if (exclude < 0) return err(PARSE_ERR_INVALID_LABEL_FOR_TYPE, line);
    const q = parseFloat(lbl(exclude, 2), lbl(exclude, 3));
    if (fpErr != 0 || !(q >= 0 && q <= 1)) return err(PARSE_ERR_INVALID_LABEL_FOR_TYPE, line);
  }
  switch (kind) {
    case KIND_HISTOGRAM_BUCKET:
    case KIND_GAUGEHISTOGRAM_BUCKET:
    case KIND_HISTOGRAM_COUNT:
    case KIND_SUMMARY_COUNT:
    case KIND_GAUGEHISTOGRAM_GCOUNT:
      if (!isFinite(v) || v != Math.floor(v)) return err(PARSE_ERR_INVALID_VALUE_FOR_TYPE, line);
      if (v < 0) return err(PARSE_ERR_INVALID_VALUE_FOR_TYPE, line);
      break;
    case KIND_COUNTER:
    case KIND_HISTOGRAM_SUM:
    case KIND_SUMMARY_SUM:
      if (isNaN(v) || v < 0) return err(PARSE_ERR_INVALID_VALUE_FOR_TYPE, line);
      break;
    case KIND_GAUGEHISTOGRAM_GSUM:
      if (isNaN(v)) return err(PARSE_ERR_INVALID_VALUE_FOR_TYPE, line);
      break;
    case KIND_INFO:
      if (v != 1) return err(PARSE_ERR_INVALID_VALUE_FOR_TYPE, line);
      break;
    case KIND_STATESET:
      if (v != 0 && v != 1) return err(PARSE_ERR_INVALID_VALUE_FOR_TYPE, line);
      break;
    default:
  }
  const key: u64 = kind == KIND_INFO ? 1 : groupKey(exclude);
  if (gActive && key != gKey && seenGroups.has(key)) return err(PARSE_ERR_INVALID_GROUPING, line);
  if (gActive && key == gKey) {
    if (hasTs != gHasTs) return err(PARSE_ERR_TIMESTAMP_ORDER, line);
    if (hasTs && gTs > tsSec && type != MTYPE_INFO) return err(PARSE_ERR_TIMESTAMP_ORDER, line);
  }
  gActive = true;
  gKey = key;
  gHasTs = hasTs;
  gTs = tsSec;
  seenGroups.add(key);
  if (type == MTYPE_HISTOGRAM || type == MTYPE_GAUGEHISTOGRAM) {
    if (!hActive || key != hKey || hasTs != hHasTs || (hasTs && tsSec != hTs)) {
      if (hActive && !histChecks(line)) return false;
      hActive = true;
      hKey = key;
      hHasTs = hasTs;
      hTs = tsSec;
      hHasBucket = false;
      hBucket = 0;
      hValue = 0;
      hHasCount = false;
      hCount = 0;
      hNeg = false;
      hHasSum = false;
      hHasGsum = false;
      hNegGsum = false;
    }
    if (kind == KIND_HISTOGRAM_BUCKET || kind == KIND_GAUGEHISTOGRAM_BUCKET) {
      if (leVal < 0) hNeg = true;
      if (hHasBucket && leVal <= hBucket) return err(PARSE_ERR_INVALID_HISTOGRAM, line);
      if (v < hValue) return err(PARSE_ERR_INVALID_HISTOGRAM, line);
      hHasBucket = true;
      hBucket = leVal;
      hValue = v;
    } else if (kind == KIND_HISTOGRAM_COUNT || kind == KIND_GAUGEHISTOGRAM_GCOUNT) {
      hHasCount = true;
      hCount = v;
    } else if (kind == KIND_HISTOGRAM_SUM) {
      hHasSum = true;
    } else if (kind == KIND_GAUGEHISTOGRAM_GSUM) {
      hHasGsum = true;
      if (v < 0) hNegGsum = true;
    }
  }
  return true;
}

export function end(line: u32): bool {
  return finishFamily(line);
}
