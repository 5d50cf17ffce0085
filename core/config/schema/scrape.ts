/** `scrape_configs` entries (without their `*_sd_configs`, which plugins validate). */
import { z } from "zod";
import { bool, bytes, duration, float, list, str, stringList, stringMap, uint } from "./fields.ts";
import { httpClientShape } from "./http.ts";
import { relabelSchema } from "./relabel.ts";

export const staticConfigSchema = z.strictObject({
  targets: stringList.nullish(),
  labels: stringMap.nullish(),
});

export const scrapeSchema = z.strictObject({
  job_name: str.nullish(),
  honor_labels: bool.nullish(),
  honor_timestamps: bool.nullish(),
  track_timestamps_staleness: bool.nullish(),
  params: z.record(z.string(), stringList.nullable()).nullish(),
  scrape_interval: duration.nullish(),
  scrape_timeout: duration.nullish(),
  scrape_protocols: stringList.nullish(),
  fallback_scrape_protocol: str.nullish(),
  scrape_native_histograms: bool.nullish(),
  always_scrape_classic_histograms: bool.nullish(),
  convert_classic_histograms_to_nhcb: bool.nullish(),
  scrape_failure_log_file: str.nullish(),
  metrics_path: str.nullish(),
  scheme: str.nullish(),
  enable_compression: bool.nullish(),
  body_size_limit: bytes.nullish(),
  sample_limit: uint.nullish(),
  target_limit: uint.nullish(),
  label_limit: uint.nullish(),
  label_name_length_limit: uint.nullish(),
  label_value_length_limit: uint.nullish(),
  native_histogram_bucket_limit: uint.nullish(),
  native_histogram_min_bucket_factor: float.nullish(),
  keep_dropped_targets: uint.nullish(),
  metric_name_validation_scheme: str.nullish(),
  metric_name_escaping_scheme: str.nullish(),
  extra_scrape_metrics: bool.nullish(),
  ...httpClientShape,
  relabel_configs: list(relabelSchema, "target relabeling rule").nullish(),
  metric_relabel_configs: list(relabelSchema, "metric relabeling rule").nullish(),
  static_configs: list(staticConfigSchema, "static_configs entry").nullish(),
});

export type RawScrape = z.output<typeof scrapeSchema>;
