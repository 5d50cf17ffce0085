/** `scrape_configs` entries: defaults, inheritance from `global` (spec §1.3) and checks. */
import { isValidLabelName, isValidLabelValue } from "../model/labels.ts";
import type { PluginRegistry } from "../plugin.ts";
import { formatDuration } from "./duration.ts";
import { formatPath, type PathSegment } from "./errors.ts";
import { checkScrapeProtocols, DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS, DEFAULT_SCRAPE_PROTOCOLS, ESCAPING_SCHEMES, parseValidationScheme, SCRAPE_PROTOCOL_MEDIA_TYPES } from "./global.ts";
import { joinDir, resolveHttpClient } from "./http-client.ts";
import { resolveRelabel } from "./relabel.ts";
import { scrapeSchema, staticConfigSchema } from "./schema/scrape.ts";
import type { z } from "zod";
import { takeServiceDiscovery } from "./service-discovery.ts";
import type { ConfigSource, Plain } from "./source.ts";
import type { EscapingScheme, GlobalConfig, ScrapeConfig, ScrapeProtocol, StaticConfig } from "./types.ts";
import { validate } from "./validate.ts";

export interface ScrapeContext {
  src: ConfigSource;
  dir: string;
  global: GlobalConfig;
  plugins: PluginRegistry;
  warn: (message: string) => void;
}

/** Validates static groups; targets with "/" are rejected when the job has no relabeling. */
export function resolveStaticConfigs(
  raw: Array<z.output<typeof staticConfigSchema>>,
  src: ConfigSource,
  path: readonly PathSegment[],
  scheme: GlobalConfig["metric_name_validation_scheme"],
  checkAddresses: boolean,
): StaticConfig[] {
  return raw.map((group, i) => {
    const gp = [...path, "static_configs", i];
    const labels = group.labels ?? {};
    for (const [name, value] of Object.entries(labels)) {
      if (!isValidLabelName(name, scheme)) throw src.error([...gp, "labels", name], `${formatPath(gp)}.labels: "${name}" is not a valid label name`, "key");
      if (!isValidLabelValue(value)) throw src.error([...gp, "labels", name], `${formatPath(gp)}.labels.${name}: "${value}" is not a valid label value`);
    }
    const targets = group.targets ?? [];
    if (checkAddresses) {
      targets.forEach((t, j) => {
        if (t.includes("/")) {
          throw src.error([...gp, "targets", j], `${formatPath([...gp, "targets", j])}: "${t}" is not a valid hostname (a target is host:port; put the path in metrics_path and the scheme in scheme)`);
        }
      });
    }
    return { targets, labels };
  });
}

export function resolveScrapeConfig(raw: Plain, path: readonly PathSegment[], ctx: ScrapeContext, sourceFile: string): ScrapeConfig {
  const { src, global } = ctx;
  const where = formatPath(path);
  if (raw === null) throw src.error(path, `${where}: empty or null scrape config section`);
  if (typeof raw !== "object" || Array.isArray(raw)) throw src.error(path, `${where}: expected a map, got ${typeof raw === "string" ? `"${raw}"` : "a list"}`);

  const { rest, configs } = takeServiceDiscovery(raw, src, path, ctx.dir, ctx.plugins);
  const c = validate(scrapeSchema, rest, src, path);
  const err = (key: string, msg: string) => src.error([...path, key], msg);

  const job = c.job_name ?? "";
  if (job === "") throw src.error(c.job_name === undefined ? path : [...path, "job_name"], `${where}: job_name is empty`);
  const name = `${where} (job "${job}")`;

  const interval = c.scrape_interval || global.scrape_interval;
  const explicitTimeout = c.scrape_timeout ?? 0;
  if (explicitTimeout > interval) {
    throw err("scrape_timeout", `${where}.scrape_timeout (${formatDuration(explicitTimeout)}) is greater than scrape_interval (${formatDuration(interval)})`);
  }
  const timeout = explicitTimeout || Math.min(global.scrape_timeout, interval);
  const nativeHistograms = c.scrape_native_histograms ?? global.scrape_native_histograms;

  let protocols: ScrapeProtocol[];
  if (c.scrape_protocols) {
    const problem = checkScrapeProtocols(c.scrape_protocols);
    if (problem !== null) throw err("scrape_protocols", `${where}.scrape_protocols: ${problem}`);
    protocols = c.scrape_protocols as ScrapeProtocol[];
  } else if (global.scrape_protocols !== null) protocols = global.scrape_protocols;
  else protocols = nativeHistograms ? DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS : DEFAULT_SCRAPE_PROTOCOLS;

  const fallback = c.fallback_scrape_protocol;
  if (fallback && !(fallback in SCRAPE_PROTOCOL_MEDIA_TYPES)) {
    throw err("fallback_scrape_protocol", `${where}.fallback_scrape_protocol (${fallback}) is not a scrape protocol, supported: [${Object.keys(SCRAPE_PROTOCOL_MEDIA_TYPES).sort().join(" ")}]`);
  }

  const localScheme = parseValidationScheme(c.metric_name_validation_scheme ?? "", src, [...path, "metric_name_validation_scheme"]);
  const scheme = localScheme ?? global.metric_name_validation_scheme;
  let escaping = (c.metric_name_escaping_scheme ?? "") as EscapingScheme | "";
  if (escaping === "") {
    escaping = localScheme === null ? global.metric_name_escaping_scheme : scheme === "legacy" ? "underscores" : "allow-utf-8";
  }
  if (!ESCAPING_SCHEMES.includes(escaping)) {
    throw err("metric_name_escaping_scheme", `${where}.metric_name_escaping_scheme (${escaping}) must be one of ${ESCAPING_SCHEMES.join(", ")}`);
  }
  if (escaping === "allow-utf-8" && scheme !== "utf8") {
    throw err("metric_name_escaping_scheme", `${name}: utf8 metric names requested (metric_name_escaping_scheme: allow-utf-8) but metric_name_validation_scheme is legacy`);
  }

  const http = resolveHttpClient(c, { src, dir: ctx.dir }, path);
  const relabel = (c.relabel_configs ?? []).map((r, i) => resolveRelabel(r, src, [...path, "relabel_configs", i], scheme));
  const metricRelabel = (c.metric_relabel_configs ?? []).map((r, i) => resolveRelabel(r, src, [...path, "metric_relabel_configs", i], scheme));
  const statics = resolveStaticConfigs(c.static_configs ?? [], src, path, scheme, relabel.length === 0);

  const out: ScrapeConfig = {
    ...http,
    job_name: job,
    honor_labels: c.honor_labels ?? false,
    honor_timestamps: c.honor_timestamps ?? true,
    track_timestamps_staleness: c.track_timestamps_staleness ?? false,
    params: Object.fromEntries(Object.entries(c.params ?? {}).map(([k, v]) => [k, v ?? []])),
    scrape_interval: interval,
    scrape_timeout: timeout,
    scrape_protocols: protocols,
    scrape_native_histograms: nativeHistograms,
    always_scrape_classic_histograms: c.always_scrape_classic_histograms ?? global.always_scrape_classic_histograms,
    convert_classic_histograms_to_nhcb: c.convert_classic_histograms_to_nhcb ?? global.convert_classic_histograms_to_nhcb,
    scrape_failure_log_file: joinDir(ctx.dir, c.scrape_failure_log_file) ?? global.scrape_failure_log_file,
    metrics_path: c.metrics_path ?? "/metrics",
    scheme: c.scheme ?? "http",
    enable_compression: c.enable_compression ?? true,
    // 0 means "inherit": a job cannot switch off a non-zero global limit (as Prometheus).
    body_size_limit: c.body_size_limit || global.body_size_limit,
    sample_limit: c.sample_limit || global.sample_limit,
    target_limit: c.target_limit || global.target_limit,
    label_limit: c.label_limit || global.label_limit,
    label_name_length_limit: c.label_name_length_limit || global.label_name_length_limit,
    label_value_length_limit: c.label_value_length_limit || global.label_value_length_limit,
    native_histogram_bucket_limit: c.native_histogram_bucket_limit ?? 0,
    native_histogram_min_bucket_factor: c.native_histogram_min_bucket_factor ?? 0,
    keep_dropped_targets: c.keep_dropped_targets || global.keep_dropped_targets,
    metric_name_validation_scheme: scheme,
    metric_name_escaping_scheme: escaping,
    extra_scrape_metrics: c.extra_scrape_metrics ?? global.extra_scrape_metrics,
    relabel_configs: relabel,
    metric_relabel_configs: metricRelabel,
    static_configs: statics,
    service_discovery: configs,
    source_file: sourceFile,
  };
  if (fallback) out.fallback_scrape_protocol = fallback as ScrapeProtocol;
  // Accepted so Prometheus configs load, but native histograms are not stored yet.
  for (const key of ["scrape_native_histograms", "convert_classic_histograms_to_nhcb"] as const) {
    if (out[key]) ctx.warn(`${where}.${key}: native histograms are not supported yet; classic histograms are scraped as series`);
  }
  return out;
}
