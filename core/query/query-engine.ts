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
import { compareLabels } from "./series-set.ts";
import { QueryError, type EngineOptions, type QueryOptions, type QueryResult, type QueryValue } from "./values.ts";

export class QueryEngine {
  readonly #lookback: number;
  readonly #maxSamples: number;
  readonly #timeout: number;
  #subqueryStep: number;

  constructor(
    readonly querier: SeriesQuerier,
    opts: EngineOptions = {},
  ) {
    this.#lookback = opts.lookbackDeltaMs ?? 300_000;
    this.#maxSamples = opts.maxSamples ?? 50_000_000;
    this.#timeout = opts.timeoutMs ?? 120_000;
    this.#subqueryStep = opts.subqueryStepMs ?? 60_000;
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
      maxSamples: this.#maxSamples,
      deadline: performance.now() + (opts.timeoutMs ?? this.#timeout),
      signal: opts.signal,
      queryStart: start,
      queryEnd: end,
      subqueryStepMs: this.#subqueryStep,
    });
  }

  /** Evaluates `expr` (text, or an AST from parseQuery) at one time (ms). */
  async instant(expr: string | Expr, timeMs: number, opts: QueryOptions = {}): Promise<QueryResult> {
    const ast = typeof expr === "string" ? parseQuery(expr) : expr;
    const ev = this.#evaluator(timeMs, timeMs, opts);
    const v = guard(() => ev.eval(ast, stepRange(timeMs, timeMs, 1)));
    let value: QueryValue;
    switch (v.kind) {
      case "scalar":
        value = { type: "scalar", t: timeMs, v: v.v[0]! };
        break;
      case "string":
        value = { type: "string", t: timeMs, v: v.s };
        break;
      case "vector":
        value = { type: "vector", samples: v.series.filter((s) => s.has[0] === 1).map((s) => ({ metric: s.labels, t: timeMs, v: s.v[0]! })) };
        break;
      case "matrix":
        value = { type: "matrix", series: v.series.map((s) => ({ metric: s.labels, t: s.t, v: s.v })) };
        break;
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
    const v = guard(() => ev.eval(ast, r));
    const series: Array<{ metric: Labels; t: Float64Array; v: Float64Array }> = [];
    const times = ev.times(r);
    if (v.kind === "scalar") {
      series.push({ metric: Labels.EMPTY, t: times, v: v.v });
    } else if (v.kind === "vector") {
      for (const s of v.series) {
        let k = 0;
        for (let i = 0; i < r.n; i++) if (s.has[i] === 1) k++;
        if (k === 0) continue;
        const tt = new Float64Array(k);
        const vv = new Float64Array(k);
        let j = 0;
        for (let i = 0; i < r.n; i++) {
          if (s.has[i] !== 1) continue;
          tt[j] = times[i]!;
          vv[j] = s.v[i]!;
          j++;
        }
        series.push({ metric: s.labels, t: tt, v: vv });
      }
      series.sort((a, b) => compareLabels(a.metric, b.metric));
      for (let i = 1; i < series.length; i++) {
        if (series[i]!.metric.key === series[i - 1]!.metric.key) throw new QueryError("execution", "vector cannot contain metrics with the same labelset");
      }
    }
    return { value: { type: "matrix", series }, warnings: [], stats: { totalQueryableSamples: ev.totalSamples, peakSamples: ev.peakSamples } };
  }
}

/** Anything but a QueryError escaping evaluation is an engine bug: report it as "internal". */
function guard<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof QueryError) throw err;
    throw new QueryError("internal", `unexpected error in query evaluation: ${(err as Error)?.message ?? String(err)}`);
  }
}
