/**
 * OAuth2 client credentials (RFC 6749 §4.4) as Go's x/oauth2 `clientcredentials` does it
 * for prometheus/common: the token is fetched once and reused until 10 s before it expires;
 * the client authenticates with HTTP Basic first and, if the server refuses that, with
 * `client_id`/`client_secret` in the form body (remembered afterwards); a changed
 * `client_secret_file` drops the cached token.
 */
import type { OAuth2Config } from "../../config/types.ts";
import { readSecretFile } from "./auth.ts";
import { ScrapeSetupError } from "./errors.ts";
import { compileNoProxy, proxyFor } from "./proxy.ts";
import { TlsSession } from "./tls.ts";
import { encodeValues, queryEscape } from "./query.ts";

/** x/oauth2 treats a token as expired this long before its stated expiry. */
const EXPIRY_DELTA_MS = 10_000;

interface Token {
  header: string;
  /** Epoch ms, or Infinity when the server gave no expires_in. */
  expiresAt: number;
}

/** x/oauth2's Token.Type(): the scheme for the Authorization header. */
function tokenType(t: string): string {
  switch (t.toLowerCase()) {
    case "":
    case "bearer":
      return "Bearer";
    case "mac":
      return "MAC";
    case "basic":
      return "Basic";
    default:
      return t;
  }
}

export interface OAuth2Options {
  userAgent: string;
  /** For tests: the clock, in epoch ms. */
  now?: () => number;
}

export class OAuth2TokenSource {
  readonly #cfg: OAuth2Config;
  readonly #opts: OAuth2Options;
  readonly #tls: TlsSession;
  readonly #noProxy;
  #secret: string | null = null;
  #token: Token | null = null;
  #inflight: Promise<Token> | null = null;
  /** null until one style worked: "header" (HTTP Basic) or "params" (form body). */
  #style: "header" | "params" | null = null;

  constructor(cfg: OAuth2Config, opts: OAuth2Options) {
    this.#cfg = cfg;
    this.#opts = opts;
    this.#tls = new TlsSession(cfg.tls_config);
    this.#noProxy = compileNoProxy(cfg.no_proxy ?? "");
  }

  /**
   * The `Authorization` value for one request. A token fetch is shared by concurrent
   * requests and runs to its own `timeoutMs`; `signal` only stops this caller's wait.
   */
  async header(signal: AbortSignal, timeoutMs: number): Promise<string> {
    const secret = this.#cfg.client_secret_file === undefined
      ? this.#cfg.client_secret ?? ""
      : await readSecretFile(this.#cfg.client_secret_file, "oauth2 client_secret_file");
    if (secret !== this.#secret) {
      this.#secret = secret;
      this.#token = null;
      this.#inflight = null;
    }
    const now = (this.#opts.now ?? Date.now)();
    if (this.#token !== null && now < this.#token.expiresAt - EXPIRY_DELTA_MS) return this.#token.header;
    if (this.#inflight === null) {
      const p = this.#fetchToken(secret, timeoutMs);
      this.#inflight = p;
      p.then((t) => {
        if (this.#inflight === p) this.#token = t;
      }, () => {}).finally(() => {
        if (this.#inflight === p) this.#inflight = null;
      });
    }
    const token = await raceAbort(this.#inflight, signal);
    return token.header;
  }

  close(): void {
    this.#tls.close();
  }

  async #fetchToken(secret: string, timeoutMs: number): Promise<Token> {
    const form = new Map<string, string>([["grant_type", "client_credentials"]]);
    if (this.#cfg.scopes.length > 0) form.set("scope", this.#cfg.scopes.join(" "));
    for (const [k, v] of Object.entries(this.#cfg.endpoint_params)) form.set(k, v);
    if (this.#style !== "params") {
      const res = await this.#post(form, secret, "header", timeoutMs);
      if (res.ok || this.#style === "header") return this.#accept(res, "header");
    }
    const withClient = new Map(form);
    if (this.#cfg.client_id !== "") withClient.set("client_id", this.#cfg.client_id);
    if (secret !== "") withClient.set("client_secret", secret);
    return this.#accept(await this.#post(withClient, secret, "params", timeoutMs), "params");
  }

  #accept(res: TokenResponse, style: "header" | "params"): Token {
    if (!res.ok) throw new ScrapeSetupError(res.error);
    this.#style = style;
    return res.token;
  }

  async #post(form: Map<string, string>, secret: string, style: "header" | "params", timeoutMs: number): Promise<TokenResponse> {
    const headers = new Headers({
      "Content-Type": "application/x-www-form-urlencoded",
      "User-Agent": this.#opts.userAgent,
      "Accept-Encoding": "identity",
    });
    if (style === "header") {
      const creds = `${queryEscape(this.#cfg.client_id)}:${queryEscape(secret)}`;
      headers.set("Authorization", "Basic " + Buffer.from(creds, "utf8").toString("base64"));
    }
    const url = new URL(this.#cfg.token_url);
    let res: Response;
    let body: string;
    try {
      res = await fetch(url, {
        method: "POST",
        headers,
        body: encodeValues(new Map([...form].map(([k, v]) => [k, [v]]))),
        signal: AbortSignal.timeout(timeoutMs),
        session: await this.#tls.get(),
        proxy: proxyFor(this.#cfg, url, this.#noProxy),
        decompress: true,
      });
      body = await res.text();
    } catch (err) {
      const reason = err instanceof DOMException && err.name === "TimeoutError" ? "context deadline exceeded" : (err as Error).message;
      throw new ScrapeSetupError(`oauth2: cannot fetch token: Post "${this.#cfg.token_url}": ${reason}`, { cause: err });
    }
    return parseTokenResponse(res, body, (this.#opts.now ?? Date.now)());
  }

}

type TokenResponse = { ok: true; token: Token } | { ok: false; error: string };

function parseTokenResponse(res: Response, body: string, now: number): TokenResponse {
  const status = `${res.status} ${res.statusText}`.trimEnd();
  const contentType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  let fields: Record<string, unknown> = {};
  if (contentType === "application/x-www-form-urlencoded" || contentType === "text/plain") {
    fields = Object.fromEntries(new URLSearchParams(body));
  } else {
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed !== null && typeof parsed === "object") fields = parsed as Record<string, unknown>;
    } catch {
      if (res.ok) return { ok: false, error: `oauth2: cannot parse json: ${body.slice(0, 200)}` };
    }
  }
  const str = (k: string) => (typeof fields[k] === "string" ? (fields[k] as string) : typeof fields[k] === "number" ? String(fields[k]) : "");
  if (res.status < 200 || res.status > 299) {
    const code = str("error");
    if (code !== "") {
      const parts = [code, str("error_description"), str("error_uri")].filter((p) => p !== "").map((p) => JSON.stringify(p));
      return { ok: false, error: `oauth2: ${parts.join(" ")}` };
    }
    return { ok: false, error: `oauth2: cannot fetch token: ${status}\nResponse: ${body}` };
  }
  const access = str("access_token");
  if (access === "") return { ok: false, error: "oauth2: server response missing access_token" };
  const expiresIn = Number(str("expires_in"));
  const expiresAt = Number.isFinite(expiresIn) && expiresIn > 0 ? now + expiresIn * 1000 : Infinity;
  return { ok: true, token: { header: `${tokenType(str("token_type"))} ${access}`, expiresAt } };
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
