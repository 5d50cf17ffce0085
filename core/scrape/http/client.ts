/**
 * The scrape HTTP client (spec §4.2–4.3): one per job, built from the job's resolved HTTP
 * client config and rebuilt when the config changes. A scrape loop calls `scrape()` once per
 * scrape; it never throws for anything the target or the network does.
 */
import type { HttpClientConfig } from "../../config/types.ts";
import { formatDuration } from "../../config/duration.ts";
import { formatTimeoutSeconds } from "./accept.ts";
import { BodyBuffer, BodyLimitError, GzipError, readBody, type BodyBufferPool } from "./body.ts";
import { ScrapeError, ScrapeSetupError } from "./errors.ts";
import { DEFAULT_USER_AGENT, HttpClient, MAX_REDIRECTS, type HttpClientOptions } from "./http-client.ts";

export { DEFAULT_USER_AGENT };
export type ScrapeClientOptions = HttpClientOptions;

export interface ScrapeOptions {
  /** The target's scrape timeout: covers connect, request, body and decompression. */
  timeoutMs: number;
  /** From buildAcceptHeader(); built once per target, not per scrape. */
  acceptHeader: string;
  /** Bytes of decompressed body; 0 for no limit. */
  bodySizeLimit: number;
  enableCompression: boolean;
  /** Stops the scrape early (the loop is stopping). */
  signal?: AbortSignal;
  /** Reused by one loop across scrapes; the body returned is a view into it. */
  buffer?: BodyBuffer;
  /** Without `buffer`: take one from this pool; the result's `release()` gives it back. */
  pool?: BodyBufferPool;
}

export type ScrapeResult =
  | {
      ok: true;
      /** The (decompressed) body; a view into `buffer` when one was given. */
      body: Uint8Array;
      /** The Content-Type header as received, "" when absent. */
      contentType: string;
      /** Decompressed size in bytes (`scrape_body_size_bytes`). */
      bodySize: number;
      /** Gives a pooled buffer back: `body` must not be read afterwards. */
      release?: () => void;
    }
  | {
      ok: false;
      /** The message shown for the target (`ScrapeError.message`). */
      error: string;
      /** -1 after the body size limit, 0 after any other failure (`scrape_body_size_bytes`). */
      bodySize: number;
      bodyLimit?: true;
      failure: ScrapeError;
    };

const TIMEOUT = Symbol("timeout");
const CANCELED = Symbol("canceled");

export class ScrapeClient {
  readonly #cfg: HttpClientConfig;
  readonly #http: HttpClient;

  constructor(cfg: HttpClientConfig, opts: ScrapeClientOptions = {}) {
    this.#cfg = cfg;
    this.#http = new HttpClient(cfg, opts);
  }

  /** Closes idle connections; scrapes in flight finish. */
  close(): void {
    this.#http.close();
  }

  /**
   * GETs `url` (with params already in it) and reads the body within `timeoutMs`.
   *
   * @example
   * const client = new ScrapeClient(job);
   * const accept = buildAcceptHeader(job.scrape_protocols, job.metric_name_escaping_scheme);
   * const r = await client.scrape("http://10.0.0.1:9100/metrics", {
   *   timeoutMs: 10_000, acceptHeader: accept, bodySizeLimit: 0, enableCompression: true, buffer,
   * });
   * if (!r.ok) return r.error; // "server returned HTTP status 503 Service Unavailable"
   */
  async scrape(url: string, opts: ScrapeOptions): Promise<ScrapeResult> {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(TIMEOUT), opts.timeoutMs);
    const outer = opts.signal;
    const onCancel = () => ctl.abort(CANCELED);
    if (outer?.aborted) ctl.abort(CANCELED);
    else outer?.addEventListener("abort", onCancel, { once: true });
    let pooled: BodyBuffer | null = null;
    try {
      pooled = opts.buffer === undefined && opts.pool !== undefined ? opts.pool.take() : null;
      const buffer = opts.buffer ?? pooled ?? new BodyBuffer();
      const { body, contentType } = await this.#fetch(url, opts, ctl.signal, buffer);
      if (pooled === null) return { ok: true, body, contentType, bodySize: body.length };
      const taken = pooled;
      pooled = null;
      let given = false;
      const release = () => {
        if (!given) opts.pool!.give(taken);
        given = true;
      };
      return { ok: true, body, contentType, bodySize: body.length, release };
    } catch (err) {
      if (pooled !== null) opts.pool!.give(pooled);
      const failure = this.#classify(url, err, ctl.signal, opts.timeoutMs);
      // Drop whatever is left of the response (and its connection).
      if (!ctl.signal.aborted) ctl.abort(CANCELED);
      return failure.kind === "body_size_limit"
        ? { ok: false, error: failure.message, bodySize: -1, bodyLimit: true, failure }
        : { ok: false, error: failure.message, bodySize: 0, failure };
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onCancel);
    }
  }

  async #fetch(url: string, opts: ScrapeOptions, signal: AbortSignal, buffer: BodyBuffer): Promise<{ body: Uint8Array; contentType: string }> {
    const headers = new Headers();
    headers.set("Accept", opts.acceptHeader);
    // Bun's own Accept-Encoding (gzip, deflate, br, zstd) goes away with decompress: false;
    // we ask for gzip only and inflate it ourselves, as Prometheus does.
    headers.set("Accept-Encoding", opts.enableCompression ? "gzip" : "identity");
    headers.set("X-Prometheus-Scrape-Timeout-Seconds", formatTimeoutSeconds(opts.timeoutMs));
    const res = await this.#http.request(url, { headers, signal, timeoutMs: opts.timeoutMs, decompress: false });

    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw new StatusError(res.status, `server returned HTTP status ${`${res.status} ${res.statusText}`.trimEnd()}`);
    }
    const contentType = res.headers.get("content-type") ?? "";
    const length = Number(res.headers.get("content-length") ?? "");
    await readBody(res.body, buffer, {
      // Only exactly "gzip" is inflated; anything else is passed on raw.
      gzip: res.headers.get("content-encoding") === "gzip",
      limit: opts.bodySizeLimit,
      expectedSize: Number.isSafeInteger(length) && length > 0 ? length : 0,
    });
    return { body: buffer.view(), contentType };
  }


  #classify(url: string, err: unknown, signal: AbortSignal, timeoutMs: number): ScrapeError {
    if (err instanceof StatusError) return new ScrapeError(url, "status", err.message, err.status);
    if (err instanceof BodyLimitError) return new ScrapeError(url, "body_size_limit", err.message);
    if (signal.aborted && signal.reason === TIMEOUT) {
      return new ScrapeError(url, "timeout", `Get "${url}": context deadline exceeded (scrape timeout ${formatDuration(timeoutMs)})`);
    }
    if (signal.aborted && signal.reason === CANCELED) return new ScrapeError(url, "canceled", `Get "${url}": context canceled`);
    if (err instanceof GzipError) return new ScrapeError(url, "gzip", err.message, 0, { cause: err });
    if (err instanceof ScrapeSetupError) return new ScrapeError(url, "setup", `Get "${url}": ${err.message}`, 0, { cause: err });
    return new ScrapeError(url, "transport", `Get "${url}": ${transportReason(err, url, this.#cfg.tls_config.server_name)}`, 0, { cause: err });
  }
}

class StatusError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Bun's network errors, in Go's words where users will search for them. */
function transportReason(err: unknown, url: string, serverName: string | undefined): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const target = new URL(url);
  const host = target.hostname;
  const hostPort = `${host}:${target.port || (target.protocol === "https:" ? "443" : "80")}`;
  switch (code) {
    case "TooManyRedirects":
      return `stopped after ${MAX_REDIRECTS + 1} redirects`;
    case "ECONNREFUSED":
    case "ConnectionRefused":
      return `dial tcp ${hostPort}: connect: connection refused`;
    case "ENOTFOUND":
      return `dial tcp: lookup ${host}: no such host`;
    case "ECONNRESET":
      return "connection reset by peer";
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
      return `tls: failed to verify certificate: x509: certificate signed by unknown authority (${code})`;
    case "CERT_HAS_EXPIRED":
      return `tls: failed to verify certificate: x509: certificate has expired or is not yet valid (${code})`;
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return `tls: failed to verify certificate: x509: certificate is not valid for ${serverName || host} (${code})`;
  }
  const message = err.message.replace(/\.? For more information, pass `verbose: true` in the second argument to fetch\(\)$/, "");
  return typeof code === "string" && !message.startsWith(code) ? `${code}: ${message}` : message;
}
