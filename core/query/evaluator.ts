/**
 * The PromQL evaluator (Prometheus 2.42 semantics). Every node is evaluated for all steps
 * of the query at once: an instant vector is a list of series with a value column and a
 * presence column over the steps, so range functions and aggregations run over typed arrays.
 *
 * Evaluation is async and cut into time slices (DESIGN: the event loop is never held for more
 * than ~100 ms): the storage selection is driven in steps, and every loop over series or steps
 * asks `due(work)` and awaits `pause()` when the slice is used up, which yields a macrotask
 * and then checks cancellation and the deadline again. Inner per-step loops are sync helpers
 * (latestSamples, kernelSteps, ...): JavaScriptCore optimises them better outside async code,
 * and a query that fits in one slice never pauses, so small queries pay a few counter
 * decrements.
 */
import { Labels } from "../model/labels.ts";
import type { Matcher, SeriesColumns, SeriesQuerier } from "../../storage/types.ts";
import type { AggregateExpr, AtModifier, BinaryExpr, Call, Expr, SubqueryExpr, VectorSelector } from "./ast.ts";
import { aggregate } from "./aggregate.ts";
import { binary } from "./binary.ts";
import { RANGE_KERNELS, type Window } from "./range-functions.ts";
import { dropName, SeriesSet, type EvalValue, type RawSeries, type StepSeries } from "./series-set.ts";
import { vectorFunction } from "./vector-functions.ts";
import { typeOf } from "./check.ts";
import { QueryError } from "./values.ts";
import { byLabels, DEFAULT_SLICE_MS, drive, sortSteps, TimeSlicer } from "../time-slice.ts";

const TOO_MANY_SAMPLES = "query processing would load too many samples into memory in query execution";

/** How many of the window ends see a sample within the lookback (what vectorSelector would hold). */
function countPresent(t: Float64Array, stale: Uint8Array | null, ends: Float64Array, lookback: number, closed: boolean): number {
  let j = -1;
  let n = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]!;
    if (j >= 0 && t[j]! > end) j = -1;
    while (j + 1 < t.length && t[j + 1]! <= end) j++;
    if (j >= 0 && inWindow(t[j]!, end - lookback, closed) && !(stale !== null && stale[j] === 1)) n++;
  }
  return n;
}

/**
 * Whether a sample at `t` (≤ the window's end) lies after the window's start: Prometheus 3.x's
 * windows are left-open, (end − range, end]; 2.x's were closed, [end − range, end].
 */
function inWindow(t: number, start: number, closed: boolean): boolean {
  return closed ? t >= start : t > start;
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
  /** How long evaluation may hold the event loop before it yields (default 20 ms; 0 in tests: at every look at the clock). */
  sliceMs?: number;
  /** Prometheus 2.x's semantics where 3.x changed them (EngineOptions.v2Semantics). */
  v2Semantics?: boolean;
}

export class Evaluator {
  totalSamples = 0;
  peakSamples = 0;
  #current = 0;
  #checks = 0;

  /** Time slices: loops over series or steps ask due() and await pause(), which checks cancellation and the deadline again. */
  readonly slices: TimeSlicer;

  /** 2.x's closed windows (EvaluatorOptions.v2Semantics). */
  readonly closed: boolean;

  constructor(
    readonly querier: SeriesQuerier,
    readonly opts: EvaluatorOptions,
  ) {
    this.slices = new TimeSlicer(opts.sliceMs ?? DEFAULT_SLICE_MS, () => this.checkNow());
    this.closed = opts.v2Semantics ?? false;
  }

  /** Counts `work` units (about one per array element touched); true when the caller should `await pause()`. */
  due(work: number): boolean {
    return this.slices.due(work);
  }

  /** Lets the event loop run, then checks for cancellation and the deadline. */
  pause(): Promise<void> {
    return this.slices.pause();
  }

  /** Selections of this query by matchers: a later one within an earlier one's time range reuses it. */
  readonly #selected = new Map<string, Array<{ mint: number; maxt: number; cols: SeriesColumns[] }>>();

  /**
   * The querier's columns for `matchers` over [mint, maxt], or an earlier selection that covers
   * that range (`x / x offset 1m`, `rate(x[5m]) > x`): samples outside a window are skipped anyway.
   */
  async select(matchers: readonly Matcher[], mint: number, maxt: number): Promise<SeriesColumns[]> {
    const key = JSON.stringify(matchers);
    const list = this.#selected.get(key) ?? [];
    for (const c of list) if (c.mint <= mint && c.maxt >= maxt) return c.cols;
    const q = this.querier;
    const cols = q.selectColumnsSteps !== undefined ? await drive(q.selectColumnsSteps(matchers, mint, maxt), this.slices) : q.selectColumns(matchers, mint, maxt);
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

  async eval(e: Expr, r: StepRange): Promise<EvalValue> {
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
        return { kind: "vector", series: await this.vectorSelector(e, r, false) };
      case "matrix":
      case "subquery": {
        const input = e.kind === "matrix" ? await this.matrixInput(e.vector, e.rangeMs, r) : await this.subqueryInput(e, r);
        return { kind: "matrix", series: await windowSamples(this, input, 0) };
      }
      case "unary": {
        const v = await this.eval(e.expr, r);
        if (e.op === "+") return v;
        if (v.kind === "scalar") return { kind: "scalar", v: v.v.map((x) => -x) };
        if (v.kind !== "vector") throw new QueryError("internal", "unary minus on a non-vector");
        const out = new SeriesSet(r.n);
        for (const s of v.series) {
          const o = out.series(dropName(s.labels));
          for (let i = 0; i < r.n; i++) if (s.has[i] === 1) out.set(o, i, -s.v[i]!);
          if (this.due(r.n + 64)) await this.pause();
        }
        return { kind: "vector", series: await out.result(this) };
      }
      case "binary":
        return binary(this, e as BinaryExpr, r);
      case "aggregate":
        return aggregate(this, e as AggregateExpr, r);
      case "call":
        return this.call(e, r);
    }
  }

  async scalarArg(e: Expr, r: StepRange): Promise<Float64Array> {
    const v = await this.eval(e, r);
    if (v.kind !== "scalar") throw new QueryError("internal", `expected a scalar, got ${v.kind}`);
    return v.v;
  }

  async vectorArg(e: Expr, r: StepRange): Promise<StepSeries[]> {
    const v = await this.eval(e, r);
    if (v.kind !== "vector") throw new QueryError("internal", `expected a vector, got ${v.kind}`);
    return v.series;
  }

  /** Instant vector selector: the newest sample in (t - lookback, t] per step, unless it is a stale marker. */
  async vectorSelector(vs: VectorSelector, r: StepRange, timestamps: boolean): Promise<StepSeries[]> {
    const ends = this.ends(vs.at, vs.offsetMs, r);
    if (r.n === 0) return [];
    const lookback = this.opts.lookbackMs;
    let minE = Infinity;
    let maxE = -Infinity;
    for (const x of ends) {
      if (x < minE) minE = x;
      if (x > maxE) maxE = x;
    }
    const cols = await this.select(vs.matchers, minE - lookback, maxE);
    const out: StepSeries[] = [];
    for (const c of cols) {
      this.check();
      if (this.due(r.n + c.t.length + 16)) await this.pause();
      // Very many steps (a long subquery): count first, so max samples fails before allocating.
      if (r.n > 1_000_000) this.hold(0, countPresent(c.t, c.stale, ends, lookback, this.closed));
      const v = new Float64Array(r.n);
      const has = new Uint8Array(r.n);
      const any = latestSamples(c, ends, lookback, timestamps, v, has, this.closed);
      if (any > 0) {
        this.hold(any);
        out.push({ labels: c.labels, v, has });
      }
    }
    return out;
  }

  /** A matrix selector's series over the union of its windows, stale markers dropped. */
  async matrixInput(vs: VectorSelector, rangeMs: number, r: StepRange): Promise<RangeInput> {
    const ends = this.ends(vs.at, vs.offsetMs, r);
    if (r.n === 0) return { series: [], ends, rangeMs, selector: vs };
    let minE = Infinity;
    let maxE = -Infinity;
    for (const x of ends) {
      if (x < minE) minE = x;
      if (x > maxE) maxE = x;
    }
    const series: RawSeries[] = [];
    for (const c of await this.select(vs.matchers, minE - rangeMs, maxE)) {
      if (this.due(c.stale === null ? 16 : 16 + 2 * c.t.length)) await this.pause();
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
  async subqueryInput(sq: SubqueryExpr, r: StepRange): Promise<RangeInput> {
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
    // The first inner step inside the window: after its start (3.x), or at it (2.x).
    let start = step * Math.trunc(lo / step);
    if (this.closed ? start < lo : start <= lo) start += step;
    const inner = stepRange(start, maxE, step);
    const v = await this.eval(sq.expr, inner);
    const series: RawSeries[] = [];
    if (v.kind === "vector" && v.series.length > 0) {
      const times = this.times(inner);
      for (const s of v.series) {
        if (this.due(2 * inner.n + 16)) await this.pause();
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

  rangeArg(e: Expr, r: StepRange): Promise<RangeInput> {
    let a = e;
    while (a.kind === "paren") a = a.expr;
    if (a.kind === "matrix") return this.matrixInput(a.vector, a.rangeMs, r);
    if (a.kind === "subquery") return this.subqueryInput(a, r);
    throw new QueryError("internal", `expected a range vector argument, got ${a.kind}`);
  }

  call(e: Call, r: StepRange): Promise<EvalValue> {
    const kernel = RANGE_KERNELS[e.name];
    if (kernel !== undefined) return this.rangeFunction(e, kernel, r);
    if (e.name === "absent_over_time") return this.absentOverTime(e, r);
    return vectorFunction(this, e, r);
  }

  async rangeFunction(e: Call, kernel: (w: Window) => number | undefined, r: StepRange): Promise<EvalValue> {
    const rangeIdx = e.name === "quantile_over_time" ? 1 : 0;
    const scalarArgs: Float64Array[] = [];
    for (let i = 0; i < e.args.length; i++) if (i !== rangeIdx) scalarArgs.push(await this.scalarArg(e.args[i]!, r));
    const input = await this.rangeArg(e.args[rangeIdx]!, r);
    const keepName = e.name === "last_over_time";
    const out: StepSeries[] = [];
    const w: Window = { t: new Float64Array(0), v: new Float64Array(0), lo: 0, hi: 0, end: 0, rangeMs: input.rangeMs, stepTime: 0, args: scalarArgs.map(() => 0), v2: this.closed };
    // With a fixed window (an @ modifier) and constant arguments every step has the same
    // result: compute the first step and copy it (Prometheus's step-invariant evaluation).
    const invariant =
      r.n > 1 &&
      input.ends[0] === input.ends[r.n - 1] &&
      e.name !== "predict_linear" &&
      scalarArgs.every((a) => a.every((x) => Object.is(x, a[0])));
    const pass: KernelPass = { ev: this, kernel, w, input, scalarArgs, invariant, r, v: w.v, has: new Uint8Array(0), lo: 0, hi: 0, any: 0 };
    for (const s of input.series) {
      this.check();
      pass.v = new Float64Array(r.n);
      pass.has = new Uint8Array(r.n);
      pass.lo = 0;
      pass.hi = 0;
      pass.any = 0;
      w.t = s.t;
      w.v = s.v;
      // Stretches of steps: windows of many samples at many steps make one series long work.
      for (let from = 0; from < r.n; from += KERNEL_STRETCH) {
        const work = kernelSteps(pass, from, Math.min(r.n, from + KERNEL_STRETCH));
        if (this.due(work)) await this.pause();
      }
      if (pass.any > 0) {
        this.hold(pass.any);
        out.push({ labels: keepName ? s.labels : dropName(s.labels), v: pass.v, has: pass.has });
      }
    }
    if (!keepName) {
      const seen = new Set<string>();
      for (const s of out) {
        if (seen.has(s.labels.key)) throw new QueryError("execution", "vector cannot contain metrics with the same labelset");
        seen.add(s.labels.key);
        if (this.due(64)) await this.pause();
      }
    }
    return { kind: "vector", series: out };
  }

  async absentOverTime(e: Call, r: StepRange): Promise<EvalValue> {
    const input = await this.rangeArg(e.args[0]!, r);
    const v = new Float64Array(r.n);
    const has = new Uint8Array(r.n);
    const idx = input.series.map(() => 0);
    for (let i = 0; i < r.n; i++) {
      const end = input.ends[i]!;
      const start = end - input.rangeMs;
      let present = false;
      for (let k = 0; k < input.series.length && !present; k++) {
        if ((k & 255) === 255 && this.due(1024)) await this.pause();
        const t = input.series[k]!.t;
        let j = i > 0 && end >= input.ends[i - 1]! ? idx[k]! : 0;
        while (j < t.length && !inWindow(t[j]!, start, this.closed)) j++;
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

/**
 * Fills `v`/`has` with the newest sample in (end - lookback, end] per step end (closed: from
 * end - lookback on), unless it is a stale marker; returns how many steps got one. (Sync: hot
 * loops stay out of async functions.)
 */
function latestSamples(c: SeriesColumns, ends: Float64Array, lookback: number, timestamps: boolean, v: Float64Array, has: Uint8Array, closed: boolean): number {
  const t = c.t;
  let j = -1;
  let any = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]!;
    if (j >= 0 && t[j]! > end) j = -1; // ends went back (never with a fixed @)
    while (j + 1 < t.length && t[j + 1]! <= end) j++;
    if (j < 0 || !inWindow(t[j]!, end - lookback, closed) || (c.stale !== null && c.stale[j] === 1)) continue;
    has[i] = 1;
    v[i] = timestamps ? t[j]! / 1000 : c.v[j]!;
    any++;
  }
  return any;
}

/** Steps of one series a kernel pass runs between two looks at the clock. */
const KERNEL_STRETCH = 1024;

/** One series' pass through a range kernel, resumable between stretches of steps. */
interface KernelPass {
  ev: Evaluator;
  kernel: (w: Window) => number | undefined;
  w: Window;
  input: RangeInput;
  scalarArgs: Float64Array[];
  invariant: boolean;
  r: StepRange;
  v: Float64Array;
  has: Uint8Array;
  lo: number;
  hi: number;
  any: number;
}

/**
 * Steps [from, to) of the pass's series (a sync function: the hot loop stays out of the async
 * evaluator). Returns the work done, in TimeSlicer units.
 */
function kernelSteps(p: KernelPass, from: number, to: number): number {
  const { ev, kernel, w, input, scalarArgs, invariant, r, v, has } = p;
  const t = w.t;
  let { lo, hi, any } = p;
  let work = 16 + to - from;
  for (let i = from; i < to; i++) {
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
    while (lo < t.length && !inWindow(t[lo]!, start, ev.closed)) lo++;
    if (hi < lo) hi = lo;
    while (hi < t.length && t[hi]! <= end) hi++;
    if (hi === lo) continue;
    w.lo = lo;
    w.hi = hi;
    w.end = end;
    w.stepTime = r.start + i * r.interval;
    for (let k = 0; k < scalarArgs.length; k++) w.args[k] = scalarArgs[k]![i]!;
    ev.hold(hi - lo);
    const x = kernel(w);
    ev.release(hi - lo);
    work += hi - lo;
    if (x === undefined) continue;
    v[i] = x;
    has[i] = 1;
    any++;
  }
  p.lo = lo;
  p.hi = hi;
  p.any = any;
  return work;
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
export async function windowSamples(ev: Evaluator, input: RangeInput, i: number): Promise<RawSeries[]> {
  const out: RawSeries[] = [];
  const end = input.ends[i];
  if (end === undefined) return out;
  const start = end - input.rangeMs;
  for (const s of input.series) {
    if (ev.due(64 + s.t.length)) await ev.pause();
    let lo = 0;
    while (lo < s.t.length && !inWindow(s.t[lo]!, start, ev.closed)) lo++;
    let hi = lo;
    while (hi < s.t.length && s.t[hi]! <= end) hi++;
    if (hi > lo) out.push({ labels: s.labels, t: s.t.slice(lo, hi), v: s.v.slice(lo, hi) });
  }
  return drive(sortSteps(out, byLabels), ev.slices);
}
