/**
 * Loads a Prometheus `prometheus.yml` into a {@link Config}: unknown keys are errors, every
 * default and inherited value is applied, and every problem is reported as
 * `file:line:column: <yaml path> <what is wrong>`.
 *
 * @example
 * const config = loadConfigFile("prometheus.yml", { plugins });
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { z } from "zod";
import { PluginRegistry } from "../plugin.ts";
import { ConfigError, formatPath } from "./errors.ts";
import { resolveGlobal } from "./global.ts";
import { joinDir, resolveHttpClient, resolveTls, type Place } from "./http-client.ts";
import { resolveRelabel } from "./relabel.ts";
import { checkUniqueNames, resolveRemoteRead, resolveRemoteWrite } from "./remote.ts";
import { alertmanagerSchema, topSchema } from "./schema/top.ts";
import { scrapeSchema } from "./schema/scrape.ts";
import { resolveScrapeConfig, resolveStaticConfigs, type ScrapeContext } from "./scrape.ts";
import { takeServiceDiscovery } from "./service-discovery.ts";
import { ConfigSource, type PlainMap } from "./source.ts";
import type { ValidationScheme } from "../model/labels.ts";
import type { AlertmanagerConfig, Config, ScrapeConfig } from "./types.ts";
import { describe, rememberFields, validate } from "./validate.ts";

// Fields of schemas that are checked entry by entry, for "did you mean" hints anywhere.
for (const shape of [scrapeSchema.shape, alertmanagerSchema.shape]) rememberFields(shape);

export interface LoadOptions {
  /** Discovery plugins owning `*_sd_configs` keys; without one, only static_configs work. */
  plugins?: PluginRegistry;
  /** Environment for `external_labels` expansion; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Receives non-fatal findings (e.g. an empty environment variable). */
  warn?: (message: string) => void;
}

const GLOB_PATH = /^[^*]*(\*[^/]*)?$/;
const OTLP_STRATEGIES = ["UnderscoreEscapingWithSuffixes", "UnderscoreEscapingWithoutSuffixes", "NoUTF8EscapingWithSuffixes", "NoTranslation"];

function readSource(file: string): ConfigSource {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === "ENOENT" ? "no such file" : e.code === "EACCES" ? "permission denied" : e.code === "EISDIR" ? "is a directory" : e.message;
    throw new ConfigError(`${file}: cannot read config file: ${why}`, { file, line: 0, column: 0, path: "" });
  }
  return new ConfigSource(file, text);
}

/** Loads and validates the config file at `file` (and its `scrape_config_files`). */
export function loadConfigFile(file: string, opts: LoadOptions = {}): Config {
  return loadConfig(readSource(file), opts);
}

/** Validates config text as if read from `file` (used by tests and `check config`). */
export function parseConfig(text: string, file: string, opts: LoadOptions = {}): Config {
  return loadConfig(new ConfigSource(file, text), opts);
}

/** Expands a `scrape_config_files` / `rule_files` pattern; `*` only in the last element. */
export function expandGlob(pattern: string): string[] {
  if (!pattern.includes("*") && !pattern.includes("?") && !pattern.includes("[")) return [pattern].filter(exists);
  const dir = dirname(pattern);
  const glob = new Bun.Glob(basename(pattern));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => glob.match(n)).sort().map((n) => join(dir, n));
}

function exists(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

function loadConfig(src: ConfigSource, opts: LoadOptions): Config {
  const plugins = opts.plugins ?? new PluginRegistry();
  const warn = opts.warn ?? (() => {});
  const dir = resolve(dirname(src.file));
  const at: Place = { src, dir };
  const root = src.root;
  if (root !== null && (typeof root !== "object" || Array.isArray(root))) {
    throw src.error([], `the config file must be a map of settings, got ${Array.isArray(root) ? "a list" : `"${root}"`}`);
  }
  const top = validate(topSchema, root ?? {}, src, []);
  const global = resolveGlobal(top.global, src, { env: opts.env ?? process.env, warn, dir });
  const scheme = global.metric_name_validation_scheme;

  const globPaths = (key: "rule_files" | "scrape_config_files") =>
    (top[key] ?? []).map((p, i) => {
      if (!GLOB_PATH.test(p)) throw src.error([key, i], `${key}[${i}]: invalid ${key === "rule_files" ? "rule file" : "scrape config file"} path "${p}" (a * is allowed only in the last path element)`);
      return joinDir(dir, p) ?? p;
    });
  const ruleFiles = globPaths("rule_files");
  const scrapeConfigFiles = globPaths("scrape_config_files");

  // Jobs of the main file, then of each scrape_config_files match, all under one global.
  const ctx: ScrapeContext = { src, dir, global, plugins, warn };
  const jobs = new Map<string, string>();
  const scrapeConfigs: ScrapeConfig[] = [];
  const addJob = (job: ScrapeConfig, s: ConfigSource, path: Array<string | number>) => {
    const first = jobs.get(job.job_name);
    if (first !== undefined) {
      const where = first === s.file ? "" : `, first found in ${first}`;
      throw s.error([...path, "job_name"], `${formatPath([...path, "job_name"])}: found multiple scrape configs with job name "${job.job_name}"${where}`);
    }
    jobs.set(job.job_name, s.file);
    scrapeConfigs.push(job);
  };
  (top.scrape_configs ?? []).forEach((raw, i) => addJob(resolveScrapeConfig(raw as never, ["scrape_configs", i], ctx, src.file), src, ["scrape_configs", i]));
  for (const pattern of scrapeConfigFiles) {
    for (const file of expandGlob(pattern)) {
      const sub = readSource(file);
      const subTop = validate(z.strictObject({ scrape_configs: z.array(z.unknown()).nullish() }), sub.root ?? {}, sub, []);
      const subCtx: ScrapeContext = { ...ctx, src: sub, dir: dirname(resolve(file)) };
      (subTop.scrape_configs ?? []).forEach((raw, i) => addJob(resolveScrapeConfig(raw as never, ["scrape_configs", i], subCtx, file), sub, ["scrape_configs", i]));
    }
  }

  const remoteWrite = (top.remote_write ?? []).map((r, i) => resolveRemoteWrite(r, at, ["remote_write", i], scheme));
  checkUniqueNames(remoteWrite, at, "remote_write");
  const remoteRead = (top.remote_read ?? []).map((r, i) => resolveRemoteRead(r, at, ["remote_read", i]));
  checkUniqueNames(remoteRead, at, "remote_read");

  return {
    file: src.file,
    global,
    runtime: { gogc: top.runtime?.gogc || 75 },
    alerting: resolveAlerting(top, at, plugins, scheme),
    rule_files: ruleFiles,
    scrape_config_files: scrapeConfigFiles,
    scrape_configs: scrapeConfigs,
    storage: {
      tsdb: {
        out_of_order_time_window: top.storage?.tsdb?.out_of_order_time_window ?? 0,
        retention: { time: top.storage?.tsdb?.retention?.time ?? 0, size: top.storage?.tsdb?.retention?.size ?? 0 },
      },
      exemplars: { max_exemplars: top.storage?.exemplars?.max_exemplars ?? 100_000 },
    },
    tracing: resolveTracing(top, at),
    remote_write: remoteWrite,
    remote_read: remoteRead,
    otlp: resolveOtlp(top, at, scheme),
    plugins: (top.plugins ?? []).map((p) => joinDir(dir, p) ?? p),
  };
}

function resolveAlerting(top: z.output<typeof topSchema>, at: Place, plugins: PluginRegistry, scheme: ValidationScheme): Config["alerting"] {
  const alerting = top.alerting;
  const managers: AlertmanagerConfig[] = (alerting?.alertmanagers ?? []).map((raw, i) => {
    const path = ["alerting", "alertmanagers", i];
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw at.src.error(path, `${formatPath(path)}: expected an Alertmanager config (a map), got ${describe(raw)}`);
    }
    const { rest, configs } = takeServiceDiscovery(raw as PlainMap, at.src, path, at.dir, plugins);
    const am = validate(alertmanagerSchema, rest, at.src, path);
    const version = am.api_version ?? "v2";
    if (version !== "v2") throw at.src.error([...path, "api_version"], `${formatPath(path)}.api_version: expected Alertmanager api version to be one of [v2] but got ${version}`);
    if (am.sigv4) throw at.src.error([...path, "sigv4"], `${formatPath(path)}.sigv4: not supported by gleaner yet`, "key");
    const relabel = (am.relabel_configs ?? []).map((r, j) => resolveRelabel(r, at.src, [...path, "relabel_configs", j], scheme));
    return {
      ...resolveHttpClient(am, at, path),
      scheme: am.scheme ?? "http",
      path_prefix: am.path_prefix ?? "",
      timeout: am.timeout ?? 10_000,
      api_version: "v2",
      relabel_configs: relabel,
      alert_relabel_configs: (am.alert_relabel_configs ?? []).map((r, j) => resolveRelabel(r, at.src, [...path, "alert_relabel_configs", j], scheme)),
      static_configs: resolveStaticConfigs(am.static_configs ?? [], at.src, path, scheme, relabel.length === 0),
      service_discovery: configs,
    };
  });
  return {
    alert_relabel_configs: (alerting?.alert_relabel_configs ?? []).map((r, i) => resolveRelabel(r, at.src, ["alerting", "alert_relabel_configs", i], scheme)),
    alertmanagers: managers,
  };
}

function resolveTracing(top: z.output<typeof topSchema>, at: Place): Config["tracing"] {
  const t = top.tracing;
  if (t === null || t === undefined) return null;
  if (!t.endpoint) throw at.src.error(["tracing"], "tracing: tracing endpoint must be set");
  const compression = t.compression ?? "";
  if (compression !== "" && compression !== "gzip") throw at.src.error(["tracing", "compression"], `tracing.compression (${compression}) is not a valid compression type, valid options: gzip`);
  for (const name of Object.keys(t.headers ?? {})) {
    if (name.toLowerCase() === "authorization") throw at.src.error(["tracing", "headers", name], "tracing.headers: custom authorization header configuration is not yet supported", "key");
  }
  return {
    client_type: t.client_type ?? "grpc",
    endpoint: t.endpoint,
    sampling_fraction: t.sampling_fraction ?? 0,
    insecure: t.insecure ?? false,
    tls_config: resolveTls(t.tls_config, at, ["tracing"]),
    headers: t.headers ?? {},
    compression,
    timeout: t.timeout ?? 0,
  };
}

function resolveOtlp(top: z.output<typeof topSchema>, at: Place, scheme: string): Record<string, unknown> {
  const o = top.otlp ?? {};
  const strategy = o.translation_strategy ?? "UnderscoreEscapingWithSuffixes";
  if (!OTLP_STRATEGIES.includes(strategy)) throw at.src.error(["otlp", "translation_strategy"], `otlp.translation_strategy: unsupported OTLP translation strategy "${strategy}"`);
  if (scheme === "legacy" && (strategy === "NoTranslation" || strategy === "NoUTF8EscapingWithSuffixes")) {
    throw at.src.error(["otlp", "translation_strategy"], `otlp.translation_strategy: OTLP translation strategy "${strategy}" is not allowed when UTF8 is disabled`);
  }
  if (o.promote_all_resource_attributes && (o.promote_resource_attributes ?? []).length > 0) {
    throw at.src.error(["otlp"], "otlp: 'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured simultaneously");
  }
  if (!o.promote_all_resource_attributes && (o.ignore_resource_attributes ?? []).length > 0) {
    throw at.src.error(["otlp", "ignore_resource_attributes"], "otlp: 'ignore_resource_attributes' cannot be configured unless 'promote_all_resource_attributes' is true");
  }
  return {
    promote_all_resource_attributes: o.promote_all_resource_attributes ?? false,
    promote_resource_attributes: o.promote_resource_attributes ?? [],
    ignore_resource_attributes: o.ignore_resource_attributes ?? [],
    translation_strategy: strategy,
    keep_identifying_resource_attributes: o.keep_identifying_resource_attributes ?? false,
    convert_histograms_to_nhcb: o.convert_histograms_to_nhcb ?? false,
    promote_scope_metadata: o.promote_scope_metadata ?? false,
    label_name_underscore_sanitization: o.label_name_underscore_sanitization ?? true,
    label_name_preserve_multiple_underscores: o.label_name_preserve_multiple_underscores ?? true,
  };
}
