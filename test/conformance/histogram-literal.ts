/**
 * Native histogram literals of Prometheus's test scripts and series descriptions
 * (`{{schema:1 sum:3 count:22 buckets:[5 10 7]}}`), read into a plain structure. The
 * engine does not store native histograms yet; the runner uses this to load nothing and to
 * report evals that need them.
 *
 * @example
 * parseHistogramLiteral("{{schema:0 sum:5 count:4 z_bucket:1 buckets:[1 2] offset:1}}")
 * // → { schema: 0, sum: 5, count: 4, zeroCount: 1, positiveSpans: [{ offset: 1, length: 2 }], positiveBuckets: [1, 2], ... }
 */
import { parseNumber } from "../../core/query/lexical.ts";

export type CounterResetHint = "unknown" | "reset" | "not_reset" | "gauge";

export interface HistogramSpan {
  offset: number;
  length: number;
}

/** A float native histogram as written in a script; bucket counts are absolute, as upstream's FloatHistogram. */
export interface HistogramLiteral {
  schema: number;
  count: number;
  sum: number;
  zeroThreshold: number;
  zeroCount: number;
  positiveSpans: HistogramSpan[];
  positiveBuckets: number[];
  negativeSpans: HistogramSpan[];
  negativeBuckets: number[];
  counterResetHint: CounterResetHint;
  /** Whether the literal names counter_reset_hint (upstream compares the hint only then). */
  counterResetHintSet: boolean;
  /** Upper bounds of the custom buckets (schema -53); empty otherwise. */
  customValues: number[];
}

/** Upstream's default zero threshold (2^-128) when a literal gives no z_bucket_w. */
export const DEFAULT_ZERO_THRESHOLD = 2.938735877055719e-39;

const HINTS = new Set<CounterResetHint>(["unknown", "reset", "not_reset", "gauge"]);

function number(text: string, field: string, literal: string): number {
  const m = /^([+-]?)(.+)$/.exec(text);
  const v = m ? parseNumber(m[2]!) : null;
  if (v === null) throw new SyntaxError(`Cannot read histogram ${literal}: ${field} is not a number: ${JSON.stringify(text)}`);
  return m![1] === "-" ? -v : v;
}

/** Reads one `{{…}}` literal; throws SyntaxError naming the literal and the field. */
export function parseHistogramLiteral(literal: string): HistogramLiteral {
  const s = literal.trim();
  if (!s.startsWith("{{") || !s.endsWith("}}")) throw new SyntaxError(`Cannot read histogram ${JSON.stringify(literal)}: it must be written {{…}}`);
  const body = s.slice(2, -2);
  const h: HistogramLiteral = { schema: 0, count: 0, sum: 0, zeroThreshold: DEFAULT_ZERO_THRESHOLD, zeroCount: 0, positiveSpans: [], positiveBuckets: [], negativeSpans: [], negativeBuckets: [], counterResetHint: "unknown", counterResetHintSet: false, customValues: [] };
  let offset = 0;
  let nOffset = 0;
  const seen = new Set<string>();
  const re = /\s*([a-z_]+)\s*:\s*(\[[^\]]*\]|[^\s\]]+)\s*/y;
  let i = 0;
  while (i < body.length) {
    if (/^\s+$/.test(body.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(body);
    if (!m) throw new SyntaxError(`Cannot read histogram ${literal}: unexpected ${JSON.stringify(body.slice(i))}`);
    i = re.lastIndex;
    const [, field, raw] = m as unknown as [string, string, string];
    if (seen.has(field)) throw new SyntaxError(`Cannot read histogram ${literal}: ${field} is given twice`);
    seen.add(field);
    const list = (): number[] => {
      if (!raw.startsWith("[")) throw new SyntaxError(`Cannot read histogram ${literal}: ${field} must be a list [a b …]`);
      return raw.slice(1, -1).split(/[\s,]+/).filter(Boolean).map((x) => number(x, field, literal));
    };
    switch (field) {
      case "schema":
        h.schema = number(raw, field, literal);
        break;
      case "count":
        h.count = number(raw, field, literal);
        break;
      case "sum":
        h.sum = number(raw, field, literal);
        break;
      case "z_bucket":
        h.zeroCount = number(raw, field, literal);
        break;
      case "z_bucket_w":
        h.zeroThreshold = number(raw, field, literal);
        break;
      case "buckets":
        h.positiveBuckets = list();
        break;
      case "n_buckets":
        h.negativeBuckets = list();
        break;
      case "offset":
        offset = number(raw, field, literal);
        break;
      case "n_offset":
        nOffset = number(raw, field, literal);
        break;
      case "custom_values":
        h.customValues = list();
        break;
      case "counter_reset_hint":
        if (!HINTS.has(raw as CounterResetHint)) throw new SyntaxError(`Cannot read histogram ${literal}: counter_reset_hint must be one of ${[...HINTS].join(", ")}, got ${JSON.stringify(raw)}`);
        h.counterResetHint = raw as CounterResetHint;
        h.counterResetHintSet = true;
        break;
      default:
        throw new SyntaxError(`Cannot read histogram ${literal}: unknown field ${JSON.stringify(field)}`);
    }
  }
  if (h.positiveBuckets.length > 0) h.positiveSpans = [{ offset, length: h.positiveBuckets.length }];
  if (h.negativeBuckets.length > 0) h.negativeSpans = [{ offset: nOffset, length: h.negativeBuckets.length }];
  return h;
}

/** `a + k·d` field by field, as upstream's series expansion `{{a}}+{{d}}xN` (spans from `a`). */
export function addScaled(a: HistogramLiteral, d: HistogramLiteral, k: number): HistogramLiteral {
  const add = (x: number[], y: number[]): number[] => x.map((v, idx) => v + k * (y[idx] ?? 0));
  return {
    ...a,
    count: a.count + k * d.count,
    sum: a.sum + k * d.sum,
    zeroCount: a.zeroCount + k * d.zeroCount,
    positiveBuckets: add(a.positiveBuckets, d.positiveBuckets),
    negativeBuckets: add(a.negativeBuckets, d.negativeBuckets),
    positiveSpans: a.positiveSpans.map((sp) => ({ ...sp })),
    negativeSpans: a.negativeSpans.map((sp) => ({ ...sp })),
    customValues: [...a.customValues],
  };
}
