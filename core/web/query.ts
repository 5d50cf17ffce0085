/**
 * The PromQL endpoints of the Prometheus HTTP API — `/api/v1/query`, `/api/v1/query_range`,
 * `/api/v1/query_exemplars`, `/api/v1/format_query` — as Prometheus 2.42 answers them: GET or
 * POST form parameters checked in the same order with the same messages, results written
 * byte for byte in its JSON (see api-json.ts), and its error types and status codes.
 * Grafana, promtool and client_golang depend on these details.
 */
import type { Context, Hono } from "hono";
import { Labels } from "../model/labels.ts";
import { formatQuery, parseQuery, QueryError, type Expr, type QueryEngine, type QueryResult, type QueryValue } from "../query/engine.ts";
import { formatSampleValue, formatScalarValue, formatTimestamp, jsonNumber, jsonString, labelsJson } from "./api-json.ts";
import { formValues, MAX_TIME_MS, MIN_TIME_MS, ParamError, parseDurationNs, parseTime } from "./api-params.ts";
import { ApiError, success } from "./api-response.ts";
import { selectorMatchers } from "./expr-info.ts";
import type { ExemplarQuerier, ExemplarSeries } from "../../storage/types.ts";
import { typeName, typeOf } from "../query/check.ts";
import { DEFAULT_SLICE_MS, drain, drive, TimeSlicer, type Steps } from "../time-slice.ts";
import { TextChunks } from "./sliced-body.ts";

export interface QueryApiOptions {
  /** The engine, or null while storage is not open yet. */
  engine: () => QueryEngine | null;
  /** `--query.timeout`: the longest any query may run, in ms (a request's `timeout` can only shorten it). */
  timeoutMs?: number;
  /** Clock for the default `time` (ms). */
  now?: () => number;
  /** Exemplar storage for /api/v1/query_exemplars (null or absent: none, the answer is []). */
  exemplars?: () => ExemplarQuerier | null;
}

/** The most points a range query may return per series. */
export const MAX_POINTS = 11_000;

const invalidParam = (name: string, err: unknown) => new ApiError("bad_data", `invalid parameter "${name}": ${(err as Error).message}`);

/** A thrown error as an API error, the way Prometheus's returnAPIError maps them. */
function apiErrorOf(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof QueryError) return new ApiError(err.type, err.message);
  // A bug in evaluation: Prometheus reports recovered panics as execution errors.
  return new ApiError("execution", `unexpected error: ${(err as Error).message ?? String(err)}`);
}

/** `data` of a query answer: resultType, result and (with `stats`) Prometheus's stats object. */
export function encodeQueryData(value: QueryValue, stats: string | null): string {
  return drain(encodeQuerySteps(value, stats)).join("");
}

/** encodeQueryData() in steps of a few series, as chunks of text (a million series are ~100 MB). */
export function* encodeQuerySteps(value: QueryValue, stats: string | null): Steps<string[]> {
  const out = new TextChunks();
  out.push(`{"resultType":"${value.type}","result":`);
  switch (value.type) {
    case "scalar":
      out.push(`[${formatTimestamp(value.t)},"${formatScalarValue(value.v)}"]`);
      break;
    case "string":
      out.push(`[${formatTimestamp(value.t)},${jsonString(value.v)}]`);
      break;
    case "vector": {
      out.push("[");
      const samples = value.samples;
      for (let i = 0; i < samples.length; i++) {
        const s = samples[i]!;
        out.push(`${i > 0 ? "," : ""}{"metric":${labelsJson(s.metric)},"value":[${formatTimestamp(s.t)},"${formatSampleValue(s.v)}"]}`);
        if ((i & 63) === 63) yield 64 * 64;
      }
      out.push("]");
      break;
    }
    case "matrix": {
      out.push("[");
      // A range query's series share one step grid: format each timestamp once.
      const stamps = new Map<number, string>();
      for (let i = 0; i < value.series.length; i++) {
        const s = value.series[i]!;
        let text = `${i > 0 ? "," : ""}{"metric":${labelsJson(s.metric)},"values":[`;
        for (let k = 0; k < s.t.length; k++) {
          const t = s.t[k]!;
          let ts = stamps.get(t);
          if (ts === undefined) stamps.set(t, (ts = formatTimestamp(t)));
          text += `${k > 0 ? "," : ""}[${ts},"${formatSampleValue(s.v[k]!)}"]`;
        }
        out.push(`${text}]}`);
        yield 64 + 16 * s.t.length;
      }
      out.push("]");
      break;
    }
  }
  if (stats !== null) out.push(`,"stats":${stats}`);
  out.push("}");
  return out.finish();
}

interface Timings {
  start: number;
  parsed: number;
  evaluated: number;
}

/** An answer that came after the deadline is a timeout, as in Prometheus (whose context would have cut the evaluation). */
function checkDeadline(t: Timings, timeoutMs: number): void {
  if (t.evaluated - t.start > timeoutMs) throw new ApiError("timeout", "query timed out in expression evaluation");
}

function encodeStats(result: QueryResult, t: Timings): string {
  const s = (ms: number) => jsonNumber(Math.max(0, ms) / 1000);
  const evalTotal = t.evaluated - t.start;
  return (
    `{"timings":{"evalTotalTime":${s(evalTotal)},"resultSortTime":0,"queryPreparationTime":${s(t.parsed - t.start)},` +
    `"innerEvalTime":${s(t.evaluated - t.parsed)},"execQueueTime":0,"execTotalTime":${s(evalTotal)}},` +
    `"samples":{"totalQueryableSamples":${result.stats.totalQueryableSamples},"peakSamples":${result.stats.peakSamples}}}`
  );
}

/** `[{"seriesLabels":{…},"exemplars":[{"labels":{…},"value":"6","timestamp":1600096945.479}]}]` */
export function encodeExemplars(list: readonly ExemplarSeries[]): string {
  const parts: string[] = [];
  for (const s of list) {
    const ex = s.exemplars.map((e) => `{"labels":${labelsJson(e.labels)},"value":"${formatSampleValue(e.value)}","timestamp":${formatTimestamp(e.timestamp)}}`);
    parts.push(`{"seriesLabels":${labelsJson(s.seriesLabels)},"exemplars":[${ex.join(",")}]}`);
  }
  return `[${parts.join(",")}]`;
}

/** A range query's answer is always a matrix (a scalar becomes one series with no labels). */
function asMatrix(value: QueryValue): QueryValue {
  if (value.type === "matrix") return value;
  if (value.type === "scalar") return { type: "matrix", series: [{ metric: Labels.EMPTY, t: Float64Array.of(value.t), v: Float64Array.of(value.v) }] };
  if (value.type === "vector") return { type: "matrix", series: value.samples.map((s) => ({ metric: s.metric, t: Float64Array.of(s.t), v: Float64Array.of(s.v) })) };
  return value;
}

/** The answer's data in time slices; a client that went away meanwhile stops it (its answer would go nowhere). */
function encodeSliced(value: QueryValue, stats: string | null, signal: AbortSignal): Promise<string[]> {
  const slices = new TimeSlicer(DEFAULT_SLICE_MS, () => {
    if (signal.aborted) throw new ApiError("canceled", "query was canceled while its answer was written");
  });
  return drive(encodeQuerySteps(value, stats), slices);
}

export function registerQueryRoutes(app: Hono, opts: QueryApiOptions): void {
  const now = opts.now ?? Date.now;
  const maxTimeoutMs = opts.timeoutMs ?? 120_000;

  const engineOrFail = (): QueryEngine => {
    const e = opts.engine();
    if (e === null) throw new ApiError("unavailable", "the query engine is not ready: storage is not open yet");
    return e;
  };

  /** The `timeout` parameter in ms (capped by --query.timeout), or the flag's value. */
  const timeoutOf = (q: URLSearchParams): number => {
    const raw = q.get("timeout") ?? "";
    if (raw === "") return maxTimeoutMs;
    let ns: number;
    try {
      ns = parseDurationNs(raw);
    } catch (err) {
      throw invalidParam("timeout", err);
    }
    if (ns <= 0) throw new ApiError("timeout", "query timed out in query queue");
    return Math.min(maxTimeoutMs, Math.max(1, Math.trunc(ns / 1e6)));
  };

  const handler = (fn: (c: Context, q: URLSearchParams) => Promise<Response>) => async (c: Context) => {
    try {
      return await fn(c, await formValues(c));
    } catch (err) {
      return apiErrorOf(err).response();
    }
  };

  const query = handler(async (c, q) => {
    const rawTime = q.get("time") ?? "";
    let ts = now();
    if (rawTime !== "") {
      try {
        ts = parseTime(rawTime);
      } catch (err) {
        throw invalidParam("time", new ParamError(`Invalid time value for 'time': ${(err as Error).message}`));
      }
    }
    const timeoutMs = timeoutOf(q);
    const expr = q.get("query") ?? "";
    const t: Timings = { start: performance.now(), parsed: 0, evaluated: 0 };
    let ast: Expr;
    try {
      ast = parseQuery(expr);
    } catch (err) {
      if (err instanceof QueryError && err.type === "bad_data") throw invalidParam("query", err);
      throw err;
    }
    t.parsed = performance.now();
    const signal = c.req.raw.signal;
    const result = await engineOrFail().instant(ast, ts, { timeoutMs, signal });
    t.evaluated = performance.now();
    checkDeadline(t, timeoutMs);
    return success(await encodeSliced(result.value, (q.get("stats") ?? "") !== "" ? encodeStats(result, t) : null, signal), result.warnings);
  });
  app.on(["GET", "POST"], "/api/v1/query", query);

  const queryRange = handler(async (c, q) => {
    const time = (name: "start" | "end") => {
      try {
        return parseTime(q.get(name) ?? "");
      } catch (err) {
        throw invalidParam(name, err);
      }
    };
    const start = time("start");
    const end = time("end");
    if (end < start) throw invalidParam("end", new Error("end timestamp must not be before start time"));
    let stepNs: number;
    try {
      stepNs = parseDurationNs(q.get("step") ?? "");
    } catch (err) {
      throw invalidParam("step", err);
    }
    if (stepNs <= 0) throw invalidParam("step", new Error("zero or negative query resolution step widths are not accepted. Try a positive integer"));
    if (Math.trunc(((end - start) * 1e6) / stepNs) > MAX_POINTS) {
      throw new ApiError("bad_data", "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)");
    }
    const timeoutMs = timeoutOf(q);
    const expr = q.get("query") ?? "";
    const t: Timings = { start: performance.now(), parsed: 0, evaluated: 0 };
    const ast = parseQuery(expr);
    const type = typeOf(ast);
    if (type !== "scalar" && type !== "vector") {
      throw new ApiError("bad_data", `invalid expression type "${typeName(type)}" for range query, must be Scalar or instant Vector`);
    }
    // Prometheus keeps the step in whole milliseconds; a sub-millisecond step divides by zero there.
    const stepMs = Math.trunc(stepNs / 1e6);
    if (stepMs === 0) throw new ApiError("execution", "unexpected error: runtime error: integer divide by zero");
    t.parsed = performance.now();
    const signal = c.req.raw.signal;
    const result = await engineOrFail().range(ast, start, end, stepMs, { timeoutMs, signal });
    t.evaluated = performance.now();
    checkDeadline(t, timeoutMs);
    return success(await encodeSliced(asMatrix(result.value), (q.get("stats") ?? "") !== "" ? encodeStats(result, t) : null, signal), result.warnings);
  });
  app.on(["GET", "POST"], "/api/v1/query_range", queryRange);

  const exemplars = handler(async (_c, q) => {
    const time = (name: "start" | "end", fallback: number) => {
      const raw = q.get(name) ?? "";
      if (raw === "") return fallback;
      try {
        return parseTime(raw);
      } catch (err) {
        throw invalidParam(name, new ParamError(`Invalid time value for '${name}': ${(err as Error).message}`));
      }
    };
    const start = time("start", MIN_TIME_MS);
    const end = time("end", MAX_TIME_MS);
    if (end < start) throw new ApiError("bad_data", "end timestamp must not be before start timestamp");
    const ast = parseQuery(q.get("query") ?? "");
    const sets = selectorMatchers(ast);
    // No selector, nothing to look up: Prometheus answers 204 with no body.
    if (sets.length === 0) return new Response(null, { status: 204 });
    const store = opts.exemplars?.() ?? null;
    return success(store === null ? "[]" : encodeExemplars(store.selectExemplars(sets, start, end)));
  });
  app.on(["GET", "POST"], "/api/v1/query_exemplars", exemplars);

  const format = handler(async (_c, q) => {
    let text: string;
    try {
      text = formatQuery(q.get("query") ?? "");
    } catch (err) {
      if (err instanceof QueryError && err.type === "bad_data") throw invalidParam("query", err);
      throw err;
    }
    return success(jsonString(text));
  });
  app.on(["GET", "POST"], "/api/v1/format_query", format);
}

