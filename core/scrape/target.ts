/**
 * From a discovered target to a scrape target (spec §2.1–2.3): labels with defaults,
 * relabeling, validation, the scrape URL, a stable identity and a fixed scrape phase.
 */
import { formatDuration, parseDuration } from "../config/duration.ts";
import type { ScrapeConfig } from "../config/types.ts";
import { Labels } from "../model/labels.ts";
import { encodeValues } from "./http/query.ts";
import { relabel, relabelWithTrace, type CompiledRule, type RelabelTrace } from "../relabel/index.ts";

export interface Target {
  /** Every label after relabeling, `__meta_*` removed; `__` labels included. */
  labels: Labels;
  /** The labels relabeling started from: discovery's plus the job's defaults (UI and API). */
  discoveredLabels: Labels;
  /** The labels every scraped and report series gets: those not starting with `__`. */
  publicLabels: Labels;
  url: string;
  intervalMs: number;
  timeoutMs: number;
  /** Stable identity: equal for targets that would scrape the same thing. */
  hash: bigint;
}

export type TargetResult =
  | { kind: "target"; target: Target }
  | { kind: "dropped"; discoveredLabels: Labels; trace?: RelabelTrace }
  | { kind: "error"; discoveredLabels: Labels; error: string };

const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);
const HISTOGRAM_FLAGS = [
  ["__scrape_native_histograms__", "scrape_native_histograms"],
  ["__always_scrape_classic_histograms__", "always_scrape_classic_histograms"],
  ["__convert_classic_histograms_to_nhcb__", "convert_classic_histograms_to_nhcb"],
] as const;

/** The labels a discovered target starts with: its own, then its group's where unset. */
export function mergeGroupLabels(target: Record<string, string>, group: Record<string, string>): Map<string, string> {
  const m = new Map(Object.entries(target));
  for (const [k, v] of Object.entries(group)) if (!m.has(k)) m.set(k, v);
  return m;
}

function setDefault(m: Map<string, string>, name: string, value: string): void {
  if ((m.get(name) ?? "") === "") m.set(name, value);
}

/** Discovered labels plus the job's defaults where unset or empty (spec §2.1 step 2). */
export function withJobDefaults(discovered: ReadonlyMap<string, string>, cfg: ScrapeConfig): Map<string, string> {
  const m = new Map(discovered);
  setDefault(m, "job", cfg.job_name);
  setDefault(m, "__scrape_interval__", formatDuration(cfg.scrape_interval));
  setDefault(m, "__scrape_timeout__", formatDuration(cfg.scrape_timeout));
  setDefault(m, "__metrics_path__", cfg.metrics_path);
  setDefault(m, "__scheme__", cfg.scheme);
  for (const [label, key] of HISTOGRAM_FLAGS) setDefault(m, label, String(cfg[key]));
  for (const [k, values] of Object.entries(cfg.params)) {
    if (values[0] !== undefined) setDefault(m, `__param_${k}`, values[0]);
  }
  return m;
}

/**
 * Builds a scrape target from discovered labels (spec §2.1). `rules` are the job's
 * compiled relabel_configs. With `trace`, a dropped target carries the relabel trace.
 */
export function populateTarget(discovered: Map<string, string>, cfg: ScrapeConfig, rules: readonly CompiledRule[], trace = false): TargetResult {
  const m = withJobDefaults(discovered, cfg);
  // As in Prometheus, "discovered labels" include the job's defaults: what relabeling saw.
  const discoveredLabels = Labels.from(m);

  if (trace) {
    const t = relabelWithTrace(m, rules);
    if (!t.kept) return { kind: "dropped", discoveredLabels, trace: t };
  } else if (!relabel(m, rules)) {
    return { kind: "dropped", discoveredLabels };
  }
  for (const [k, v] of m) if (v === "") m.delete(k);
  if (m.size === 0) return { kind: "dropped", discoveredLabels };

  const fail = (error: string): TargetResult => ({ kind: "error", discoveredLabels, error });
  const address = m.get("__address__") ?? "";
  if (address === "") return fail("no address");
  if (address.includes("/")) return fail(`"${address}" is not a valid hostname`);

  let intervalMs: number;
  let timeoutMs: number;
  try {
    intervalMs = parseDuration(m.get("__scrape_interval__") ?? "");
  } catch (err) {
    return fail(`error parsing scrape interval: ${(err as Error).message}`);
  }
  try {
    timeoutMs = parseDuration(m.get("__scrape_timeout__") ?? "");
  } catch (err) {
    return fail(`error parsing scrape timeout: ${(err as Error).message}`);
  }
  if (intervalMs === 0) return fail("scrape interval cannot be 0");
  if (timeoutMs === 0) return fail("scrape timeout cannot be 0");
  if (timeoutMs > intervalMs) {
    return fail(`scrape timeout cannot be greater than scrape interval ("${formatDuration(timeoutMs)}" > "${formatDuration(intervalMs)}")`);
  }
  for (const [label] of HISTOGRAM_FLAGS) {
    const v = m.get(label);
    if (v !== undefined && !GO_TRUE.has(v) && !GO_FALSE.has(v)) return fail(`invalid ${label} label value "${v}": not a boolean`);
  }

  for (const k of [...m.keys()]) if (k.startsWith("__meta_")) m.delete(k);
  setDefault(m, "instance", address);
  for (const [k, v] of m) {
    if (!v.isWellFormed()) return fail(`invalid label value for "${k}": "${v}"`);
  }

  const labels = Labels.from(m);
  const url = targetURL(labels, cfg.params);
  return {
    kind: "target",
    target: {
      labels,
      discoveredLabels,
      publicLabels: Labels.from([...labels].filter(([k]) => !k.startsWith("__"))),
      url,
      intervalMs,
      timeoutMs,
      hash: Bun.hash.wyhash(`${labels.key}\u0001${url}`),
    },
  };
}

/** scheme://address/metrics_path?params, with `__param_k` replacing the first value of k. */
export function targetURL(labels: Labels, params: Record<string, string[]>): string {
  const query = new Map<string, string[]>(Object.entries(params).map(([k, v]) => [k, [...v]]));
  for (const [k, v] of labels) {
    if (!k.startsWith("__param_")) continue;
    const name = k.slice("__param_".length);
    const values = query.get(name);
    if (values === undefined || values.length === 0) query.set(name, [v]);
    else values[0] = v;
  }
  const encoded = encodeValues(query);
  const path = labels.get("__metrics_path__");
  return `${labels.get("__scheme__")}://${labels.get("__address__")}${path.startsWith("/") || path === "" ? path : `/${path}`}${encoded ? `?${encoded}` : ""}`;
}

/**
 * The delay before a target's first scrape, so that it is scraped at a fixed phase of
 * wall-clock time modulo the interval (spec §2.3). `seed` differs per gleaner instance.
 */
export function scrapeOffset(hash: bigint, seed: bigint, intervalMs: number, nowMs: number): number {
  const interval = BigInt(intervalMs);
  const base = interval - (BigInt(Math.floor(nowMs)) % interval);
  const off = ((hash ^ seed) & 0xffffffffffffffffn) % interval;
  let next = base + off;
  if (next > interval) next -= interval;
  return Number(next);
}

/** This instance's offset seed: a hash of the host name and the external labels. */
export function offsetSeed(hostname: string, externalLabels: Record<string, string>): bigint {
  return Bun.hash.wyhash(`${hostname}\u0000${Labels.from(externalLabels).toString()}`);
}
