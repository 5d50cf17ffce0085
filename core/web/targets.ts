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
