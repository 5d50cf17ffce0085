/**
 * A loaded config: every default applied and every inherited value resolved, so that
 * the rest of gleaner never re-derives them. Field names are Prometheus's YAML keys.
 * Durations are milliseconds; sizes are bytes; relative file paths are already joined
 * with the directory of the file that named them.
 */
import type { ValidationScheme } from "../model/labels.ts";
import type { RelabelAction } from "./schema/relabel.ts";

export type ScrapeProtocol =
  | "PrometheusProto"
  | "PrometheusText0.0.4"
  | "PrometheusText1.0.0"
  | "OpenMetricsText0.0.1"
  | "OpenMetricsText1.0.0";

export type EscapingScheme = "allow-utf-8" | "underscores" | "dots" | "values";

export interface GlobalConfig {
  scrape_interval: number;
  scrape_timeout: number;
  scrape_protocols: ScrapeProtocol[] | null;
  evaluation_interval: number;
  rule_query_offset: number;
  query_log_file: string;
  scrape_failure_log_file: string;
  external_labels: Record<string, string>;
  body_size_limit: number;
  sample_limit: number;
  target_limit: number;
  label_limit: number;
  label_name_length_limit: number;
  label_value_length_limit: number;
  keep_dropped_targets: number;
  metric_name_validation_scheme: ValidationScheme;
  metric_name_escaping_scheme: EscapingScheme;
  scrape_native_histograms: boolean;
  convert_classic_histograms_to_nhcb: boolean;
  always_scrape_classic_histograms: boolean;
  extra_scrape_metrics: boolean;
}

export interface TlsConfig {
  ca?: string;
  ca_file?: string;
  cert?: string;
  cert_file?: string;
  key?: string;
  key_file?: string;
  server_name?: string;
  insecure_skip_verify: boolean;
  min_version: "TLS10" | "TLS11" | "TLS12" | "TLS13";
  max_version?: "TLS10" | "TLS11" | "TLS12" | "TLS13";
}

export interface ProxyConfig {
  proxy_url?: string;
  no_proxy?: string;
  proxy_from_environment: boolean;
  proxy_connect_header: Record<string, string[]>;
}

export interface HttpClientConfig extends ProxyConfig {
  basic_auth?: { username?: string; username_file?: string; password?: string; password_file?: string };
  /** `bearer_token` / `bearer_token_file` arrive here as type Bearer. */
  authorization?: { type: string; credentials?: string; credentials_file?: string };
  oauth2?: OAuth2Config;
  tls_config: TlsConfig;
  follow_redirects: boolean;
  enable_http2: boolean;
  http_headers: Record<string, { values: string[]; secrets: string[]; files: string[] }>;
}

export interface OAuth2Config extends ProxyConfig {
  client_id: string;
  client_secret?: string;
  client_secret_file?: string;
  scopes: string[];
  token_url: string;
  endpoint_params: Record<string, string>;
  tls_config: TlsConfig;
}

export interface RelabelConfig {
  source_labels: string[];
  separator: string;
  /** The pattern as written; it is matched anchored, as `^(?s:<regex>)$`. */
  regex: string;
  modulus: number;
  target_label: string;
  replacement: string;
  action: RelabelAction;
}

export interface StaticConfig {
  targets: string[];
  labels: Record<string, string>;
}

/** One `<name>_sd_configs` entry, parsed by the discovery plugin that owns `<name>`. */
export interface ServiceDiscoveryConfig {
  mechanism: string;
  config: unknown;
  /** Where it was written, e.g. `scrape_configs[2].file_sd_configs[0]`. */
  path: string;
}

export interface ScrapeConfig extends HttpClientConfig {
  job_name: string;
  honor_labels: boolean;
  honor_timestamps: boolean;
  track_timestamps_staleness: boolean;
  params: Record<string, string[]>;
  scrape_interval: number;
  scrape_timeout: number;
  scrape_protocols: ScrapeProtocol[];
  fallback_scrape_protocol?: ScrapeProtocol;
  scrape_native_histograms: boolean;
  always_scrape_classic_histograms: boolean;
  convert_classic_histograms_to_nhcb: boolean;
  scrape_failure_log_file: string;
  metrics_path: string;
  scheme: string;
  enable_compression: boolean;
  body_size_limit: number;
  sample_limit: number;
  target_limit: number;
  label_limit: number;
  label_name_length_limit: number;
  label_value_length_limit: number;
  native_histogram_bucket_limit: number;
  native_histogram_min_bucket_factor: number;
  keep_dropped_targets: number;
  metric_name_validation_scheme: ValidationScheme;
  metric_name_escaping_scheme: EscapingScheme;
  extra_scrape_metrics: boolean;
  relabel_configs: RelabelConfig[];
  metric_relabel_configs: RelabelConfig[];
  static_configs: StaticConfig[];
  service_discovery: ServiceDiscoveryConfig[];
  /** The file the job came from (the main file or one of `scrape_config_files`). */
  source_file: string;
}

export interface QueueConfig {
  capacity: number;
  max_shards: number;
  min_shards: number;
  max_samples_per_send: number;
  batch_send_deadline: number;
  min_backoff: number;
  max_backoff: number;
  retry_on_http_429: boolean;
  sample_age_limit: number;
}

export interface RemoteWriteConfig extends HttpClientConfig {
  url: string;
  remote_timeout: number;
  headers: Record<string, string>;
  write_relabel_configs: RelabelConfig[];
  name: string;
  send_exemplars: boolean;
  send_native_histograms: boolean;
  round_robin_dns: boolean;
  protobuf_message: "prometheus.WriteRequest" | "io.prometheus.write.v2.Request";
  queue_config: QueueConfig;
  metadata_config: { send: boolean; send_interval: number; max_samples_per_send: number };
}

export interface RemoteReadConfig extends HttpClientConfig {
  url: string;
  remote_timeout: number;
  chunked_read_limit: number;
  headers: Record<string, string>;
  read_recent: boolean;
  name: string;
  required_matchers: Record<string, string>;
  filter_external_labels: boolean;
}

export interface AlertmanagerConfig extends HttpClientConfig {
  scheme: string;
  path_prefix: string;
  timeout: number;
  api_version: "v2";
  relabel_configs: RelabelConfig[];
  alert_relabel_configs: RelabelConfig[];
  static_configs: StaticConfig[];
  service_discovery: ServiceDiscoveryConfig[];
}

export interface Config {
  /** The main config file, as given. */
  file: string;
  global: GlobalConfig;
  runtime: { gogc: number };
  alerting: { alert_relabel_configs: RelabelConfig[]; alertmanagers: AlertmanagerConfig[] };
  rule_files: string[];
  scrape_config_files: string[];
  /** All jobs: the main file's, then those of `scrape_config_files` in glob order. */
  scrape_configs: ScrapeConfig[];
  storage: {
    tsdb: { out_of_order_time_window: number; retention: { time: number; size: number } };
    exemplars: { max_exemplars: number };
  };
  tracing: null | {
    client_type: "http" | "grpc";
    endpoint: string;
    sampling_fraction: number;
    insecure: boolean;
    tls_config: TlsConfig;
    headers: Record<string, string>;
    compression: string;
    timeout: number;
  };
  remote_write: RemoteWriteConfig[];
  remote_read: RemoteReadConfig[];
  otlp: Record<string, unknown>;
  /** gleaner extension: external plugin modules to load, as absolute paths. */
  plugins: string[];
}
