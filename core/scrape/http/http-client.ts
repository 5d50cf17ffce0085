/**
 * A general HTTP client configured by an `HttpClientConfig` (auth, OAuth2, TLS, proxy,
 * redirects, HTTP/2): what scrapes, service discovery and remote write all send through.
 * The scrape client adds Accept negotiation and body handling on top.
 */
import type { HttpClientConfig } from "../../config/types.ts";
import { VERSION } from "../../version.ts";
import { AuthHeaders } from "./auth.ts";
import { OAuth2TokenSource } from "./oauth2.ts";
import { compileNoProxy, proxyFor } from "./proxy.ts";
import { TlsSession } from "./tls.ts";

/**
 * gleaner announces itself rather than posing as Prometheus, as vmagent, Grafana Alloy and
 * the OpenTelemetry Collector do; `userAgent` overrides it for servers that insist.
 */
export const DEFAULT_USER_AGENT = `gleaner/${VERSION}`;
/** Go's client gives up when the 10th redirect would be followed: 9 are allowed. */
export const MAX_REDIRECTS = 9;

export interface HttpClientOptions {
  userAgent?: string;
  /** Epoch ms, for OAuth2 token expiry; injected by tests. */
  now?: () => number;
}

export interface RequestOptions {
  method?: string;
  headers?: Headers | Record<string, string>;
  body?: string | Uint8Array;
  /** Aborts the request (timeouts are the caller's signal). */
  signal: AbortSignal;
  /** Ms left for an OAuth2 token request, when one is needed. */
  timeoutMs: number;
  /** false: leave Content-Encoding alone (the scrape client inflates gzip itself). */
  decompress?: boolean;
}

export class HttpClient {
  readonly #cfg: HttpClientConfig;
  readonly userAgent: string;
  readonly #auth: AuthHeaders;
  readonly #oauth2: OAuth2TokenSource | null;
  readonly #tls: TlsSession;
  readonly #noProxy;

  constructor(cfg: HttpClientConfig, opts: HttpClientOptions = {}) {
    this.#cfg = cfg;
    this.userAgent = opts.userAgent ?? DEFAULT_USER_AGENT;
    this.#auth = new AuthHeaders(cfg);
    this.#oauth2 = cfg.oauth2 === undefined ? null : new OAuth2TokenSource(cfg.oauth2, opts.now === undefined ? { userAgent: this.userAgent } : { userAgent: this.userAgent, now: opts.now });
    this.#tls = new TlsSession(cfg.tls_config);
    this.#noProxy = compileNoProxy(cfg.no_proxy ?? "");
  }

  get config(): HttpClientConfig {
    return this.#cfg;
  }

  /** Sends one request with the configured auth, TLS, proxy and redirect policy. */
  async request(url: string | URL, opts: RequestOptions): Promise<Response> {
    const target = typeof url === "string" ? new URL(url) : url;
    const headers = new Headers(opts.headers);
    if (!headers.has("User-Agent")) headers.set("User-Agent", this.userAgent);
    await this.#auth.apply(headers);
    if (this.#oauth2 !== null) headers.set("Authorization", await this.#oauth2.header(opts.signal, opts.timeoutMs));
    const init: BunFetchRequestInit = {
      method: opts.method ?? "GET",
      headers,
      signal: opts.signal,
      redirect: this.#cfg.follow_redirects ? "follow" : "manual",
      maxRedirects: MAX_REDIRECTS,
      session: await this.#tls.get(),
      proxy: proxyFor(this.#cfg, target, this.#noProxy),
    };
    if (opts.decompress === false) init.decompress = false;
    if (opts.body !== undefined) init.body = opts.body;
    // HTTP/2 is opt-in in Bun; pin HTTP/1.1 when the config says so even if it is switched on.
    if (!this.#cfg.enable_http2 && target.protocol === "https:") init.protocol = "http1.1";
    return fetch(target, init);
  }

  /** Closes idle connections; requests in flight finish. */
  close(): void {
    this.#tls.close();
    this.#oauth2?.close();
  }
}
