/**
 * Sends one compressed WriteRequest (spec §6.1–6.2): the headers Prometheus sends, the
 * configured auth/TLS/proxy through the shared HTTP client, a `remote_timeout` per attempt,
 * and the retry classification — 2xx ok; network errors, timeouts and 5xx recoverable; 429
 * recoverable only with `retry_on_http_429`; everything else permanent (dropped, counted).
 */
import type { RemoteWriteConfig } from "../../core/config/types.ts";
import { HttpClient } from "../../core/scrape/http/http-client.ts";
import { parseRetryAfter } from "./backoff.ts";

export type SendOutcome =
  | { kind: "ok"; status: number }
  | { kind: "recoverable"; status: number; retryAfterMs: number; error: string }
  | { kind: "permanent"; status: number; error: string };

export interface WriteClientOptions {
  userAgent?: string;
  now?: () => number;
}

/** How much of an error response body goes into the message (as Prometheus: 256 bytes). */
const MAX_ERR_BODY = 256;

export class WriteClient {
  readonly #http: HttpClient;
  readonly #headers: Record<string, string>;
  readonly #now: () => number;

  constructor(
    readonly cfg: RemoteWriteConfig,
    opts: WriteClientOptions = {},
  ) {
    this.#http = new HttpClient(cfg, opts.userAgent === undefined ? {} : { userAgent: opts.userAgent });
    this.#now = opts.now ?? Date.now;
    // Custom headers first; the protocol's own cannot be overridden (config validation rejects them too).
    this.#headers = {
      ...cfg.headers,
      "Content-Encoding": "snappy",
      "Content-Type": "application/x-protobuf",
      "X-Prometheus-Remote-Write-Version": "0.1.0",
    };
  }

  get userAgent(): string {
    return this.#http.userAgent;
  }

  /** POSTs `body` (snappy-compressed protobuf); never throws. `attempt` > 0 adds Retry-Attempt. */
  async send(body: Uint8Array, attempt: number, signal?: AbortSignal): Promise<SendOutcome> {
    const ctl = new AbortController();
    const timeout = this.cfg.remote_timeout;
    const timer = setTimeout(() => ctl.abort(new Error(`context deadline exceeded (remote_timeout ${timeout}ms)`)), timeout);
    const onAbort = () => ctl.abort(new Error("the queue is stopping"));
    signal?.addEventListener("abort", onAbort, { once: true });
    const headers = attempt > 0 ? { ...this.#headers, "Retry-Attempt": String(attempt) } : this.#headers;
    try {
      const res = await this.#http.request(this.cfg.url, { method: "POST", headers, body, signal: ctl.signal, timeoutMs: timeout });
      if (res.status >= 200 && res.status < 300) {
        await res.arrayBuffer().catch(() => undefined);
        return { kind: "ok", status: res.status };
      }
      let text = "";
      try {
        text = (await res.text()).slice(0, MAX_ERR_BODY).trim();
      } catch {
        // the message is best effort
      }
      const error = `server returned HTTP status ${res.status} ${res.statusText}${text === "" ? "" : `: ${text}`}`;
      if (res.status >= 500 || (res.status === 429 && this.cfg.queue_config.retry_on_http_429)) {
        return { kind: "recoverable", status: res.status, retryAfterMs: parseRetryAfter(res.headers.get("Retry-After"), this.#now()), error };
      }
      return { kind: "permanent", status: res.status, error };
    } catch (err) {
      const reason = ctl.signal.aborted && ctl.signal.reason instanceof Error ? ctl.signal.reason.message : (err as Error).message;
      return { kind: "recoverable", status: 0, retryAfterMs: 0, error: `Post "${this.cfg.url}": ${reason}` };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}
