/**
 * Transport behaviour of Prometheus's HTTP server that clients rely on: gzip for clients
 * that accept it, and plain-text 405s with `Allow` for other methods on API paths.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { gzipBody } from "./sliced-body.ts";

/**
 * Gzips API answers for clients that send `Accept-Encoding: gzip` (promtool, Grafana's
 * backend and every Go client do), as Prometheus's compression handler does.
 */
export const gzipResponses: MiddlewareHandler = async (c, next) => {
  await next();
  if (!/(^|[\s,])gzip($|[\s,;])/i.test(c.req.header("accept-encoding") ?? "")) return;
  const res = c.res;
  if (res.body === null || res.status === 204 || res.headers.has("content-encoding")) return;
  // Big answers are compressed in slices (and streamed), small ones at once.
  const body = await gzipBody(res.body);
  const headers = new Headers(res.headers);
  headers.set("Content-Encoding", "gzip");
  headers.set("Vary", "Accept-Encoding");
  headers.delete("Content-Length");
  // Setting c.res merges the old response's headers into the new one; start from none.
  c.res = undefined as unknown as Response;
  c.res = new Response(body, { status: res.status, headers });
};

/** API paths and the methods Prometheus serves on them; any other method gets its plain-text 405. */
const API_METHODS: Array<[string, string]> = [
  ["/api/v1/query", "GET, OPTIONS, POST"],
  ["/api/v1/query_range", "GET, OPTIONS, POST"],
  ["/api/v1/query_exemplars", "GET, OPTIONS, POST"],
  ["/api/v1/format_query", "GET, OPTIONS, POST"],
  ["/api/v1/series", "GET, OPTIONS, POST"],
  ["/api/v1/labels", "GET, OPTIONS, POST"],
  ["/api/v1/label/:name/values", "GET, OPTIONS"],
  ["/api/v1/metadata", "GET, OPTIONS"],
  ["/api/v1/targets", "GET, OPTIONS"],
  ["/api/v1/rules", "GET, OPTIONS"],
  ["/api/v1/alerts", "GET, OPTIONS"],
  ["/api/v1/alertmanagers", "GET, OPTIONS"],
  ["/api/v1/status/:page", "GET, OPTIONS"],
  ["/federate", "GET, OPTIONS"],
];

/**
 * 405 Method Not Allowed for the API paths, as Prometheus's router answers: Grafana retries a
 * POST as GET on 405 (or 400), never on 404. Register after every handler of these paths.
 */
export function registerMethodNotAllowed(app: Hono): void {
  for (const [path, allow] of API_METHODS) {
    app.all(path, (c) => {
      if (c.req.method === "OPTIONS") return new Response(null, { status: 204, headers: { Allow: allow } });
      return new Response("Method Not Allowed\n", { status: 405, headers: { Allow: allow, "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" } });
    });
  }
}
