/** The `global` block: defaults (spec §1.2) and the values jobs inherit. */
import { isValidLabelName, isValidLabelValue, type ValidationScheme } from "../model/labels.ts";
import { formatDuration } from "./duration.ts";
import { joinDir } from "./http-client.ts";
import type { RawGlobal } from "./schema/top.ts";
import type { ConfigSource } from "./source.ts";
import type { EscapingScheme, GlobalConfig, ScrapeProtocol } from "./types.ts";

export const DEFAULT_SCRAPE_INTERVAL = 60_000;
export const DEFAULT_SCRAPE_TIMEOUT = 10_000;
export const DEFAULT_EVALUATION_INTERVAL = 60_000;

/** Protocol name → media type sent in the Accept header (spec §1.3). */
export const SCRAPE_PROTOCOL_MEDIA_TYPES: Record<ScrapeProtocol, string> = {
  PrometheusProto: "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
  "PrometheusText0.0.4": "text/plain;version=0.0.4",
  "PrometheusText1.0.0": "text/plain;version=1.0.0",
  "OpenMetricsText0.0.1": "application/openmetrics-text;version=0.0.1",
  "OpenMetricsText1.0.0": "application/openmetrics-text;version=1.0.0",
};
export const DEFAULT_SCRAPE_PROTOCOLS: ScrapeProtocol[] = ["OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"];
export const DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS: ScrapeProtocol[] = ["PrometheusProto", ...DEFAULT_SCRAPE_PROTOCOLS];
export const ESCAPING_SCHEMES: EscapingScheme[] = ["allow-utf-8", "underscores", "dots", "values"];

/** Checks a `scrape_protocols` list; returns the error text or null. */
export function checkScrapeProtocols(list: string[]): string | null {
  if (list.length === 0) return "scrape_protocols cannot be empty";
  const seen = new Set<string>();
  for (const p of list) {
    if (seen.has(p.toLowerCase())) return `duplicated protocol in scrape_protocols, got [${list.join(" ")}]`;
    if (!(p in SCRAPE_PROTOCOL_MEDIA_TYPES)) {
      return `unknown scrape protocol "${p}", supported: [${Object.keys(SCRAPE_PROTOCOL_MEDIA_TYPES).sort().join(" ")}]`;
    }
    seen.add(p.toLowerCase());
  }
  return null;
}

export function parseValidationScheme(value: string, src: ConfigSource, path: (string | number)[]): ValidationScheme | null {
  if (value === "") return null;
  if (value === "utf8" || value === "legacy") return value;
  throw src.error(path, `${path.join(".")} (${value}) must be "utf8" or "legacy"`);
}

/** Expands `$VAR` / `${VAR}` (and `$$`) as Go's os.Expand does; unset variables become "". */
export function expandEnv(value: string, env: Record<string, string | undefined>, warn: (name: string) => void): string {
  return value.replace(/\$(?:\{([^}]*)\}|([*#$@!?\-0-9])|([A-Za-z_][A-Za-z0-9_]*))?/g, (whole, braced?: string, special?: string, plain?: string) => {
    const name = braced ?? special ?? plain;
    if (name === undefined) return "$"; // a lone "$" stays
    if (name === "") return ""; // "${}" is eaten, as Go does
    if (name === "$") return "$";
    const v = env[name];
    if (v === undefined || v === "") {
      warn(name);
      return "";
    }
    return v;
  });
}

export interface GlobalOptions {
  env: Record<string, string | undefined>;
  warn: (message: string) => void;
  dir: string;
}

export function resolveGlobal(raw: RawGlobal | null | undefined, src: ConfigSource, opts: GlobalOptions): GlobalConfig {
  const g = raw ?? {};
  const scheme = parseValidationScheme(g.metric_name_validation_scheme ?? "", src, ["global", "metric_name_validation_scheme"]) ?? "utf8";

  const external: Record<string, string> = {};
  for (const [name, value] of Object.entries(g.external_labels ?? {})) {
    if (!isValidLabelName(name, scheme)) throw src.error(["global", "external_labels", name], `global.external_labels: "${name}" is not a valid label name`, "key");
    const expanded = expandEnv(value, opts.env, (v) => opts.warn(`global.external_labels.${name}: environment variable "${v}" is empty or not set`));
    if (!isValidLabelValue(expanded)) throw src.error(["global", "external_labels", name], `global.external_labels.${name}: "${expanded}" is not a valid label value`);
    external[name] = expanded;
  }

  const interval = g.scrape_interval || DEFAULT_SCRAPE_INTERVAL;
  const timeout = g.scrape_timeout ?? 0;
  if (timeout > interval) {
    throw src.error(["global", "scrape_timeout"], `global.scrape_timeout (${formatDuration(timeout)}) is greater than global.scrape_interval (${formatDuration(interval)})`);
  }
  let protocols: ScrapeProtocol[] | null = null;
  if (g.scrape_protocols) {
    const problem = checkScrapeProtocols(g.scrape_protocols);
    if (problem !== null) throw src.error(["global", "scrape_protocols"], `global.scrape_protocols: ${problem}`);
    protocols = g.scrape_protocols as ScrapeProtocol[];
  }
  let escaping = (g.metric_name_escaping_scheme ?? "") as EscapingScheme | "";
  if (escaping === "") escaping = scheme === "legacy" ? "underscores" : "allow-utf-8";
  if (!ESCAPING_SCHEMES.includes(escaping)) {
    throw src.error(["global", "metric_name_escaping_scheme"], `global.metric_name_escaping_scheme (${escaping}) must be one of ${ESCAPING_SCHEMES.join(", ")}`);
  }
  return {
    scrape_interval: interval,
    scrape_timeout: timeout || Math.min(DEFAULT_SCRAPE_TIMEOUT, interval),
    scrape_protocols: protocols,
    evaluation_interval: g.evaluation_interval || DEFAULT_EVALUATION_INTERVAL,
    rule_query_offset: g.rule_query_offset ?? 0,
    query_log_file: joinDir(opts.dir, g.query_log_file) ?? "",
    scrape_failure_log_file: joinDir(opts.dir, g.scrape_failure_log_file) ?? "",
    external_labels: external,
    body_size_limit: g.body_size_limit ?? 0,
    sample_limit: g.sample_limit ?? 0,
    target_limit: g.target_limit ?? 0,
    label_limit: g.label_limit ?? 0,
    label_name_length_limit: g.label_name_length_limit ?? 0,
    label_value_length_limit: g.label_value_length_limit ?? 0,
    keep_dropped_targets: g.keep_dropped_targets ?? 0,
    metric_name_validation_scheme: scheme,
    metric_name_escaping_scheme: escaping,
    scrape_native_histograms: g.scrape_native_histograms ?? false,
    convert_classic_histograms_to_nhcb: g.convert_classic_histograms_to_nhcb ?? false,
    always_scrape_classic_histograms: g.always_scrape_classic_histograms ?? false,
    extra_scrape_metrics: g.extra_scrape_metrics ?? false,
  };
}
