/**
 * `/api/v1/targets` in Prometheus's JSON shape, and `/api/v1/targets/relabel_steps`, which
 * shows every relabel rule's output for a target, to answer "why was my target dropped?".
 */
import type { Hono } from "hono";
import { formatDuration } from "../config/duration.ts";
import { Labels } from "../model/labels.ts";
import { compileRelabel, relabelWithTrace } from "../relabel/index.ts";
import type { ScrapeManager } from "../scrape/manager.ts";
import { withJobDefaults } from "../scrape/target.ts";
import { apiError, ok } from "./api.ts";

/** Go's zero time, which Prometheus reports for a target never scraped. */
const NEVER = "0001-01-01T00:00:00Z";

export function registerTargetRoutes(app: Hono, manager: () => ScrapeManager | null): void {
  app.get("/api/v1/targets", (c) => {
    const state = c.req.query("state") ?? "any";
    if (!["active", "dropped", "any"].includes(state)) return apiError(c, "bad_data", `invalid state "${state}": must be active, dropped or any`);
    const wanted = c.req.queries("scrapePool") ?? [];
    const pools = [...(manager()?.pools() ?? new Map())].filter(([name]) => wanted.length === 0 || wanted.includes(name)).sort(([a], [b]) => (a < b ? -1 : 1));
    const activeTargets = [];
    const droppedTargets = [];
    const droppedTargetCounts: Record<string, number> = {};
    for (const [name, pool] of pools) {
      if (state !== "dropped") {
        for (const { target, status } of pool.activeTargets()) {
          activeTargets.push({
            discoveredLabels: target.discoveredLabels.toObject(),
            labels: target.publicLabels.toObject(),
            scrapePool: name,
            scrapeUrl: target.url,
            globalUrl: target.url,
            lastError: status.lastError,
            lastScrape: status.lastScrape === 0 ? NEVER : new Date(status.lastScrape).toISOString(),
            lastScrapeDuration: status.lastScrapeDurationMs / 1000,
            health: status.health,
            scrapeInterval: formatDuration(target.intervalMs),
            scrapeTimeout: formatDuration(target.timeoutMs),
          });
        }
      }
      const dropped = pool.droppedTargets();
      droppedTargetCounts[name] = dropped.count;
      if (state !== "active") {
        for (const d of dropped.targets) droppedTargets.push({ discoveredLabels: d.discoveredLabels.toObject(), scrapePool: name });
      }
    }
    return ok(c, { activeTargets, droppedTargets, droppedTargetCounts });
  });

  app.get("/api/v1/targets/relabel_steps", (c) => {
    const poolName = c.req.query("scrapePool");
    const raw = c.req.query("labels");
    if (poolName === undefined) return apiError(c, "bad_data", "scrapePool parameter is required");
    if (raw === undefined) return apiError(c, "bad_data", "labels parameter is required");
    let input: unknown;
    try {
      input = JSON.parse(raw);
    } catch (err) {
      return apiError(c, "bad_data", `error parsing labels: ${(err as Error).message}`);
    }
    if (input === null || typeof input !== "object" || Array.isArray(input) || !Object.values(input).every((v) => typeof v === "string")) {
      return apiError(c, "bad_data", 'error parsing labels: expected a JSON object of label names to string values, e.g. {"__address__":"host:9100"}');
    }
    const pool = manager()?.pools().get(poolName);
    if (pool === undefined) return apiError(c, "bad_data", `unknown scrape pool "${poolName}"`);
    const rules = pool.config.relabel_configs;
    // The rules see what they see when targets are built: the job's defaults added.
    const labels = withJobDefaults(Labels.from(input as Record<string, string>).toMap(), pool.config);
    const trace = relabelWithTrace(labels, compileRelabel(rules, pool.config.metric_name_validation_scheme));
    return ok(c, {
      steps: trace.steps.map((s) => ({ rule: rules[s.rule], output: s.dropped ? {} : s.after, keep: !s.dropped })),
    });
  });
}

/**
 * `/api/v1/targets/metadata` (per target) and `/api/v1/metadata` (per metric, deduplicated
 * across targets), from the metadata the targets exposed in recent scrapes.
 */
export function registerMetadataRoutes(app: Hono, manager: () => ScrapeManager | null): void {
  const limitParam = (value: string | undefined, name: string): number | string => {
    if (value === undefined || value === "") return -1;
    const n = Number(value);
    return Number.isInteger(n) ? n : `invalid ${name} "${value}": not an integer`;
  };

  app.get("/api/v1/targets/metadata", (c) => {
    const limit = limitParam(c.req.query("limit"), "limit");
    if (typeof limit === "string") return apiError(c, "bad_data", limit);
    const metric = c.req.query("metric") ?? "";
    const matchTarget = c.req.query("match_target") ?? "";
    const want = parseTargetMatchers(matchTarget);
    if (typeof want === "string") return apiError(c, "bad_data", want);
    const out = [];
    for (const pool of manager()?.pools().values() ?? []) {
      for (const { target, loop } of pool.activeTargets()) {
        if (!want.every(([n, v]) => target.labels.get(n) === v)) continue;
        for (const m of loop.metadata()) {
          if (metric !== "" && m.metric !== metric) continue;
          if (limit >= 0 && out.length >= limit) return ok(c, out);
          out.push({ target: target.publicLabels.toObject(), ...(metric === "" ? { metric: m.metric } : {}), type: m.type, help: m.help, unit: m.unit });
        }
      }
    }
    return ok(c, out);
  });

  app.get("/api/v1/metadata", (c) => {
    const limit = limitParam(c.req.query("limit"), "limit");
    if (typeof limit === "string") return apiError(c, "bad_data", limit);
    const perMetric = limitParam(c.req.query("limit_per_metric"), "limit_per_metric");
    if (typeof perMetric === "string") return apiError(c, "bad_data", perMetric);
    const metric = c.req.query("metric") ?? "";
    const byMetric = new Map<string, Array<{ type: string; help: string; unit: string }>>();
    for (const pool of manager()?.pools().values() ?? []) {
      for (const { loop } of pool.activeTargets()) {
        for (const m of loop.metadata()) {
          if (metric !== "" && m.metric !== metric) continue;
          const list = byMetric.get(m.metric) ?? [];
          if (!list.some((x) => x.type === m.type && x.help === m.help && x.unit === m.unit)) list.push({ type: m.type, help: m.help, unit: m.unit });
          byMetric.set(m.metric, list);
        }
      }
    }
    const data: Record<string, Array<{ type: string; help: string; unit: string }>> = {};
    for (const name of [...byMetric.keys()].sort()) {
      if (limit >= 0 && Object.keys(data).length >= limit) break;
      const list = byMetric.get(name)!;
      data[name] = perMetric >= 0 ? list.slice(0, perMetric) : list;
    }
    return ok(c, data);
  });
}

/** `{job="node",instance="a:9100"}`: equality matchers only, as the target metadata API needs. */
function parseTargetMatchers(text: string): Array<[string, string]> | string {
  const t = text.trim();
  if (t === "") return [];
  const m = /^\{(.*)\}$/s.exec(t);
  if (m === null) return `invalid match_target "${text}": expected a label selector such as {job="node"}`;
  const out: Array<[string, string]> = [];
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/gy;
  const rest = m[1]!;
  let match: RegExpExecArray | null;
  let last = 0;
  while (last < rest.length && (match = re.exec(rest)) !== null) {
    out.push([match[1]!, JSON.parse(`"${match[2]!}"`) as string]);
    last = re.lastIndex;
  }
  if (last < rest.trim().length) return `invalid match_target "${text}": only name="value" matchers are supported`;
  return out;
}
