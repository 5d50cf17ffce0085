/**
 * Request parameters of the Prometheus HTTP API, read the way Prometheus 2.42 reads them:
 * form values (a POST `application/x-www-form-urlencoded` body first, then the URL query),
 * times as float seconds or RFC 3339, durations as float seconds or `5m`-style strings,
 * with Prometheus's error texts so clients show the same messages.
 */
import type { Context } from "hono";
import { parseDuration } from "../config/duration.ts";

/** Go's minimum/maximum time as Prometheus formats them for open ranges (Go clients send these). */
export const MIN_TIME_TEXT = "-292273086-05-16T16:47:06Z";
export const MAX_TIME_TEXT = "292277025-08-18T07:12:54.999999999Z";
/** The same instants in milliseconds (as timestamp.FromTime gives them). */
export const MIN_TIME_MS = -9223309901257974000;
export const MAX_TIME_MS = 9223309901257974999;

/** A parameter value that could not be read; `message` is Prometheus's text without the parameter prefix. */
export class ParamError extends SyntaxError {
  override name = "ParamError";
}

/** Form values of a request: POST form body values first (as Go's r.FormValue), then the URL's. */
export async function formValues(c: Context): Promise<URLSearchParams> {
  const out = new URLSearchParams();
  const type = c.req.header("content-type") ?? "";
  if ((c.req.method === "POST" || c.req.method === "PUT") && type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    for (const [k, v] of new URLSearchParams(await c.req.text())) out.append(k, v);
  }
  for (const [k, v] of new URL(c.req.url).searchParams) out.append(k, v);
  return out;
}

const DECIMAL = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;

/** Go's strconv.ParseFloat for the decimal forms clients send (underscores between digits included); null when it fails. */
export function goParseFloat(text: string): number | null {
  if (SPECIAL.test(text)) return text.toLowerCase().includes("nan") ? NaN : text.startsWith("-") ? -Infinity : Infinity;
  if (!DECIMAL.test(text)) return null;
  const v = Number(text.replaceAll("_", ""));
  return Number.isNaN(v) ? null : v;
}

/** Go's math.Round: half away from zero. */
const roundHalfAway = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A time parameter as milliseconds: float seconds (sub-millisecond parts rounded, as
 * Prometheus does), RFC 3339 (sub-millisecond parts cut), or Go's min/max time strings.
 * Throws ParamError(`cannot parse "x" to a valid timestamp`).
 */
export function parseTime(text: string): number {
  const f = goParseFloat(text);
  if (f !== null) {
    // int64(±Inf or NaN) is the minimum int64 on amd64, where Prometheus runs.
    if (!Number.isFinite(f)) return MIN_TIME_MS;
    const s = Math.trunc(f);
    return s * 1000 + roundHalfAway((f - s) * 1000);
  }
  const m = RFC3339.exec(text);
  if (m !== null) {
    const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
    const check = new Date(0);
    check.setUTCFullYear(y!, mo! - 1, d!);
    const utc = check.getTime() + ((h! * 60 + mi!) * 60 + s!) * 1000;
    if (check.getUTCMonth() === mo! - 1 && check.getUTCDate() === d! && h! < 24 && mi! < 60 && s! < 60) {
      const zone = m[8]!;
      const offset = zone === "Z" ? 0 : (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
      return utc - offset + Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
    }
  }
  if (text === MIN_TIME_TEXT) return MIN_TIME_MS;
  if (text === MAX_TIME_TEXT) return MAX_TIME_MS;
  throw new ParamError(`cannot parse ${goQuote(text)} to a valid timestamp`);
}

/** Largest int64, the bound of a Go time.Duration in nanoseconds. */
const MAX_INT64 = 2 ** 63;

/**
 * A duration parameter (`step`, `timeout`) in nanoseconds, as Go's time.Duration holds it:
 * float seconds (`15`, `0.5`) or a Prometheus duration (`1m30s`).
 */
export function parseDurationNs(text: string): number {
  const f = goParseFloat(text);
  if (f !== null) {
    // Go converts NaN to the minimum int64 on amd64: a negative duration.
    if (Number.isNaN(f)) return -MAX_INT64;
    const ns = f * 1e9;
    if (ns >= MAX_INT64 || ns < -MAX_INT64) throw new ParamError(`cannot parse ${goQuote(text)} to a valid duration. It overflows int64`);
    return Math.trunc(ns);
  }
  try {
    return parseDuration(text) * 1e6;
  } catch {
    throw new ParamError(`cannot parse ${goQuote(text)} to a valid duration`);
  }
}

/** Go's %q for the strings we quote in messages (JSON quoting agrees for printable text). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
