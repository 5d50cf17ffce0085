/**
 * Names the missing feature behind a failing eval of Prometheus 3.x's scripts, for the
 * known-failure list of promql-main.test.ts (written by `UPDATE_KNOWN_FAILURES=1`). Parse
 * errors are named from the syntax the expression uses; the rest from what the eval needs.
 * A wrong value over a range selector is listed as not diagnosed yet: a heuristic,
 * read the eval before trusting it.
 */
import type { EvalOutcome3x } from "./promql-script-3x.ts";

const SYNTAX: Array<[RegExp, string]> = [
  [/\b(anchored|smoothed)\b/, "extended range selectors (anchored/smoothed) not implemented"],
  [/[<>]\//, "parse: histogram trim operators </ and >/"],
  [/\bfill(_left|_right)?\s*\(/, "parse: binop fill modifiers (fill, fill_left, fill_right)"],
  [/\b(step|start|end|range|min_of|max_of)\s*\(/i, "parse: duration expressions with step()/start()/end()/range()/min_of()/max_of()"],
  [/\[[^\]]*(\d[smhdwy]?\s*[-+*/%^]|[-+*/%^]\s*\d|\()[^\]]*\]|offset\s+[-(]*\s*\d+\s*[-+*/%^)]|offset\s+\(/, "parse: duration expressions (arithmetic in ranges and offsets)"],
  [/@\s*\d+[smhdwy]|,\s*\d+[smhdwy]\s*\)/, "parse: durations as numbers (@ 2m, predict_linear(…, 50m))"],
  [/\[\d+(:\d*)?\]|offset\s+-?\d+\b(?![smhdwy])|\[\d+:|:\d+\]/, "parse: durations written as plain numbers"],
];

const DURATION_FUNCS = new Set(["step", "start", "end", "range", "min_of", "max_of"]);

/** A short reason naming what gleaner lacks for this eval. */
export function failureReason(o: EvalOutcome3x): string {
  const c = o.case;
  const err = o.error ?? "";
  const fn = /unknown function with name \\?"([^"\\]+)\\?"/.exec(err);
  if (/\blimit(k|_ratio)\s*(\(|by|without)/.test(c.expr) && /parse error/.test(err)) return "aggregations limitk and limit_ratio (experimental) not implemented";
  if (/\bfill(_left|_right)?\s*\(/.test(c.expr) && /parse error/.test(err)) return "parse: binop fill modifiers (fill, fill_left, fill_right)";
  if (fn && DURATION_FUNCS.has(fn[1]!)) return "parse: duration expressions with step()/start()/end()/range()/min_of()/max_of()";
  if (fn) return `function ${fn[1]} not implemented`;
  if (/parse error/.test(err)) {
    for (const [re, reason] of SYNTAX) if (re.test(c.expr)) return reason;
    return `parse: ${err.replace(/^.*parse error: /, "")}`;
  }
  if (c.usesHistogramExpectation || c.unstored.has("nhcb")) return "native histograms are not stored yet";
  if (/annotations, got none|unexpected (warn|info)/.test(err)) return "annotations (warn/info) not produced";
  if (c.unstored.has("histogram")) return "native histograms are not stored yet";
  if (c.unstored.has("start timestamp")) return "start timestamps (@st) not stored";
  if (/__type__|__unit__/.test(err + c.expr)) return "type-and-unit labels (__type__/__unit__) not implemented";
  if (/vector cannot contain metrics with the same labelset/.test(err)) return "delayed __name__ removal (3.x) not implemented";
  if (/\batan2\b/.test(c.expr) && /unexpected series \S/.test(err)) return "atan2 keeps the metric name as 2.42 does (3.x drops it)";
  if (/^(stddev|stdvar)\b/.test(c.expr)) return "stddev/stdvar of Inf and NaN samples differ from 3.x";
  if (/found duplicate series/.test(err)) return "duplicate-series error lists the series in 2.42's order (the captured 2.42 API answers need it; 3.x sorts them)";
  if (/expected error|expected an error/.test(err)) return "error message differs from Prometheus's";
  if (/expected the query to fail/.test(err)) return "query succeeds where Prometheus fails";
  if (/\binfo\s*\(/.test(c.expr)) return "function info not implemented";
  // Windows are 3.x's (left-open) and rate extrapolates as 3.x: what is left over a range is not diagnosed yet.
  if (/\[[^\]]+\]/.test(c.expr) || /^\w+$/.test(c.expr.trim())) return "a value over a range selector differs from 3.x (not diagnosed yet)";
  if (/^range mode:/.test(err)) return "range query's middle step differs from the instant result";
  if (/^with @ as/.test(err)) return "result differs with @ pinned selectors";
  return `wrong result: ${err.slice(0, 120)}`;
}
