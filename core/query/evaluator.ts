/**
 * The PromQL evaluator (Prometheus 2.42 semantics). Every node is evaluated for all steps
 * of the query at once: an instant vector is a list of series with a value column and a
 * presence column over the steps, so range functions and aggregations run over typed arrays.
 */
import { Labels } from "../model/labels.ts";
import type { Matcher, SeriesColumns, SeriesQuerier } from "../../storage/types.ts";
import type { AggregateExpr, AtModifier, BinaryExpr, Call, Expr, SubqueryExpr, VectorSelector } from "./ast.ts";
import { aggregate } from "./aggregate.ts";
import { binary } from "./binary.ts";
import { RANGE_KERNELS, type Window } from "./range-functions.ts";
import { compareLabels, dropName, SeriesSet, type EvalValue, type RawSeries, type StepSeries } from "./series-set.ts";
import { vectorFunction } from "./vector-functions.ts";
import { typeOf } from "./check.ts";
import { QueryError } from "./values.ts";

const TOO_MANY_SAMPLES = "query processing would load too many samples into memory in query execution";

/** How many of the window ends see a sample within the lookback (what vectorSelector would hold). */
function countPresent(t: Float64Array, stale: Uint8Array | null, ends: Float64Array, lookback: number): number {
  let j = -1;
  let n = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]!;
    if (j >= 0 && t[j]! > end) j = -1;
    while (j + 1 < t.length && t[j + 1]! <= end) j++;
    if (j >= 0 && t[j]! >= end - lookback && !(stale !== null && stale[j] === 1)) n++;
  }
  return n;
}

export interface StepRange {
  start: number;
  end: number;
  interval: number;
  n: number;
}

export function stepRange(start: number, end: number, interval: number): StepRange {
  const n = start > end ? 0 : Math.floor((end - start) / interval) + 1;
  return { start, end, interval, n };
}

/** A range vector argument: raw series (stale markers removed) and each step's window end. */
export interface RangeInput {
  series: RawSeries[];
  ends: Float64Array;
  rangeMs: number;
  selector: VectorSelector | null;
}

export interface EvaluatorOptions {
  lookbackMs: number;
  maxSamples: number;
  /** performance.now() deadline. */
  deadline: number;
  signal: AbortSignal | undefined;
  /** The query's own start and end (for `@ start()` / `@ end()`). */
  queryStart: number;
  queryEnd: number;
  /** The default subquery step. */
  subqueryStepMs: number;
}

export class Evaluator {
  totalSamples = 0;
  peakSamples = 0;
  #current = 0;
  #checks = 0;

  constructor(
    readonly querier: SeriesQuerier,
    readonly opts: EvaluatorOptions,
  ) {}

  /** Selections of this query by matchers: a later one within an earlier one's time range reuses it. */
  readonly #selected = new Map<string, Array<{ mint: number; maxt: number; cols: SeriesColumns[] }>>();

  /**
   * The querier's columns for `matchers` over [mint, maxt], or an earlier selection that covers
   * that range (`x / x offset 1m`, `rate(x[5m]) > x`): samples outside a window are skipped anyway.
   */
  select(matchers: readonly Matcher[], mint: number, maxt: number): SeriesColumns[] {
    const key = JSON.stringify(matchers);
    const list = this.#selected.get(key) ?? [];
    for (const c of list) if (c.mint <= mint && c.maxt >= maxt) return c.cols;
    const cols = this.querier.selectColumns(matchers, mint, maxt);
    list.push({ mint, maxt, cols });
    this.#selected.set(key, list);
    return cols;
  }

  /** Timeout and cancellation, checked between series and nodes. */
  check(): void {
    if ((++this.#checks & 63) !== 0) return;
    this.checkNow();
  }

  checkNow(): void {
    if (this.opts.signal?.aborted) throw new QueryError("canceled", "query was canceled in expression evaluation");
    if (performance.now() > this.opts.deadline) throw new QueryError("timeout", "query timed out in expression evaluation");
  }

  /**
   * Accounts for `n` samples held in memory; over the limit is Prometheus's execution error.
   * `upcoming` checks that many more without taking them yet.
   */
  hold(n: number, upcoming = 0): void {
    this.#current += n;
    this.totalSamples += n;
    if (this.#current > this.peakSamples) this.peakSamples = this.#current;
    if (this.#current + upcoming > this.opts.maxSamples) throw new QueryError("execution", TOO_MANY_SAMPLES);
  }

  release(n: number): void {
    this.#current -= n;
  }

  times(r: StepRange): Float64Array {
    const t = new Float64Array(r.n);
    for (let i = 0; i < r.n; i++) t[i] = r.start + i * r.interval;
    return t;
  }

  atTime(at: AtModifier | null): number | null {
    if (at === null) return null;
    if (at.kind === "start") return this.opts.queryStart;
    if (at.kind === "end") return this.opts.queryEnd;
    return at.ms;
  }

  ends(at: AtModifier | null, offsetMs: number, r: StepRange): Float64Array {
    const fixed = this.atTime(at);
    const e = new Float64Array(r.n);
    for (let i = 0; i < r.n; i++) e[i] = (fixed ?? r.start + i * r.interval) - offsetMs;
    return e;
  }

  eval(e: Expr, r: StepRange): EvalValue {
    this.checkNow();
    // A scalar holds one sample per step: past max samples it fails before allocating, as
    // Prometheus's does while filling it. Vectors are counted as they fill (no series, no samples).
    if (r.n > this.opts.maxSamples && typeOf(e) === "scalar") throw new QueryError("execution", TOO_MANY_SAMPLES);
    switch (e.kind) {
      case "number":
        return { kind: "scalar", v: new Float64Array(r.n).fill(e.value) };
      case "string":
        return { kind: "string", s: e.value };
      case "paren":
        return this.eval(e.expr, r);
      case "vector":
        return { kind: "vector", series: this.vectorSelector(e, r, false) };
      case "matrix":
      case "subquery": {
        const input = e.kind === "matrix" ? this.matrixInput(e.vector, e.rangeMs, r) : this.subqueryInput(e, r);
        return { kind: "matrix", series: windowSamples(input, 0) };
      }
      case "unary": {
        const v = this.eval(e.expr, r);
        if (e.op === "+") return v;
        if (v.kind === "scalar") return { kind: "scalar", v: v.v.map((x) => -x) };
        if (v.kind !== "vector") throw new QueryError("internal", "unary minus on a non-vector");
        const out = new SeriesSet(r.n);
        for (const s of v.series) {
          const o = out.series(dropName(s.labels));
          for (let i = 0; i < r.n; i++) if (s.has[i] === 1) out.set(o, i, -s.v[i]!);
        }
        return { kind: "vector", series: out.result() };
      }
      case "binary":
        return binary(this, e as BinaryExpr, r);
      case "aggregate":
        return aggregate(this, e as AggregateExpr, r);
      case "call":
        return this.call(e, r);
    }
  }

  scalarArg(e: Expr, r: StepRange): Float64Array {
    const v = this.eval(e, r);
    if (v.kind !== "scalar") throw new QueryError("internal", `expected a scalar, got ${v.kind}`);
    return v.v;
  }

  vectorArg(e: Expr, r: StepRange): StepSeries[] {
    const v = this.eval(e, r);
    if (v.kind !== "vector") throw new QueryError("internal", `expected a vector, got ${v.kind}`);
    return v.series;
  }

  /** Instant vector selector: the newest sample in [t - lookback, t] per step, unless it is a stale marker. */
  vectorSelector(vs: VectorSelector, r: StepRange, timestamps: boolean): StepSeries[] {
    const ends = this.ends(vs.at, vs.offsetMs, r);
    if (r.n === 0) return [];
    const lookback = this.opts.lookbackMs;
    let minE = Infinity;
    let maxE = -Infinity;
    for (const x of ends) {
      if (x < minE) minE = x;
      if (x > maxE) maxE = x;
    }
    const cols = this.select(vs.matchers, minE - lookback, maxE);
    const out: StepSeries[] = [];
    for (const c of cols) {
      this.check();
      // Very many steps (a long subquery): count first, so max samples fails before allocating.
      if (r.n > 1_000_000) this.hold(0, countPresent(c.t, c.stale, ends, lookback));
      const v = new Float64Array(r.n);
      const has = new Uint8Array(r.n);
      const t = c.t;
      let j = -1;
      let any = 0;
      for (let i = 0; i < r.n; i++) {
        const end = ends[i]!;
        if (j >= 0 && t[j]! > end) j = -1; // ends went back (never with a fixed @)
        while (j + 1 < t.length && t[j + 1]! <= end) j++;
        if (j < 0 || t[j]! < end - lookback || (c.stale !== null && c.stale[j] === 1)) continue;
        has[i] = 1;
        v[i] = timestamps ? t[j]! / 1000 : c.v[j]!;
        any++;
      }
      if (any > 0) {
        this.hold(any);
        out.push({ labels: c.labels, v, has });
      }
    }
    return out;
  }

  /** A matrix selector's series over the union of its windows, stale markers dropped. */
  matrixInput(vs: VectorSelector, rangeMs: number, r: StepRange): RangeInput {
    const ends = this.ends(vs.at, vs.offsetMs, r);
    if (r.n === 0) return { series: [], ends, rangeMs, selector: vs };
    let minE = Infinity;
    let maxE = -Infinity;
    for (const x of ends) {
      if (x < minE) minE = x;
      if (x > maxE) maxE = x;
    }
    const series: RawSeries[] = [];
    for (const c of this.select(vs.matchers, minE - rangeMs, maxE)) {
      if (c.stale === null) series.push({ labels: c.labels, t: c.t, v: c.v });
      else {
        let n = 0;
        for (let i = 0; i < c.t.length; i++) if (c.stale[i] !== 1) n++;
        const t = new Float64Array(n);
        const v = new Float64Array(n);
        let k = 0;
        for (let i = 0; i < c.t.length; i++) {
          if (c.stale[i] === 1) continue;
          t[k] = c.t[i]!;
          v[k] = c.v[i]!;
          k++;
        }
        if (n > 0) series.push({ labels: c.labels, t, v });
      }
    }
    return { series, ends, rangeMs, selector: vs };
  }

  /** A subquery: the inner expression evaluated at steps aligned to the subquery step, as raw series. */
  subqueryInput(sq: SubqueryExpr, r: StepRange): RangeInput {
    const ends = this.ends(sq.at, sq.offsetMs, r);
    if (r.n === 0) return { series: [], ends, rangeMs: sq.rangeMs, selector: null };
    let minE = Infinity;
    let maxE = -Infinity;
    for (const x of ends) {
      if (x < minE) minE = x;
      if (x > maxE) maxE = x;
    }
    const step = sq.stepMs > 0 ? sq.stepMs : this.opts.subqueryStepMs;
    const lo = minE - sq.rangeMs;
    let start = step * Math.trunc(lo / step);
    if (start < lo) start += step;
    const inner = stepRange(start, maxE, step);
    const v = this.eval(sq.expr, inner);
    const series: RawSeries[] = [];
    if (v.kind === "vector" && v.series.length > 0) {
      const times = this.times(inner);
      for (const s of v.series) {
        let n = 0;
        for (let i = 0; i < inner.n; i++) if (s.has[i] === 1) n++;
        const t = new Float64Array(n);
        const vals = new Float64Array(n);
        let k = 0;
        for (let i = 0; i < inner.n; i++) {
          if (s.has[i] !== 1) continue;
          t[k] = times[i]!;
          vals[k] = s.v[i]!;
          k++;
        }
        series.push({ labels: s.labels, t, v: vals });
      }
    }
    return { series, ends, rangeMs: sq.rangeMs, selector: null };
  }

  rangeArg(e: Expr, r: StepRange): RangeInput {
    let a = e;
    while (a.kind === "paren") a = a.expr;
    if (a.kind === "matrix") return this.matrixInput(a.vector, a.rangeMs, r);
    if (a.kind === "subquery") return this.subqueryInput(a, r);
    throw new QueryError("internal", `expected a range vector argument, got ${a.kind}`);
  }

  call(e: Call, r: StepRange): EvalValue {
    const kernel = RANGE_KERNELS[e.name];
    if (kernel !== undefined) return this.rangeFunction(e, kernel, r);
    if (e.name === "absent_over_time") return this.absentOverTime(e, r);
    return vectorFunction(this, e, r);
  }

  rangeFunction(e: Call, kernel: (w: Window) => number | undefined, r: StepRange): EvalValue {
    const rangeIdx = e.name === "quantile_over_time" ? 1 : 0;
    const scalarArgs: Float64Array[] = [];
    for (let i = 0; i < e.args.length; i++) if (i !== rangeIdx) scalarArgs.push(this.scalarArg(e.args[i]!, r));
    const input = this.rangeArg(e.args[rangeIdx]!, r);
    const keepName = e.name === "last_over_time";
    const out: StepSeries[] = [];
    const w: Window = { t: new Float64Array(0), v: new Float64Array(0), lo: 0, hi: 0, end: 0, rangeMs: input.rangeMs, stepTime: 0, args: scalarArgs.map(() => 0) };
    // With a fixed window (an @ modifier) and constant arguments every step has the same
    // result: compute the first step and copy it (Prometheus's step-invariant evaluation).
    const invariant =
      r.n > 1 &&
      input.ends[0] === input.ends[r.n - 1] &&
      e.name !== "predict_linear" &&
      scalarArgs.every((a) => a.every((x) => Object.is(x, a[0])));
    for (const s of input.series) {
      this.check();
      const v = new Float64Array(r.n);
      const has = new Uint8Array(r.n);
      let lo = 0;
      let hi = 0;
      let any = 0;
      const t = s.t;
      w.t = t;
      w.v = s.v;
      for (let i = 0; i < r.n; i++) {
        if (invariant && i > 0) {
          if (has[0] === 1) {
            has[i] = 1;
            v[i] = v[0]!;
            any++;
          }
          continue;
        }
        const end = input.ends[i]!;
        const start = end - input.rangeMs;
        if (i > 0 && end < input.ends[i - 1]!) {
          lo = 0;
          hi = 0;
        }
        while (lo < t.length && t[lo]! < start) lo++;
        if (hi < lo) hi = lo;
        while (hi < t.length && t[hi]! <= end) hi++;
        if (hi === lo) continue;
        w.lo = lo;
        w.hi = hi;
        w.end = end;
        w.stepTime = r.start + i * r.interval;
        for (let k = 0; k < scalarArgs.length; k++) w.args[k] = scalarArgs[k]![i]!;
        this.hold(hi - lo);
        const x = kernel(w);
        this.release(hi - lo);
        if (x === undefined) continue;
        v[i] = x;
        has[i] = 1;
        any++;
      }
      if (any > 0) {
        this.hold(any);
        out.push({ labels: keepName ? s.labels : dropName(s.labels), v, has });
      }
    }
    if (!keepName) {
      const seen = new Set<string>();
      for (const s of out) {
        if (seen.has(s.labels.key)) throw new QueryError("execution", "vector cannot contain metrics with the same labelset");
        seen.add(s.labels.key);
      }
    }
    return { kind: "vector", series: out };
  }

  absentOverTime(e: Call, r: StepRange): EvalValue {
    const input = this.rangeArg(e.args[0]!, r);
    const v = new Float64Array(r.n);
    const has = new Uint8Array(r.n);
    const idx = input.series.map(() => 0);
    for (let i = 0; i < r.n; i++) {
      const end = input.ends[i]!;
      const start = end - input.rangeMs;
      let present = false;
      for (let k = 0; k < input.series.length && !present; k++) {
        const t = input.series[k]!.t;
        let j = i > 0 && end >= input.ends[i - 1]! ? idx[k]! : 0;
        while (j < t.length && t[j]! < start) j++;
        idx[k] = j;
        if (j < t.length && t[j]! <= end) present = true;
      }
      if (!present) {
        has[i] = 1;
        v[i] = 1;
      }
    }
    if (!has.includes(1)) return { kind: "vector", series: [] };
    return { kind: "vector", series: [{ labels: absentLabels(input.selector), v, has }] };
  }
}

/** The labels absent()/absent_over_time() give their output: the selector's equality matchers. */
export function absentLabels(vs: VectorSelector | null): Labels {
  if (vs === null) return Labels.EMPTY;
  // As Prometheus 2.42 behaves (checked against it): in matcher order an equality sets the
  // label unless already set, a repeated equality removes it at the end, any other matcher
  // removes it at once (so `a=~"x", a="y"` keeps a="y").
  const m = new Map<string, string>();
  const repeated: string[] = [];
  for (const ma of vs.matchers) {
    if (ma.name === "__name__") continue;
    if (ma.type !== "=") m.delete(ma.name);
    else if (!m.has(ma.name)) m.set(ma.name, ma.value);
    else repeated.push(ma.name);
  }
  for (const n of repeated) m.delete(n);
  return Labels.from(m);
}

/** Samples of each series within step i's window (a top-level range vector in an instant query). */
export function windowSamples(input: RangeInput, i: number): RawSeries[] {
  const out: RawSeries[] = [];
  const end = input.ends[i];
  if (end === undefined) return out;
  const start = end - input.rangeMs;
  for (const s of input.series) {
    let lo = 0;
    while (lo < s.t.length && s.t[lo]! < start) lo++;
    let hi = lo;
    while (hi < s.t.length && s.t[hi]! <= end) hi++;
    if (hi > lo) out.push({ labels: s.labels, t: s.t.slice(lo, hi), v: s.v.slice(lo, hi) });
  }
  return out.sort((a, b) => compareLabels(a.labels, b.labels));
}
