/**
 * The series and label APIs (`/api/v1/series`, `/api/v1/labels`,
 * `/api/v1/label/<name>/values`) and `/api/v1/status/tsdb`, with Prometheus's parameters
 * (`match[]`, `start`, `end`, `limit`), JSON shapes and errors.
 */
import type { Context, Hono } from "hono";
import type { Labels } from "../model/labels.ts";
import type { LabelQuerier, Matcher, Steps } from "../../storage/types.ts";
import { DEFAULT_SLICE_MS, drive, TimeSlicer } from "../time-slice.ts";
import { textBody, TextChunks } from "./sliced-body.ts";
import { apiError, ok } from "./api.ts";
import { parseQuery } from "../query/engine.ts";
import { ParamError, parseTime as parseApiTime } from "./api-params.ts";

/** Go's time.Time min/max as Prometheus's API uses them for an open range, in ms. */
export const MIN_TIME = -9223372036854776;
export const MAX_TIME = 9223372036854776;

/** `start`/`end`/`time`: unix seconds (with fractions) or RFC 3339, with Prometheus's message. */
export function parseTime(value: string | undefined, fallback: number, name: string): number | string {
  if (value === undefined || value === "") return fallback;
  try {
    return parseApiTime(value);
  } catch (err) {
    if (!(err instanceof ParamError)) throw err;
    return `invalid parameter "${name}": Invalid time value for '${name}': ${err.message}`;
  }
}

/** Thrown at a pause when the client disconnected. */
class ClientGone extends Error {}

const EMPTY_MATCHERS = "vector selector must contain at least one non-empty matcher";

/** A `match[]` series selector (Prometheus's ParseMetricSelector), parsed by the PromQL parser. */
function parseMatchSelector(text: string): Matcher[] {
  let expr;
  try {
    expr = parseQuery(text);
  } catch (err) {
    // Prometheus checks this per match[] after parsing, with its own wording.
    if ((err as Error).message.endsWith(EMPTY_MATCHERS)) throw new SyntaxError("match[] must contain at least one non-empty matcher");
    throw err;
  }
  if (expr.kind !== "vector" || expr.offsetMs !== 0 || expr.at !== null) throw new SyntaxError(`1:1: parse error: expected a series selector such as up{job="node"}, got ${JSON.stringify(text)}`);
  return expr.matchers;
}

function params(c: Context): URLSearchParams {
  return new URL(c.req.url).searchParams;
}

async function formParams(c: Context): Promise<URLSearchParams> {
  const q = params(c);
  if (c.req.method === "POST" && (c.req.header("content-type") ?? "").startsWith("application/x-www-form-urlencoded")) {
    const body = new URLSearchParams(await c.req.text());
    for (const [k, v] of body) q.append(k, v);
  }
  return q;
}

function parseRange(q: URLSearchParams): { mint: number; maxt: number } | string {
  const mint = parseTime(q.get("start") ?? undefined, MIN_TIME, "start");
  if (typeof mint === "string") return mint;
  const maxt = parseTime(q.get("end") ?? undefined, MAX_TIME, "end");
  if (typeof maxt === "string") return maxt;
  // Prometheus 2.42 does not reject end < start here: the range is just empty.
  return { mint, maxt };
}

/** Selectors in `match[]`; /api/v1/series prefixes errors with the parameter, the label endpoints do not. */
function parseMatchers(q: URLSearchParams, prefix: boolean): Matcher[][] | string {
  const out: Matcher[][] = [];
  for (const m of q.getAll("match[]")) {
    try {
      out.push(parseMatchSelector(m));
    } catch (err) {
      return `${prefix ? 'invalid parameter "match[]": ' : ""}${(err as Error).message}`;
    }
  }
  return out;
}

/** The parameters every series and label endpoint takes, or the first error. */
function common(q: URLSearchParams, prefixMatchErrors = false): { mint: number; maxt: number; sets: Matcher[][]; limit: number } | string {
  const range = parseRange(q);
  if (typeof range === "string") return range;
  const sets = parseMatchers(q, prefixMatchErrors);
  if (typeof sets === "string") return sets;
  const limit = parseLimit(q);
  if (typeof limit === "string") return limit;
  return { ...range, sets, limit };
}

/**
 * The answer, cut to `limit` with Prometheus's warning: `{"status":"success","data":[…]}` as
 * c.json() writes it, encoded in time slices (a million label sets are ~60 MB of JSON).
 */
async function limited<T>(items: T[], limit: number, encode: (x: T) => string, slices: TimeSlicer): Promise<Response> {
  const cut = limit > 0 && items.length > limit;
  const list = cut ? items.slice(0, limit) : items;
  const out = new TextChunks();
  out.push(`{"status":"success","data":[`);
  for (let i = 0; i < list.length; i++) {
    out.push(i > 0 ? `,${encode(list[i]!)}` : encode(list[i]!));
    if (slices.due(64)) await slices.pause();
  }
  out.push(cut ? `],"warnings":["results truncated due to limit"]}` : "]}");
  return new Response(textBody(out.finish()), { headers: { "Content-Type": "application/json" } });
}

const labelsJson = (l: Labels) => JSON.stringify(l.toObject());

function parseLimit(q: URLSearchParams): number | string {
  const v = q.get("limit");
  if (v === null || v === "") return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) return `invalid parameter "limit": cannot parse "${v}" to a non-negative integer`;
  return n;
}

export function registerSeriesRoutes(app: Hono, querier: () => LabelQuerier | null): void {
  const handle = (fn: (c: Context, q: URLSearchParams, db: LabelQuerier, slices: TimeSlicer) => Response | Promise<Response>) => async (c: Context) => {
    const db = querier();
    if (db === null) return apiError(c, "unavailable", "storage is not ready");
    // A client that went away stops the walk over the series (its answer would go nowhere).
    const signal = c.req.raw.signal;
    const slices = new TimeSlicer(DEFAULT_SLICE_MS, () => {
      if (signal.aborted) throw new ClientGone();
    });
    try {
      return await fn(c, await formParams(c), db, slices);
    } catch (err) {
      if (err instanceof ClientGone) return apiError(c, "canceled", "the client went away");
      throw err;
    }
  };
  /** The storage's steps version when it has one, else the sync call. */
  const run = <T>(slices: TimeSlicer, steps: (() => Steps<T>) | null, sync: () => T): Promise<T> | T => (steps !== null ? drive(steps(), slices) : sync());

  const series = handle(async (c, q, db, slices) => {
    if (q.getAll("match[]").length === 0) return apiError(c, "bad_data", "no match[] parameter provided");
    const p = common(q, true);
    if (typeof p === "string") return apiError(c, "bad_data", p);
    if (p.maxt < p.mint) return ok(c, []);
    const steps = db.seriesSteps?.bind(db);
    const list = await run(slices, steps ? () => steps(p.sets, p.mint, p.maxt) : null, () => db.series(p.sets, p.mint, p.maxt));
    return limited(list, p.limit, labelsJson, slices);
  });
  app.on(["GET", "POST"], "/api/v1/series", series);

  const labels = handle(async (c, q, db, slices) => {
    const p = common(q);
    if (typeof p === "string") return apiError(c, "bad_data", p);
    if (p.maxt < p.mint) return ok(c, []);
    const steps = db.labelNamesSteps?.bind(db);
    const names = await run(slices, steps ? () => steps(p.sets, p.mint, p.maxt) : null, () => db.labelNames(p.sets, p.mint, p.maxt));
    return limited(names, p.limit, JSON.stringify, slices);
  });
  app.on(["GET", "POST"], "/api/v1/labels", labels);

  app.get("/api/v1/label/:name/values", handle(async (c, q, db, slices) => {
    let name = c.req.param("name") ?? "";
    // UTF-8 label names come escaped as U__... (Prometheus's value encoding).
    if (name.startsWith("U__")) name = name.slice(3).replace(/_([0-9a-fA-F]+)_/g, (_m, hex: string) => String.fromCodePoint(parseInt(hex, 16)));
    // Prometheus 2.42 takes legacy names only; U__-escaped UTF-8 names are the 3.x extension.
    const legacy = /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name);
    if (name === "" || !name.isWellFormed() || (!legacy && !(c.req.param("name") ?? "").startsWith("U__"))) return apiError(c, "bad_data", `invalid label name: "${c.req.param("name")}"`);
    const p = common(q);
    if (typeof p === "string") return apiError(c, "bad_data", p);
    if (p.maxt < p.mint) return ok(c, []);
    const steps = db.labelValuesSteps?.bind(db);
    const values = await run(slices, steps ? () => steps(name, p.sets, p.mint, p.maxt) : null, () => db.labelValues(name, p.sets, p.mint, p.maxt));
    return limited(values, p.limit, JSON.stringify, slices);
  }));

  app.get("/api/v1/status/tsdb", handle((c, q, db) => {
    const raw = q.get("limit") ?? "10";
    const limit = Number(raw);
    if (!Number.isInteger(limit) || limit <= 0) return apiError(c, "bad_data", `limit must be a positive number`);
    const s = db.headStats(limit);
    return ok(c, {
      headStats: { numSeries: s.numSeries, numLabelPairs: s.numLabelPairs, chunkCount: s.chunkCount, minTime: s.minTime, maxTime: s.maxTime },
      seriesCountByMetricName: s.seriesCountByMetricName,
      labelValueCountByLabelName: s.labelValueCountByLabelName,
      memoryInBytesByLabelName: s.memoryInBytesByLabelName,
      seriesCountByLabelValuePair: s.seriesCountByLabelValuePair,
    });
  }));
}
