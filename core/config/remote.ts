/** `remote_write` / `remote_read` entries: defaults (spec §6.3) and checks. */
import type { ValidationScheme } from "../model/labels.ts";
import { formatPath, type PathSegment } from "./errors.ts";
import { RESERVED_HEADERS, resolveHttpClient, type Place } from "./http-client.ts";
import { resolveRelabel } from "./relabel.ts";
import type { RawRemoteRead, RawRemoteWrite } from "./schema/remote.ts";
import type { QueueConfig, RemoteReadConfig, RemoteWriteConfig } from "./types.ts";

export const DEFAULT_QUEUE_CONFIG: QueueConfig = {
  capacity: 10_000,
  max_shards: 50,
  min_shards: 1,
  max_samples_per_send: 2_000,
  batch_send_deadline: 5_000,
  min_backoff: 30,
  max_backoff: 5_000,
  retry_on_http_429: false,
  sample_age_limit: 0,
};

function checkHeaders(headers: Record<string, string>, at: Place, path: readonly PathSegment[]): void {
  for (const name of Object.keys(headers)) {
    const p = [...path, "headers", name];
    if (name.toLowerCase() === "authorization") {
      throw at.src.error(p, `${formatPath(path)}.headers: authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter`, "key");
    }
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw at.src.error(p, `${formatPath(path)}.headers: ${name} is a reserved header. It must not be changed`, "key");
  }
}

export function resolveRemoteWrite(r: RawRemoteWrite, at: Place, path: readonly PathSegment[], scheme: ValidationScheme): RemoteWriteConfig {
  const where = formatPath(path);
  if (!r.url) throw at.src.error(path, `${where}: url for remote_write is empty`);
  const headers = r.headers ?? {};
  checkHeaders(headers, at, path);
  const message = r.protobuf_message ?? "prometheus.WriteRequest";
  if (message !== "prometheus.WriteRequest" && message !== "io.prometheus.write.v2.Request") {
    throw at.src.error([...path, "protobuf_message"], `${where}.protobuf_message (${message}) must be prometheus.WriteRequest or io.prometheus.write.v2.Request`);
  }
  const http = resolveHttpClient(r, at, path, { enable_http2: false });
  const auths = [
    r.basic_auth && "basic_auth", (r.authorization || r.bearer_token || r.bearer_token_file) && "authorization", r.oauth2 && "oauth2",
    r.sigv4 && "sigv4", r.azuread && "azuread", r.google_iam && "google_iam",
  ].filter(Boolean);
  if (auths.length > 1) {
    throw at.src.error(path, `${where}: at most one of basic_auth, authorization, oauth2, sigv4, azuread or google_iam must be configured. Currently configured: [${auths.join(" ")}]`);
  }
  for (const cloud of ["sigv4", "azuread", "google_iam"] as const) {
    if (r[cloud]) throw at.src.error([...path, cloud], `${where}.${cloud}: not supported by gleaner yet; use basic_auth, authorization or oauth2`, "key");
  }
  const q = { ...DEFAULT_QUEUE_CONFIG };
  for (const [k, v] of Object.entries(r.queue_config ?? {})) if (v !== null && v !== undefined) (q as Record<string, unknown>)[k] = v;
  const qp = [...path, "queue_config"];
  for (const k of ["capacity", "max_shards", "min_shards", "max_samples_per_send"] as const) {
    if (q[k] <= 0) throw at.src.error([...qp, k], `${formatPath(qp)}.${k} (${q[k]}) must be greater than 0`);
  }
  if (q.min_shards > q.max_shards) throw at.src.error(qp, `${formatPath(qp)}: min_shards (${q.min_shards}) is greater than max_shards (${q.max_shards})`);
  if (q.max_backoff < q.min_backoff) throw at.src.error(qp, `${formatPath(qp)}: max_backoff is less than min_backoff`);
  const m = r.metadata_config ?? {};
  return {
    ...http,
    url: r.url,
    remote_timeout: r.remote_timeout ?? 30_000,
    headers,
    write_relabel_configs: (r.write_relabel_configs ?? []).map((rc, i) => resolveRelabel(rc, at.src, [...path, "write_relabel_configs", i], scheme)),
    name: r.name ?? "",
    send_exemplars: r.send_exemplars ?? false,
    send_native_histograms: r.send_native_histograms ?? false,
    round_robin_dns: r.round_robin_dns ?? false,
    protobuf_message: message,
    queue_config: q,
    metadata_config: { send: m.send ?? true, send_interval: m.send_interval ?? 60_000, max_samples_per_send: m.max_samples_per_send ?? 2_000 },
  };
}

export function resolveRemoteRead(r: RawRemoteRead, at: Place, path: readonly PathSegment[]): RemoteReadConfig {
  if (!r.url) throw at.src.error(path, `${formatPath(path)}: url for remote_read is empty`);
  const headers = r.headers ?? {};
  checkHeaders(headers, at, path);
  return {
    ...resolveHttpClient(r, at, path),
    url: r.url,
    remote_timeout: r.remote_timeout ?? 60_000,
    chunked_read_limit: r.chunked_read_limit ?? 50_000_000,
    headers,
    read_recent: r.read_recent ?? false,
    name: r.name ?? "",
    required_matchers: r.required_matchers ?? {},
    filter_external_labels: r.filter_external_labels ?? true,
  };
}

/** Names, when set, must be unique among the entries of one list. */
export function checkUniqueNames(items: Array<{ name: string }>, at: Place, key: string): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (item.name === "") return;
    if (seen.has(item.name)) throw at.src.error([key, i, "name"], `${key}[${i}].name: found multiple ${key.replace("_", " ")} configs with name "${item.name}"`);
    seen.add(item.name);
  });
}
