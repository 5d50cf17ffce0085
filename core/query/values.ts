/** The engine's public value, error and option types (re-exported by engine.ts). */
import type { Labels } from "../model/labels.ts";

export type QueryErrorType = "bad_data" | "execution" | "timeout" | "canceled" | "internal";

/** A query failure with the Prometheus API error type it maps to (bad_data → 400, execution → 422, ...). */
export class QueryError extends Error {
  override name = "QueryError";
  constructor(
    readonly type: QueryErrorType,
    message: string,
  ) {
    super(message);
  }
}

export interface ScalarValue {
  type: "scalar";
  /** ms */
  t: number;
  v: number;
}
export interface StringValue {
  type: "string";
  t: number;
  v: string;
}
export interface VectorValue {
  type: "vector";
  samples: Array<{ metric: Labels; t: number; v: number }>;
}
export interface MatrixValue {
  type: "matrix";
  series: Array<{ metric: Labels; t: Float64Array; v: Float64Array }>;
}
export type QueryValue = ScalarValue | StringValue | VectorValue | MatrixValue;

export interface QueryStats {
  totalQueryableSamples: number;
  peakSamples: number;
}

export interface QueryResult {
  value: QueryValue;
  warnings: string[];
  stats: QueryStats;
}

export interface EngineOptions {
  /**
   * Prometheus 2.x's semantics where 3.x changed them on purpose (to compare with a 2.x
   * server): closed windows, [t − range, t], for range selectors, subqueries and the lookback,
   * and rate()'s zero cutoff applied before the extrapolation threshold. Default false: 3.x's
   * left-open (t − range, t] and threshold-then-cutoff.
   */
  v2Semantics?: boolean;
  /** Default 300000 (5m). */
  lookbackDeltaMs?: number;
  /** Default 50e6. */
  maxSamples?: number;
  /** Default 120000 (2m). */
  timeoutMs?: number;
  /** The step of subqueries written without one (`x[5m:]`); Prometheus uses the global evaluation_interval, default 60000. */
  subqueryStepMs?: number;
  /**
   * How long one query may hold the event loop before it yields to other work (timers,
   * requests, scrapes), in ms. Default 20; 0 yields at every look at the clock (tests).
   */
  sliceMs?: number;
}

export interface QueryOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}
