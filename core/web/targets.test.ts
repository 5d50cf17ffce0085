import { expect, test } from "bun:test";
import { Hono } from "hono";
import { parseConfig } from "../config/load.ts";
import { createLogger } from "../log/logger.ts";
import { Registry } from "../metrics/registry.ts";
import { ScrapeManager } from "../scrape/manager.ts";
import { staticGroups } from "../../plugins/discovery/static/index.ts";
import type { Loop } from "../scrape/pool.ts";
import { registerMetadataRoutes, registerTargetRoutes } from "./targets.ts";

async function setup() {
  const cfg = parseConfig(
    "scrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: [a:9100, drop:9100]\n    relabel_configs:\n      - source_labels: [__address__]\n        regex: drop.*\n        action: drop\n",
    "p.yml",
  );
  const manager = new ScrapeManager(
    (target): Loop => ({
      target,
      start: () => {},
      stop: async () => {},
      setForcedError: () => {},
      release: () => {},
      metadata: () => [
        { metric: "http_requests_total", type: "counter", help: "Requests.", unit: "" },
        { metric: "node_load1", type: "gauge", help: "Load.", unit: "" },
      ],
      status: () => ({ health: "down", lastError: "connection refused", lastScrape: Date.UTC(2026, 0, 2, 3, 4, 5, 600), lastScrapeDurationMs: 12 }),
    }),
    createLogger({ level: "error", format: "logfmt", write: () => {} }),
    new Registry(),
  );
  await manager.applyConfig(cfg);
  await manager.updateTargets(new Map([["node", staticGroups(cfg.scrape_configs[0]!.static_configs)]]));
  const app = new Hono();
  registerTargetRoutes(app, () => manager);
  registerMetadataRoutes(app, () => manager);
  return app;
}

test("/api/v1/targets lists active and dropped targets in Prometheus's shape", async () => {
  const res = await (await setup()).request("/api/v1/targets");
  expect(await res.json()).toEqual({
    status: "success",
    data: {
      activeTargets: [
        {
          discoveredLabels: {
            __address__: "a:9100", __metrics_path__: "/metrics", __scheme__: "http", __scrape_interval__: "1m", __scrape_timeout__: "10s",
            __scrape_native_histograms__: "false", __always_scrape_classic_histograms__: "false", __convert_classic_histograms_to_nhcb__: "false", job: "node",
          },
          labels: { instance: "a:9100", job: "node" },
          scrapePool: "node",
          scrapeUrl: "http://a:9100/metrics",
          globalUrl: "http://a:9100/metrics",
          lastError: "connection refused",
          lastScrape: "2026-01-02T03:04:05.600Z",
          lastScrapeDuration: 0.012,
          health: "down",
          scrapeInterval: "1m",
          scrapeTimeout: "10s",
        },
      ],
      droppedTargets: [{ discoveredLabels: expect.objectContaining({ __address__: "drop:9100", job: "node" }), scrapePool: "node" }],
      droppedTargetCounts: { node: 1 },
    },
  });
});

test("state and scrapePool filter the lists", async () => {
  const app = await setup();
  const dropped = (await (await app.request("/api/v1/targets?state=dropped")).json()) as { data: { activeTargets: unknown[]; droppedTargets: unknown[] } };
  expect([dropped.data.activeTargets.length, dropped.data.droppedTargets.length]).toEqual([0, 1]);
  const other = (await (await app.request("/api/v1/targets?scrapePool=other")).json()) as { data: { activeTargets: unknown[] } };
  expect(other.data.activeTargets).toEqual([]);
  const bad = await app.request("/api/v1/targets?state=sleeping");
  expect(bad.status).toBe(400);
  expect(await bad.json()).toEqual({ status: "error", errorType: "bad_data", error: 'invalid state "sleeping": must be active, dropped or any' });
});

test("relabel_steps shows each rule's output and which rule dropped the target", async () => {
  const app = await setup();
  const res = await app.request(`/api/v1/targets/relabel_steps?scrapePool=node&labels=${encodeURIComponent('{"__address__":"drop:9100"}')}`);
  const body = (await res.json()) as { data: { steps: Array<{ rule: { action: string }; output: object; keep: boolean }> } };
  expect(body.data.steps).toEqual([{ rule: expect.objectContaining({ action: "drop", regex: "drop.*" }), output: {}, keep: false }]);
  const kept = (await (await app.request(`/api/v1/targets/relabel_steps?scrapePool=node&labels=${encodeURIComponent('{"__address__":"a:1"}')}`)).json()) as typeof body;
  expect(kept.data.steps[0]).toMatchObject({ keep: true, output: expect.objectContaining({ __address__: "a:1", job: "node" }) });
});

test("relabel_steps rejects bad input with Prometheus's error shape", async () => {
  const app = await setup();
  for (const [q, msg] of [
    ["labels=%7B%7D", "scrapePool parameter is required"],
    ["scrapePool=node", "labels parameter is required"],
    ["scrapePool=node&labels=%7Bx", "error parsing labels"],
    ["scrapePool=node&labels=%5B1%5D", "expected a JSON object"],
    ["scrapePool=nope&labels=%7B%7D", 'unknown scrape pool "nope"'],
  ] as const) {
    const res = await app.request(`/api/v1/targets/relabel_steps?${q}`);
    expect(res.status, q).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain(msg);
  }
});

test("/api/v1/targets/metadata lists each target's metadata, filtered by match_target and metric", async () => {
  const app = await setup();
  const all = (await (await app.request("/api/v1/targets/metadata")).json()) as { data: unknown[] };
  expect(all.data).toEqual([
    { target: { instance: "a:9100", job: "node" }, metric: "http_requests_total", type: "counter", help: "Requests.", unit: "" },
    { target: { instance: "a:9100", job: "node" }, metric: "node_load1", type: "gauge", help: "Load.", unit: "" },
  ]);
  const one = (await (await app.request(`/api/v1/targets/metadata?metric=node_load1&match_target=${encodeURIComponent('{job="node"}')}`)).json()) as { data: unknown[] };
  expect(one.data).toEqual([{ target: { instance: "a:9100", job: "node" }, type: "gauge", help: "Load.", unit: "" }]);
  const none = (await (await app.request(`/api/v1/targets/metadata?match_target=${encodeURIComponent('{job="other"}')}`)).json()) as { data: unknown[] };
  expect(none.data).toEqual([]);
  expect((await app.request("/api/v1/targets/metadata?match_target=job")).status).toBe(400);
  expect((await app.request("/api/v1/targets/metadata?limit=x")).status).toBe(400);
});

test("/api/v1/metadata groups metadata by metric name", async () => {
  const app = await setup();
  const res = (await (await app.request("/api/v1/metadata")).json()) as { data: unknown };
  expect(res.data).toEqual({ http_requests_total: [{ type: "counter", help: "Requests.", unit: "" }], node_load1: [{ type: "gauge", help: "Load.", unit: "" }] });
  const limited = (await (await app.request("/api/v1/metadata?limit=1")).json()) as { data: object };
  expect(Object.keys(limited.data)).toEqual(["http_requests_total"]);
});
