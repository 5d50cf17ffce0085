/**
 * The HTTP client block shared by scrape, service discovery, alerting and remote
 * read/write configs (prometheus/common `HTTPClientConfig`), inlined into its parent.
 */
import { z } from "zod";
import { bool, str, stringList } from "./fields.ts";

export const tlsSchema = z.strictObject({
  ca: str.nullish(),
  ca_file: str.nullish(),
  ca_ref: str.nullish(),
  cert: str.nullish(),
  cert_file: str.nullish(),
  cert_ref: str.nullish(),
  key: str.nullish(),
  key_file: str.nullish(),
  key_ref: str.nullish(),
  server_name: str.nullish(),
  insecure_skip_verify: bool.nullish(),
  min_version: z.enum(["TLS10", "TLS11", "TLS12", "TLS13"], { error: (i) => `(${String(i.input)}) is not a TLS version (TLS10, TLS11, TLS12 or TLS13)` }).nullish(),
  max_version: z.enum(["TLS10", "TLS11", "TLS12", "TLS13"], { error: (i) => `(${String(i.input)}) is not a TLS version (TLS10, TLS11, TLS12 or TLS13)` }).nullish(),
});

export const proxyShape = {
  proxy_url: str.nullish(),
  no_proxy: str.nullish(),
  proxy_from_environment: bool.nullish(),
  proxy_connect_header: z.record(z.string(), stringList.nullable()).nullish(),
};

export const basicAuthSchema = z.strictObject({
  username: str.nullish(),
  username_file: str.nullish(),
  username_ref: str.nullish(),
  password: str.nullish(),
  password_file: str.nullish(),
  password_ref: str.nullish(),
});

export const authorizationSchema = z.strictObject({
  type: str.nullish(),
  credentials: str.nullish(),
  credentials_file: str.nullish(),
  credentials_ref: str.nullish(),
});

export const oauth2Schema = z.strictObject({
  client_id: str.nullish(),
  client_secret: str.nullish(),
  client_secret_file: str.nullish(),
  client_secret_ref: str.nullish(),
  scopes: stringList.nullish(),
  token_url: str.nullish(),
  endpoint_params: z.record(z.string(), str.nullable()).nullish(),
  tls_config: tlsSchema.nullish(),
  ...proxyShape,
});

export const headerSchema = z.strictObject({
  values: stringList.nullish(),
  secrets: stringList.nullish(),
  files: stringList.nullish(),
});

/** Fields to spread into every object that inlines an HTTP client. */
export const httpClientShape = {
  basic_auth: basicAuthSchema.nullish(),
  authorization: authorizationSchema.nullish(),
  oauth2: oauth2Schema.nullish(),
  bearer_token: str.nullish(),
  bearer_token_file: str.nullish(),
  tls_config: tlsSchema.nullish(),
  follow_redirects: bool.nullish(),
  enable_http2: bool.nullish(),
  http_headers: z.record(z.string(), headerSchema.nullable()).nullish(),
  ...proxyShape,
};

export type RawTls = z.output<typeof tlsSchema>;
export type RawHttpClient = z.output<z.ZodObject<typeof httpClientShape>>;
