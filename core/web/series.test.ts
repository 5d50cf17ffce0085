import { beforeAll, expect, test } from "bun:test";
import { Hono } from "hono";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../log/logger.ts";
import { Registry } from "../metrics/registry.ts";
import { Labels } from "../model/labels.ts";
import { Tsdb } from "../../storage/tsdb/index.ts";
import { parseSelector } from "./selector.ts";
import { registerSeriesRoutes } from "./series.ts";

const T0 = 1_800_000_000_000;
let app: Hono;

beforeAll(async () => {
  const db = await Tsdb.open({ dir: mkdtempSync(join(tmpdir(), "gleaner-api-")), retentionMs: 0, retentionBytes: 0, registry: new Registry(), log: createLogger({ level: "error", format: "logfmt", write: () => {} }), now: () => T0 });
  const a = db.appender();
  a.append(0, Labels.from({ __name__: "up", job: "node", instance: "a:1" }), T0, 1);
  a.append(0, Labels.from({ __name__: "up", job: "api", instance: "b:1" }), T0, 1);
  a.append(0, Labels.from({ __name__: "http_requests_total", job: "api", code: "200" }), T0, 5);
  await a.commit();
  app = new Hono();
  registerSeriesRoutes(app, () => db);
});

const get = async (path: string) => {
  const res = await app.request(path);
  return { status: res.status, body: (await res.json()) as { status: string; data?: unknown; error?: string; errorType?: string; warnings?: string[] } };
};

test("/api/v1/series returns the matching label sets", async () => {
  expect((await get("/api/v1/series?match[]=up")).body).toEqual({ status: "success", data: [{ __name__: "up", instance: "a:1", job: "node" }, { __name__: "up", instance: "b:1", job: "api" }] });
  const two = await get(`/api/v1/series?match[]=${encodeURIComponent('{job="api"}')}&match[]=${encodeURIComponent('up{job="node"}')}`);
  expect((two.body.data as unknown[]).length).toBe(3);
});

test("/api/v1/series wants match[] and checks it, start and end", async () => {
  expect((await get("/api/v1/series")).body).toEqual({ status: "error", errorType: "bad_data", error: "no match[] parameter provided" });
  const bad = await get(`/api/v1/series?match[]=${encodeURIComponent("up{job=}")}`);
  expect(bad.status).toBe(400);
  expect(bad.body.error).toStartWith('invalid parameter "match[]": 1:8: parse error:');
  expect((await get(`/api/v1/series?match[]=${encodeURIComponent('{job=~".*"}')}`)).body.error).toContain("at least one non-empty matcher");
  expect((await get("/api/v1/series?match[]=up&start=yesterday")).body.error).toBe(`invalid parameter "start": Invalid time value for 'start': cannot parse "yesterday" to a valid timestamp`);
  // As in Prometheus 2.42: an inverted range is empty, not an error; match[] is checked first.
  expect((await get("/api/v1/series?match[]=up&start=10&end=5")).body).toEqual({ status: "success", data: [] });
  expect((await get("/api/v1/label/job/values?start=10&end=5")).body).toEqual({ status: "success", data: [] });
  expect((await get("/api/v1/series?start=abc")).body.error).toBe("no match[] parameter provided");
});

test("/api/v1/labels and /api/v1/label/<name>/values list names and values, with match[] and limit", async () => {
  expect((await get("/api/v1/labels")).body.data).toEqual(["__name__", "code", "instance", "job"]);
  expect((await get(`/api/v1/labels?match[]=up`)).body.data).toEqual(["__name__", "instance", "job"]);
  expect((await get("/api/v1/label/job/values")).body.data).toEqual(["api", "node"]);
  expect((await get(`/api/v1/label/job/values?match[]=${encodeURIComponent("http_requests_total")}`)).body.data).toEqual(["api"]);
  expect((await get("/api/v1/label/job/values?limit=1")).body).toEqual({ status: "success", data: ["api"], warnings: ["results truncated due to limit"] });
  expect((await get("/api/v1/label/__name__/values")).body.data).toEqual(["http_requests_total", "up"]);
});

test("/api/v1/status/tsdb reports head statistics and top cardinality", async () => {
  const r = (await get("/api/v1/status/tsdb?limit=1")).body.data as { headStats: { numSeries: number }; seriesCountByMetricName: unknown[] };
  expect(r.headStats.numSeries).toBe(3);
  expect(r.seriesCountByMetricName).toEqual([{ name: "up", value: 2 }]);
  expect((await get("/api/v1/status/tsdb?limit=0")).status).toBe(400);
});

test("parseSelector() reads PromQL vector selectors with Go string escapes", () => {
  expect(parseSelector('up{job="a\\"b",path!~`/x.*`, env = \'prod\'}')).toEqual([
    { type: "=", name: "__name__", value: "up" },
    { type: "=", name: "job", value: 'a"b' },
    { type: "!~", name: "path", value: "/x.*" },
    { type: "=", name: "env", value: "prod" },
  ]);
  expect(() => parseSelector('up{code=~"(5"}')).toThrow("invalid regular expression");
  expect(() => parseSelector("up[5m]")).toThrow("after the selector");
});
