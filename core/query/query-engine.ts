/**
 * The QueryEngine: instant and range evaluation of PromQL over a SeriesQuerier, with
 * Prometheus's limits (max samples, timeout, cancellation) and result shapes.
 */
import { Labels } from "../model/labels.ts";
import type { SeriesQuerier } from "../../storage/types.ts";
import { typeName, typeOf } from "./check.ts";
import { Evaluator, stepRange } from "./evaluator.ts";
import { parseQuery } from "./parse.ts";
import type { Expr } from "./ast.ts";
import { byKey, drive, sortSteps } from "../time-slice.ts";
import type { StepSeries } from "./series-set.ts";
import { QueryError, type EngineOptions, type MatrixValue, type QueryOptions, type QueryResult, type QueryValue, type VectorValue } from "./values.ts";

export class QueryEngine {
  readonly #lookback: number;
  readonly #v2Semantics: boolean;
  readonly #maxSamples: number;
  readonly #timeout: number;
  readonly #sliceMs: number | undefined;
  #subqueryStep: number;

  constructor(
    readonly querier: SeriesQuerier,
    opts: EngineOptions = {},
  ) {
    this.#lookback = opts.lookbackDeltaMs ?? 300_000;
    this.#v2Semantics = opts.v2Semantics ?? false;
    this.#maxSamples = opts.maxSamples ?? 50_000_000;
    this.#timeout = opts.timeoutMs ?? 120_000;
    this.#subqueryStep = opts.subqueryStepMs ?? 60_000;
    if (opts.sliceMs !== undefined && !(opts.sliceMs >= 0)) throw new RangeError(`The query time slice must be 0 ms or longer, got ${opts.sliceMs}`);
    this.#sliceMs = opts.sliceMs;
  }

  /**
   * Sets the step of subqueries written without one (`x[5m:]`): the server passes the global
   * `evaluation_interval` on every (re)load, as Prometheus does.
   */
  setSubqueryStep(ms: number): void {
    if (!(Number.isInteger(ms) && ms > 0)) throw new RangeError(`The default subquery step must be a positive number of milliseconds, got ${ms}`);
    this.#subqueryStep = ms;
  }

  #evaluator(start: number, end: number, opts: QueryOptions): Evaluator {
    return new Evaluator(this.querier, {
      lookbackMs: this.#lookback,
      v2Semantics: this.#v2Semantics,
      maxSamples: this.#maxSamples,
      deadline: performance.now() + (opts.timeoutMs ?? this.#timeout),
      signal: opts.signal,
      queryStart: start,
      queryEnd: end,
      subqueryStepMs: this.#subqueryStep,
      ...(this.#sliceMs !== undefined ? { sliceMs: this.#sliceMs } : {}),
    });
  }

  /** Evaluates `expr` (text, or an AST from parseQuery) at one time (ms). */
  async instant(expr: string | Expr, timeMs: number, opts: QueryOptions = {}): Promise<QueryResult> {
    const ast = typeof expr === "string" ? parseQuery(expr) : expr;
    const ev = this.#evaluator(timeMs, timeMs, opts);
    const v = await guard(() => ev.eval(ast, stepRange(timeMs, timeMs, 1)));
    let value: QueryValue;
    switch (v.kind) {
      case "scalar":
        value = { type: "scalar", t: timeMs, v: v.v[0]! };
        break;
      case "string":
        value = { type: "string", t: timeMs, v: v.s };
        break;
      case "vector": {
        const samples: VectorValue["samples"] = [];
        for (const s of v.series) {
          if (s.has[0] === 1) samples.push({ metric: s.labels, t: timeMs, v: s.v[0]! });
          if (ev.due(16)) await ev.pause();
        }
        value = { type: "vector", samples };
        break;
      }
      case "matrix": {
        const series: MatrixValue["series"] = [];
        for (const s of v.series) {
          series.push({ metric: s.labels, t: s.t, v: s.v });
          if (ev.due(16)) await ev.pause();
        }
        value = { type: "matrix", series };
        break;
      }
    }
    return { value, warnings: [], stats: { totalQueryableSamples: ev.totalSamples, peakSamples: ev.peakSamples } };
  }

  /** Evaluates `expr` at start, start+step, ... ≤ end (ms); the result is a matrix sorted by labels. */
  async range(expr: string | Expr, startMs: number, endMs: number, stepMs: number, opts: QueryOptions = {}): Promise<QueryResult> {
    const ast = typeof expr === "string" ? parseQuery(expr) : expr;
    const t = typeOf(ast);
    if (t !== "scalar" && t !== "vector") throw new QueryError("bad_data", `invalid expression type ${JSON.stringify(typeName(t))} for range query, must be Scalar or instant Vector`);
    if (!(stepMs > 0)) throw new QueryError("bad_data", "zero or negative query resolution step widths are not accepted. Try a positive integer");
    if (endMs < startMs) throw new QueryError("bad_data", "end timestamp must not be before start time");
    const ev = this.#evaluator(startMs, endMs, opts);
    const r = stepRange(startMs, endMs, stepMs);
    const v = await guard(() => ev.eval(ast, r));
    let series: MatrixValue["series"] = [];
    const times = ev.times(r);
    if (v.kind === "scalar") {
      series.push({ metric: Labels.EMPTY, t: times, v: v.v });
    } else if (v.kind === "vector") {
      for (const s of v.series) {
        if (ev.due(3 * r.n + 16)) await ev.pause();
        const points = presentPoints(s, times);
        if (points !== null) series.push({ metric: s.labels, ...points });
      }
      series = await guard(() => drive(sortSteps(series, byKey((s) => s.metric.key)), ev.slices));
      for (let i = 1; i < series.length; i++) {
        if (series[i]!.metric.key === series[i - 1]!.metric.key) throw new QueryError("execution", "vector cannot contain metrics with the same labelset");
        if (ev.due(16)) await ev.pause();
      }
    }
    return { value: { type: "matrix", series }, warnings: [], stats: { totalQueryableSamples: ev.totalSamples, peakSamples: ev.peakSamples } };
  }
}

/** A series' present steps as a matrix row (null: none). */
function presentPoints(s: StepSeries, times: Float64Array): { t: Float64Array; v: Float64Array } | null {
  const n = times.length;
  let k = 0;
  for (let i = 0; i < n; i++) if (s.has[i] === 1) k++;
  if (k === 0) return null;
  const t = new Float64Array(k);
  const v = new Float64Array(k);
  let j = 0;
  for (let i = 0; i < n; i++) {
    if (s.has[i] !== 1) continue;
    t[j] = times[i]!;
    v[j] = s.v[i]!;
    j++;
  }
  return { t, v };
}

/** Anything but a QueryError escaping evaluation is an engine bug: report it as "internal". */
async function guard<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof QueryError) throw err;
    throw new QueryError("internal", `unexpected error in query evaluation: ${(err as Error)?.message ?? String(err)}`);
  }
}
