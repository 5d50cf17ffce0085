/** Defaults and cross-field rules of the HTTP client block (prometheus/common). */
import { isAbsolute, join } from "node:path";
import { formatPath, type PathSegment } from "./errors.ts";
import type { RawHttpClient, RawTls } from "./schema/http.ts";
import type { ConfigSource } from "./source.ts";
import type { HttpClientConfig, ProxyConfig, TlsConfig } from "./types.ts";

/** Joins a relative file path with the directory of the config file that named it. */
export function joinDir(dir: string, file: string | null | undefined): string | undefined {
  if (file === null || file === undefined || file === "") return undefined;
  return isAbsolute(file) ? file : join(dir, file);
}

/** Header names nobody may set through config (compared case-insensitively). */
export const RESERVED_HEADERS = new Set([
  "authorization", "host", "content-encoding", "content-length", "content-type", "user-agent",
  "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "www-authenticate",
  "accept-encoding", "x-prometheus-remote-write-version", "x-prometheus-remote-read-version",
  "x-prometheus-scrape-timeout-seconds", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256",
]);

export interface Place {
  src: ConfigSource;
  /** Directory that relative file paths are joined with. */
  dir: string;
}

function count(...xs: Array<string | null | undefined>): number {
  return xs.filter((x) => x !== null && x !== undefined && x !== "").length;
}

function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

export function resolveTls(raw: RawTls | null | undefined, at: Place, path: readonly PathSegment[]): TlsConfig {
  const t = raw ?? {};
  const p = [...path, "tls_config"];
  for (const [what, a, b, c] of [
    ["ca", t.ca, t.ca_file, t.ca_ref],
    ["cert", t.cert, t.cert_file, t.cert_ref],
    ["key", t.key, t.key_file, t.key_ref],
  ] as const) {
    if (count(a, b, c) > 1) throw at.src.error(p, `${formatPath(p)}: at most one of ${what}, ${what}_file & ${what}_ref must be configured`);
    if (c) throw at.src.error([...p, `${what}_ref`], `${formatPath(p)}.${what}_ref: secret references need a secret manager, which gleaner does not have; use ${what} or ${what}_file`);
  }
  const hasCert = count(t.cert, t.cert_file) > 0;
  const hasKey = count(t.key, t.key_file) > 0;
  if (hasCert && !hasKey) throw at.src.error(p, `${formatPath(p)}: exactly one of key or key_file must be configured when a client certificate is configured`);
  if (hasKey && !hasCert) throw at.src.error(p, `${formatPath(p)}: exactly one of cert or cert_file must be configured when a client key is configured`);
  const out: TlsConfig = { insecure_skip_verify: t.insecure_skip_verify ?? false, min_version: t.min_version ?? "TLS12" };
  put(out, "ca", t.ca ?? undefined);
  put(out, "ca_file", joinDir(at.dir, t.ca_file));
  put(out, "cert", t.cert ?? undefined);
  put(out, "cert_file", joinDir(at.dir, t.cert_file));
  put(out, "key", t.key ?? undefined);
  put(out, "key_file", joinDir(at.dir, t.key_file));
  put(out, "server_name", t.server_name ?? undefined);
  put(out, "max_version", t.max_version ?? undefined);
  return out;
}

type RawProxy = Pick<RawHttpClient, "proxy_url" | "no_proxy" | "proxy_from_environment" | "proxy_connect_header">;

function resolveProxy(raw: RawProxy, at: Place, path: readonly PathSegment[]): ProxyConfig {
  const where = formatPath(path);
  if (raw.proxy_url) {
    try {
      new URL(raw.proxy_url);
    } catch {
      throw at.src.error([...path, "proxy_url"], `${where}.proxy_url (${raw.proxy_url}) is not a valid URL`);
    }
  }
  const headers = raw.proxy_connect_header ?? {};
  if (Object.keys(headers).length > 0 && !raw.proxy_url && !raw.proxy_from_environment) {
    throw at.src.error([...path, "proxy_connect_header"], `${where}: if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured`);
  }
  if (raw.proxy_from_environment && (raw.proxy_url || raw.no_proxy)) {
    throw at.src.error([...path, "proxy_from_environment"], `${where}: if proxy_from_environment is configured, proxy_url and no_proxy must not be configured`);
  }
  if (raw.no_proxy && !raw.proxy_url) {
    throw at.src.error([...path, "no_proxy"], `${where}: if no_proxy is configured, proxy_url must also be configured`);
  }
  const out: ProxyConfig = {
    proxy_from_environment: raw.proxy_from_environment ?? false,
    proxy_connect_header: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v ?? []])),
  };
  put(out, "proxy_url", raw.proxy_url ?? undefined);
  put(out, "no_proxy", raw.no_proxy ?? undefined);
  return out;
}

/**
 * Applies the HTTP client defaults (follow_redirects and enable_http2 default to true,
 * unless `defaults` says otherwise, as remote write does for HTTP/2) and its rules.
 */
export function resolveHttpClient(
  raw: RawHttpClient,
  at: Place,
  path: readonly PathSegment[],
  defaults: { enable_http2: boolean } = { enable_http2: true },
): HttpClientConfig {
  const where = formatPath(path);
  const err = (key: string, msg: string) => at.src.error([...path, key], `${where}: ${msg}`, "key");
  const hasBearer = count(raw.bearer_token, raw.bearer_token_file) > 0;
  if (raw.bearer_token && raw.bearer_token_file) throw err("bearer_token_file", "at most one of bearer_token & bearer_token_file must be configured");
  if ((raw.basic_auth || raw.oauth2) && hasBearer) throw err(raw.bearer_token ? "bearer_token" : "bearer_token_file", "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured");

  const out: HttpClientConfig = {
    ...resolveProxy(raw, at, path),
    tls_config: resolveTls(raw.tls_config, at, path),
    follow_redirects: raw.follow_redirects ?? true,
    enable_http2: raw.enable_http2 ?? defaults.enable_http2,
    http_headers: {},
  };

  const ba = raw.basic_auth;
  if (ba) {
    if (count(ba.username, ba.username_file, ba.username_ref) > 1) throw err("basic_auth", "at most one of basic_auth username, username_file & username_ref must be configured");
    if (count(ba.password, ba.password_file, ba.password_ref) > 1) throw err("basic_auth", "at most one of basic_auth password, password_file & password_ref must be configured");
    if (ba.username_ref || ba.password_ref) throw err("basic_auth", "secret references (username_ref, password_ref) need a secret manager, which gleaner does not have");
    const b: NonNullable<HttpClientConfig["basic_auth"]> = {};
    put(b, "username", ba.username ?? undefined);
    put(b, "username_file", joinDir(at.dir, ba.username_file));
    put(b, "password", ba.password ?? undefined);
    put(b, "password_file", joinDir(at.dir, ba.password_file));
    out.basic_auth = b;
  }

  const az = raw.authorization;
  if (az) {
    if (hasBearer) throw err("authorization", "authorization is not compatible with bearer_token & bearer_token_file");
    if (count(az.credentials, az.credentials_file, az.credentials_ref) > 1) throw err("authorization", "at most one of authorization credentials & credentials_file must be configured");
    if (az.credentials_ref) throw err("authorization", "credentials_ref needs a secret manager, which gleaner does not have");
    const type = (az.type ?? "").trim() || "Bearer";
    if (type.toLowerCase() === "basic") throw err("authorization", `authorization type cannot be set to "basic", use "basic_auth" instead`);
    if (ba || raw.oauth2) throw err("authorization", "at most one of basic_auth, oauth2 & authorization must be configured");
    const a: NonNullable<HttpClientConfig["authorization"]> = { type };
    put(a, "credentials", az.credentials ?? undefined);
    put(a, "credentials_file", joinDir(at.dir, az.credentials_file));
    out.authorization = a;
  } else if (raw.bearer_token) {
    out.authorization = { type: "Bearer", credentials: raw.bearer_token };
  } else if (raw.bearer_token_file) {
    out.authorization = { type: "Bearer", credentials_file: joinDir(at.dir, raw.bearer_token_file)! };
  }

  const o = raw.oauth2;
  if (o) {
    if (ba) throw err("oauth2", "at most one of basic_auth, oauth2 & authorization must be configured");
    if (!o.client_id) throw err("oauth2", "oauth2 client_id must be configured");
    if (!o.token_url) throw err("oauth2", "oauth2 token_url must be configured");
    if (count(o.client_secret, o.client_secret_file, o.client_secret_ref) > 1) throw err("oauth2", "at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured");
    if (o.client_secret_ref) throw err("oauth2", "client_secret_ref needs a secret manager, which gleaner does not have");
    const oauth: NonNullable<HttpClientConfig["oauth2"]> = {
      ...resolveProxy(o, at, [...path, "oauth2"]),
      client_id: o.client_id,
      token_url: o.token_url,
      scopes: o.scopes ?? [],
      endpoint_params: Object.fromEntries(Object.entries(o.endpoint_params ?? {}).map(([k, v]) => [k, v ?? ""])),
      tls_config: resolveTls(o.tls_config, at, [...path, "oauth2"]),
    };
    put(oauth, "client_secret", o.client_secret ?? undefined);
    put(oauth, "client_secret_file", joinDir(at.dir, o.client_secret_file));
    out.oauth2 = oauth;
  }

  for (const [name, h] of Object.entries(raw.http_headers ?? {})) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw at.src.error([...path, "http_headers", name], `${where}.http_headers: setting header "${name}" is not allowed`, "key");
    }
    out.http_headers[name] = {
      values: h?.values ?? [],
      secrets: h?.secrets ?? [],
      files: (h?.files ?? []).map((f) => joinDir(at.dir, f) ?? f),
    };
  }
  return out;
}
