/**
 * Prometheus API envelopes written as text: `{"status":"success","data":…}` around data that
 * is already JSON (query results need Go's number formatting), and errors that render
 * themselves with Prometheus 2.42's error types and status codes.
 */
import { jsonString } from "./api-json.ts";
import { textBody } from "./sliced-body.ts";

export type ApiErrorType = "bad_data" | "execution" | "canceled" | "timeout" | "internal" | "unavailable" | "not_found";

/** Prometheus 2.42's status codes per error type (`unavailable` is 500 there, not 503). */
const STATUS: Record<ApiErrorType, number> = { bad_data: 400, execution: 422, canceled: 503, timeout: 503, internal: 500, unavailable: 500, not_found: 404 };

/** An API failure that renders itself as Prometheus's error JSON. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly type: ApiErrorType,
    message: string,
  ) {
    super(message);
  }

  response(): Response {
    return json(`{"status":"error","errorType":${jsonString(this.type)},"error":${jsonString(this.message)}}`, STATUS[this.type]);
  }
}

function json(body: string | ReadableStream<Uint8Array>, status = 200): Response {
  return new Response(body, { status, headers: { "Content-Type": "application/json" } });
}

/**
 * `{"status":"success","data":…}` from already-encoded data JSON, as one string or as chunks
 * (a big answer, sent as a stream a chunk at a time: see sliced-body.ts).
 */
export function success(data: string | readonly string[], warnings: readonly string[] = []): Response {
  const w = warnings.length > 0 ? `,"warnings":[${warnings.map(jsonString).join(",")}]` : "";
  if (typeof data === "string") return json(`{"status":"success","data":${data}${w}}`);
  if (data.length <= 1) return json(`{"status":"success","data":${data[0] ?? "null"}${w}}`);
  return json(textBody([`{"status":"success","data":`, ...data, `${w}}`]));
}
