/** `remote_write` and `remote_read` entries. */
import { z } from "zod";
import { bool, duration, list, str, stringMap, uint, url } from "./fields.ts";
import { httpClientShape } from "./http.ts";
import { relabelSchema } from "./relabel.ts";

export const queueSchema = z.strictObject({
  capacity: uint.nullish(),
  max_shards: uint.nullish(),
  min_shards: uint.nullish(),
  max_samples_per_send: uint.nullish(),
  batch_send_deadline: duration.nullish(),
  min_backoff: duration.nullish(),
  max_backoff: duration.nullish(),
  retry_on_http_429: bool.nullish(),
  sample_age_limit: duration.nullish(),
});

export const metadataSchema = z.strictObject({
  send: bool.nullish(),
  send_interval: duration.nullish(),
  max_samples_per_send: uint.nullish(),
});

// Cloud auth blocks are recognised so their error can say they are unsupported.
const opaque = z.record(z.string(), z.unknown());

export const remoteWriteSchema = z.strictObject({
  url: url.nullish(),
  remote_timeout: duration.nullish(),
  headers: stringMap.nullish(),
  write_relabel_configs: list(relabelSchema, "relabeling rule in remote write config").nullish(),
  name: str.nullish(),
  send_exemplars: bool.nullish(),
  send_native_histograms: bool.nullish(),
  round_robin_dns: bool.nullish(),
  protobuf_message: str.nullish(),
  ...httpClientShape,
  queue_config: queueSchema.nullish(),
  metadata_config: metadataSchema.nullish(),
  sigv4: opaque.nullish(),
  azuread: opaque.nullish(),
  google_iam: opaque.nullish(),
});

export const remoteReadSchema = z.strictObject({
  url: url.nullish(),
  remote_timeout: duration.nullish(),
  chunked_read_limit: uint.nullish(),
  headers: stringMap.nullish(),
  read_recent: bool.nullish(),
  name: str.nullish(),
  ...httpClientShape,
  required_matchers: stringMap.nullish(),
  filter_external_labels: bool.nullish(),
});

export type RawRemoteWrite = z.output<typeof remoteWriteSchema>;
export type RawRemoteRead = z.output<typeof remoteReadSchema>;
