/** Prometheus HTTP API envelopes: `{"status":"success","data":…}` and its error form. */
import type { Context } from "hono";

export type ErrorType = "bad_data" | "execution" | "canceled" | "timeout" | "internal" | "unavailable" | "not_found";

const STATUS: Record<ErrorType, 400 | 404 | 422 | 500 | 503> = {
  bad_data: 400,
  execution: 422,
  canceled: 503,
  timeout: 503,
  internal: 500,
  unavailable: 503,
  not_found: 404,
};

export function ok(c: Context, data: unknown, warnings?: string[]): Response {
  return c.json(warnings && warnings.length > 0 ? { status: "success", data, warnings } : { status: "success", data });
}

export function apiError(c: Context, type: ErrorType, message: string): Response {
  return c.json({ status: "error", errorType: type, error: message }, STATUS[type]);
}
