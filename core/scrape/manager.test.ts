import { expect, test } from "bun:test";
import { parseConfig } from "../config/load.ts";
import { createLogger } from "../log/logger.ts";
import { Registry } from "../metrics/registry.ts";
import { ScrapeManager } from "./manager.ts";
import { staticGroups } from "../../plugins/discovery/static/index.ts";
import type { Loop } from "./pool.ts";

function setup() {
  const events: string[] = [];
  const newLoop = (t: Loop["target"], c: { job_name: string; scrape_interval: number }): Loop => ({
    target: t,
    start: () => void events.push(`start ${c.job_name} ${t.labels.get("instance")} ${c.scrape_interval}`),
    stop: async (eor) => void events.push(`stop ${c.job_name} ${t.labels.get("instance")} ${eor}`),
    setForcedError: () => {},
    release: () => {},
    metadata: () => [],
    status: () => ({ health: "unknown", lastError: "", lastScrape: 0, lastScrapeDurationMs: 0 }),
  });
  const registry = new Registry();
  const m = new ScrapeManager(newLoop, createLogger({ level: "error", format: "logfmt", write: () => {} }), registry);
  return { m, events, registry };
}

const config = (jobs: string) => parseConfig(`scrape_configs:\n${jobs}`, "p.yml");
const job = (name: string, target: string, interval = "15s") => `  - job_name: ${name}\n    scrape_interval: ${interval}\n    static_configs:\n      - targets: ['${target}']\n`;

async function apply(m: ScrapeManager, yaml: string) {
  const cfg = config(yaml);
  await m.applyConfig(cfg);
  await m.updateTargets(new Map(cfg.scrape_configs.map((c) => [c.job_name, staticGroups(c.static_configs)])));
}

test("applying a config starts a loop per static target", async () => {
  const { m, events, registry } = setup();
  await apply(m, job("a", "x:1") + job("b", "y:1"));
  expect(events).toEqual(["start a x:1 15000", "start b y:1 15000"]);
  expect(registry.expose()).toContain("prometheus_target_scrape_pools_total 2\n");
});

test("an unchanged job keeps its loops, a changed job restarts them, a removed job stops", async () => {
  const { m, events } = setup();
  await apply(m, job("a", "x:1") + job("b", "y:1") + job("c", "z:1"));
  events.length = 0;
  await apply(m, job("a", "x:1") + job("b", "y:1", "30s"));
  // b's interval changed: its pool reloads, then re-sync replaces the target (new identity).
  expect(events).toContain("stop c z:1 false");
  expect(events).toContain("stop b y:1 false");
  expect(events.filter((e) => e.startsWith("start b"))).toContain("start b y:1 30000");
  expect(events.some((e) => e.includes(" a "))).toBe(false);
});

test("target groups for unknown jobs are ignored", async () => {
  const { m, events } = setup();
  await m.applyConfig(config(job("a", "x:1")));
  await m.updateTargets(new Map([["zzz", [{ source: "0", targets: [{ __address__: "q:1" }], labels: {} }]]]));
  expect(events).toEqual([]);
});

test("a target that cannot be created is counted in prometheus_target_sync_failed_total", async () => {
  const { m, registry } = setup();
  await apply(m, "  - job_name: a\n    relabel_configs:\n      - target_label: __address__\n        replacement: ''\n    static_configs:\n      - targets: ['x:1']\n");
  expect(registry.expose()).toContain('prometheus_target_sync_failed_total{scrape_job="a"} 1');
});
