/** Why a scrape's HTTP part failed; each becomes `up=0` and the error shown for the target. */
export type ScrapeErrorKind =
  /** The scrape timeout passed (connect, request, body and decompression share it). */
  | "timeout"
  /** The caller's signal fired (the loop stopped or the target went away). */
  | "canceled"
  /** Any status other than 200, including 3xx when redirects are not followed. */
  | "status"
  | "body_size_limit"
  /** The body is marked gzip but does not inflate. */
  | "gzip"
  /** Before the request: a credential, header or TLS file could not be read, or the OAuth2
   * token endpoint issued no token. */
  | "setup"
  /** Connection, TLS, proxy, redirect and read errors. */
  | "transport";

/**
 * A failed scrape request. The message reads like Prometheus's, so users who search for it
 * find answers: `server returned HTTP status 503 Service Unavailable`, `body size limit
 * exceeded`, `Get "http://…/metrics": context deadline exceeded (scrape timeout 10s)`.
 */
export class ScrapeError extends Error {
  override readonly name = "ScrapeError";
  constructor(
    readonly url: string,
    readonly kind: ScrapeErrorKind,
    message: string,
    /** The HTTP status, for kind "status". */
    readonly status = 0,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown inside the client for failures that are not the request's own (files, OAuth2). */
export class ScrapeSetupError extends Error {
  override readonly name = "ScrapeSetupError";
}
