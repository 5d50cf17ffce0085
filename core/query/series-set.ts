/**
 * Step-evaluated values: a vector over all steps of a query is a list of series, each with a
 * value column and a presence column (NaN is a legal value, so presence is separate).
 */
import { Labels } from "../model/labels.ts";
import { goQuote } from "./lexical.ts";
import { QueryError } from "./values.ts";

/** What loops need to yield to the event loop (the Evaluator, a TimeSlicer). */
export interface Slices {
  due(work: number): boolean;
  pause(): Promise<void>;
}

export interface StepSeries {
  labels: Labels;
  v: Float64Array;
  has: Uint8Array;
}

/** Raw samples of one series in time order (a range vector's series). */
export interface RawSeries {
  labels: Labels;
  t: Float64Array;
  v: Float64Array;
}

export type EvalValue =
  | { kind: "scalar"; v: Float64Array }
  | { kind: "vector"; series: StepSeries[] }
  | { kind: "string"; s: string }
  | { kind: "matrix"; series: RawSeries[] };

/** Collects output series by label set; a second value for the same labels at the same step is Prometheus's duplicate error. */
export class SeriesSet {
  readonly #byKey = new Map<string, StepSeries>();
  readonly list: StepSeries[] = [];
  constructor(readonly n: number) {}

  series(labels: Labels): StepSeries {
    let s = this.#byKey.get(labels.key);
    if (s === undefined) {
      s = { labels, v: new Float64Array(this.n), has: new Uint8Array(this.n) };
      this.#byKey.set(labels.key, s);
      this.list.push(s);
    }
    return s;
  }

  set(s: StepSeries, i: number, v: number): void {
    if (s.has[i] === 1) throw new QueryError("execution", "vector cannot contain metrics with the same labelset");
    s.has[i] = 1;
    s.v[i] = v;
  }

  /** The series that got at least one value (in slices of `ev`'s time). */
  async result(ev: Slices): Promise<StepSeries[]> {
    const out: StepSeries[] = [];
    for (const s of this.list) {
      if (s.has.includes(1)) out.push(s);
      if (ev.due(this.n + 8)) await ev.pause();
    }
    return out;
  }
}

/**
 * labels.Compare: name by name, then value, shorter first. The cached key joins names and
 * values with NUL, which sorts below every other character, so comparing keys is the same order.
 */
export function compareLabels(a: Labels, b: Labels): number {
  const x = a.key;
  const y = b.key;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * A copy of `l` without `__name__`. Not cached: a WeakMap from label set to copy (one entry
 * per series a query touches) made JavaScriptCore's collector stop the world for 0.6 s at 1M
 * series (bench/query-stall.bench.ts; weak entries are settled in its final, paused phase),
 * and the TSDB builds new label sets for every read anyway.
 */
export function dropName(l: Labels): Labels {
  if (!l.has("__name__")) return l;
  const flat: string[] = [];
  for (const [n, v] of l) if (n !== "__name__") flat.push(n, v);
  return Labels.fromSorted(flat);
}

/** A copy of `l` keeping only `names` (on / by). */
export function keepLabels(l: Labels, names: readonly string[]): Labels {
  const out: Array<[string, string]> = [];
  for (const [n, v] of l) if (names.includes(n)) out.push([n, v]);
  return Labels.from(out);
}

/** A copy of `l` without `names` and, when `name` is true, without `__name__` (ignoring / without). */
export function withoutLabels(l: Labels, names: readonly string[], alsoName: boolean): Labels {
  const out: Array<[string, string]> = [];
  for (const [n, v] of l) if (!names.includes(n) && !(alsoName && n === "__name__")) out.push([n, v]);
  return Labels.from(out);
}

/** A copy of `l` with `name` set to `value` (deleted when empty). */
export function setLabel(l: Labels, name: string, value: string): Labels {
  const m = l.toMap();
  if (value === "") m.delete(name);
  else m.set(name, value);
  return Labels.from(m);
}

/** labels.Labels.String() in Prometheus: `{a="b", c="d"}` with every label, __name__ included. */
export function labelsString(l: Labels): string {
  const parts: string[] = [];
  for (const [n, v] of l) parts.push(`${n}=${goQuote(v)}`);
  return `{${parts.join(", ")}}`;
}
