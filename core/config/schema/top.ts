/** The top level of a Prometheus config file and its smaller blocks. */
import { z } from "zod";
import { bool, bytes, duration, float, int, list, str, stringList, stringMap, uint } from "./fields.ts";
import { httpClientShape, tlsSchema } from "./http.ts";
import { relabelSchema } from "./relabel.ts";
import { staticConfigSchema } from "./scrape.ts";
import { remoteReadSchema, remoteWriteSchema } from "./remote.ts";

export const globalSchema = z.strictObject({
  scrape_interval: duration.nullish(),
  scrape_timeout: duration.nullish(),
  scrape_protocols: stringList.nullish(),
  evaluation_interval: duration.nullish(),
  rule_query_offset: duration.nullish(),
  query_log_file: str.nullish(),
  scrape_failure_log_file: str.nullish(),
  external_labels: stringMap.nullish(),
  body_size_limit: bytes.nullish(),
  sample_limit: uint.nullish(),
  target_limit: uint.nullish(),
  label_limit: uint.nullish(),
  label_name_length_limit: uint.nullish(),
  label_value_length_limit: uint.nullish(),
  keep_dropped_targets: uint.nullish(),
  metric_name_validation_scheme: str.nullish(),
  metric_name_escaping_scheme: str.nullish(),
  scrape_native_histograms: bool.nullish(),
  convert_classic_histograms_to_nhcb: bool.nullish(),
  always_scrape_classic_histograms: bool.nullish(),
  extra_scrape_metrics: bool.nullish(),
});

export const runtimeSchema = z.strictObject({ gogc: int.nullish() });

export const alertmanagerSchema = z.strictObject({
  ...httpClientShape,
  sigv4: z.record(z.string(), z.unknown()).nullish(),
  scheme: str.nullish(),
  path_prefix: str.nullish(),
  timeout: duration.nullish(),
  api_version: str.nullish(),
  relabel_configs: list(relabelSchema, "Alertmanager target relabeling rule").nullish(),
  alert_relabel_configs: list(relabelSchema, "Alertmanager alert relabeling rule").nullish(),
  static_configs: list(staticConfigSchema, "static_configs entry").nullish(),
});

export const alertingSchema = z.strictObject({
  alert_relabel_configs: list(relabelSchema, "alert relabeling rule").nullish(),
  // Entries are validated one by one, after their *_sd_configs keys are taken out.
  alertmanagers: z.array(z.unknown()).nullish(),
});

export const storageSchema = z.strictObject({
  tsdb: z
    .strictObject({
      out_of_order_time_window: duration.nullish(),
      retention: z.strictObject({ time: duration.nullish(), size: bytes.nullish() }).nullish(),
    })
    .nullish(),
  exemplars: z.strictObject({ max_exemplars: int.nullish() }).nullish(),
});

export const tracingSchema = z.strictObject({
  client_type: z.enum(["http", "grpc"], { error: (i) => `(${String(i.input)}) is not a tracing client type (http or grpc)` }).nullish(),
  endpoint: str.nullish(),
  sampling_fraction: float.nullish(),
  insecure: bool.nullish(),
  tls_config: tlsSchema.nullish(),
  headers: stringMap.nullish(),
  compression: str.nullish(),
  timeout: duration.nullish(),
});

export const otlpSchema = z.strictObject({
  promote_all_resource_attributes: bool.nullish(),
  promote_resource_attributes: stringList.nullish(),
  ignore_resource_attributes: stringList.nullish(),
  translation_strategy: str.nullish(),
  keep_identifying_resource_attributes: bool.nullish(),
  convert_histograms_to_nhcb: bool.nullish(),
  promote_scope_metadata: bool.nullish(),
  label_name_underscore_sanitization: bool.nullish(),
  label_name_preserve_multiple_underscores: bool.nullish(),
});

/** Top-level keys; `scrape_configs` entries are validated one by one (see ../load.ts). */
export const topSchema = z.strictObject({
  global: globalSchema.nullish(),
  runtime: runtimeSchema.nullish(),
  alerting: alertingSchema.nullish(),
  rule_files: stringList.nullish(),
  scrape_config_files: stringList.nullish(),
  scrape_configs: z.array(z.unknown()).nullish(),
  storage: storageSchema.nullish(),
  tracing: tracingSchema.nullish(),
  remote_write: list(remoteWriteSchema, "remote write config section").nullish(),
  remote_read: list(remoteReadSchema, "remote read config section").nullish(),
  otlp: otlpSchema.nullish(),
  /** gleaner: external plugin modules to load (paths relative to this file). */
  plugins: stringList.nullish(),
});

export type RawTop = z.output<typeof topSchema>;
export type RawGlobal = z.output<typeof globalSchema>;
export type RawAlertmanager = z.output<typeof alertmanagerSchema>;
