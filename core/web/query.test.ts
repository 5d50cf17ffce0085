import { beforeAll, expect, test } from "bun:test";
import type { Hono } from "hono";
import { Labels } from "../model/labels.ts";
import { QueryEngine } from "../query/engine.ts";
import { MemoryStorage } from "../../storage/memory.ts";
import { columnsOf } from "../../storage/columns.ts";
import { testWebApp } from "../../test/support/web-app.ts";

const T0 = 1_800_000_000_000;
let app: Hono;
let storage: MemoryStorage;

beforeAll(async () => {
  storage = new MemoryStorage(() => T0);
  const a = storage.appender();
  for (let i = 0; i <= 20; i++) {
    a.append(0, Labels.from({ __name__: "http_requests_total", job: "api", code: "200" }), T0 - 600_000 + i * 30_000, i * 10);
    a.append(0, Labels.from({ __name__: "http_requests_total", job: "api", code: "500" }), T0 - 600_000 + i * 30_000, i);
  }
  await a.commit();
  const engine = new QueryEngine(columnsOf(storage), { maxSamples: 1000 });
  app = testWebApp({
    engine: () => engine,
    querier: () => storage,
  });
});

async function call(path: string, init?: RequestInit) {
  const res = await app.request(path, init);
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), text, body: text === "" ? null : (JSON.parse(text) as { status: string; errorType?: string; error?: string; data?: unknown; warnings?: string[] }) };
}

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
const post = (path: string, params: Record<string, string>) => call(path, { method: "POST", body: q(params), headers: { "Content-Type": "application/x-www-form-urlencoded" } });

test("instant query parameters are checked in Prometheus's order with its messages", async () => {
  expect((await call(`/api/v1/query?${q({ query: "up", time: "abc" })}`)).body?.error).toBe(`invalid parameter "time": Invalid time value for 'time': cannot parse "abc" to a valid timestamp`);
  expect((await call(`/api/v1/query?${q({ query: "up(", timeout: "1ns" })}`)).body?.error).toBe(`invalid parameter "timeout": cannot parse "1ns" to a valid duration`);
  const parse = await call(`/api/v1/query?${q({ query: "sum(" })}`);
  expect(parse).toMatchObject({ status: 400, type: "application/json", body: { status: "error", errorType: "bad_data", error: `invalid parameter "query": 1:5: parse error: unclosed left parenthesis` } });
  expect((await call(`/api/v1/query?${q({ query: "rate(up)" })}`)).body?.error).toBe(`invalid parameter "query": 1:6: parse error: expected type range vector in call to function "rate", got instant vector`);
  expect((await call(`/api/v1/query?${q({ query: "1", timeout: "0" })}`))).toMatchObject({ status: 503, body: { errorType: "timeout", error: "query timed out in query queue" } });
});

test("range query parameters follow Prometheus: start, end, step, the 11,000-point rule, then the query", async () => {
  const err = async (params: Record<string, string>) => (await call(`/api/v1/query_range?${q(params)}`)).body?.error;
  expect(await err({ query: "up", end: "2", step: "1" })).toBe(`invalid parameter "start": cannot parse "" to a valid timestamp`);
  expect(await err({ query: "up", start: "1", end: "x", step: "1" })).toBe(`invalid parameter "end": cannot parse "x" to a valid timestamp`);
  expect(await err({ query: "up", start: "10", end: "5", step: "1" })).toBe(`invalid parameter "end": end timestamp must not be before start time`);
  expect(await err({ query: "up", start: "1", end: "5" })).toBe(`invalid parameter "step": cannot parse "" to a valid duration`);
  expect(await err({ query: "up", start: "1", end: "5", step: "-1" })).toBe(`invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer`);
  expect(await err({ query: "up", start: "0", end: "11001", step: "1" })).toBe("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)");
  expect(String(await err({ query: "up", start: "0", end: "11000", step: "1s" }))).not.toContain("exceeded maximum resolution");
  expect(await err({ query: "sum(", start: "1", end: "5", step: "1" })).toBe("1:5: parse error: unclosed left parenthesis");
  expect(await err({ query: "up[5m]", start: "1", end: "5", step: "1" })).toBe(`invalid expression type "range vector" for range query, must be Scalar or instant Vector`);
  expect(await err({ query: "time()", start: "1", end: "1.001", step: "0.0001" })).toBe("unexpected error: runtime error: integer divide by zero");
});

test("POST form bodies work like GET query strings, and form values win over URL values", async () => {
  const bad = await post("/api/v1/query_range?step=1", { query: "sum(", start: "1", end: "2", step: "0" });
  expect(bad.body?.error).toContain("zero or negative query resolution step");
});

test("query_exemplars answers an empty list, and 204 for a query without selectors", async () => {
  expect((await call(`/api/v1/query_exemplars?${q({ query: "http_requests_total", start: "1", end: "2" })}`)).text).toBe('{"status":"success","data":[]}');
  const none = await post("/api/v1/query_exemplars", { query: "1" });
  expect({ status: none.status, text: none.text }).toEqual({ status: 204, text: "" });
  expect((await call(`/api/v1/query_exemplars?${q({ query: "up", start: "10", end: "5" })}`)).body?.error).toBe("end timestamp must not be before start timestamp");
  expect((await call(`/api/v1/query_exemplars?${q({ query: "up", start: "x" })}`)).body?.error).toBe(`invalid parameter "start": Invalid time value for 'start': cannot parse "x" to a valid timestamp`);
  expect((await call(`/api/v1/query_exemplars?${q({ query: "up{" })}`)).body?.error).toStartWith("1:4: parse error:");
});

test("format_query prints the canonical form or the parse error", async () => {
  expect((await call(`/api/v1/format_query?${q({ query: "sum(up)by(job)" })}`)).text).toBe('{"status":"success","data":"sum by (job) (up)"}');
  expect((await call("/api/v1/format_query")).body?.error).toBe(`invalid parameter "query": 1:1: parse error: no expression found in input`);
});

test("answers are gzipped for clients that accept gzip", async () => {
  const res = await app.request(`/api/v1/format_query?${q({ query: "up" })}`, { headers: { "Accept-Encoding": "gzip, deflate" } });
  expect(res.headers.get("content-encoding")).toBe("gzip");
  expect(res.headers.get("content-type")).toBe("application/json");
  expect(new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await res.arrayBuffer())))).toBe('{"status":"success","data":"up"}');
  expect((await app.request("/api/v1/format_query?query=up")).headers.get("content-encoding")).toBeNull();
});

test("status endpoints, rules and alerts answer in Prometheus's shapes", async () => {
  const build = (await call("/api/v1/status/buildinfo")).body?.data as Record<string, string>;
  expect(Object.keys(build).sort()).toEqual(["branch", "buildDate", "buildUser", "goVersion", "revision", "version"]);
  expect((await call("/api/v1/rules")).text).toBe('{"status":"success","data":{"groups":[]}}');
  const bad = await call("/api/v1/rules?type=bad");
  expect([bad.status, bad.text]).toEqual([400, '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"type\\": not supported value \\"bad\\""}']);
  expect((await call("/api/v1/alerts")).text).toBe('{"status":"success","data":{"alerts":[]}}');
  expect((await call("/api/v1/status/walreplay")).text).toBe('{"status":"success","data":{"min":0,"max":0,"current":0}}');
  expect((await call("/api/v1/alertmanagers")).text).toBe('{"status":"success","data":{"activeAlertmanagers":[],"droppedAlertmanagers":[]}}');
  const rt = (await call("/api/v1/status/runtimeinfo")).body?.data as Record<string, unknown>;
  expect(Object.keys(rt)).toEqual(["startTime", "CWD", "reloadConfigSuccess", "lastConfigTime", "corruptionCount", "goroutineCount", "GOMAXPROCS", "GOGC", "GODEBUG", "storageRetention"]);
});

test("bad queries get Prometheus's error JSON and status, and the API keeps answering", async () => {
  const healthy = async () => expect((await call(`/api/v1/query?${q({ query: "1+1", time: "4" })}`)).text).toBe('{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}');
  const cases: Array<[string, Record<string, string>, number, string, string]> = [
    ["query", { query: "sum(rate(x[5m])" }, 400, "bad_data", `invalid parameter "query": 1:16: parse error: unclosed left parenthesis`],
    ["query", { query: "foo bar" }, 400, "bad_data", `invalid parameter "query": 1:5: parse error: unexpected identifier "bar"`],
    ["query", { query: "abs(1, 2)" }, 400, "bad_data", `invalid parameter "query": 1:1: parse error: expected 1 argument(s) in call to "abs", got 2`],
    ["query", { query: '"a" + 1' }, 400, "bad_data", `invalid parameter "query": 1:1: parse error: binary expression must contain only scalar and instant vector types`],
    ["query", { query: "up @ NaN" }, 400, "bad_data", `invalid parameter "query": 1:1: parse error: timestamp out of bounds for @ modifier: NaN`],
    ["query", { query: "http_requests_total + on() http_requests_total", time: String(T0 / 1000) }, 422, "execution", ""],
    ["query_range", { query: "http_requests_total", start: String((T0 - 600_000) / 1000), end: String(T0 / 1000), step: "1" }, 422, "execution", "query processing would load too many samples into memory in query execution"],
    ["query_range", { query: "1", start: "-1e300", end: "1e300", step: "1e300" }, 400, "bad_data", ""],
    ["query_range", { query: "1", start: "0", end: "10", step: "NaN" }, 400, "bad_data", `invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer`],
    ["query_range", { query: "1", start: "0", end: "10", step: "Inf" }, 400, "bad_data", `invalid parameter "step": cannot parse "Inf" to a valid duration. It overflows int64`],
    ["query_range", { query: "1", start: "0", end: "86400000", step: "1" }, 400, "bad_data", "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"],
  ];
  for (const [path, params, status, errorType, error] of cases) {
    const r = await post(`/api/v1/${path}`, params);
    expect({ path, params, status: r.status, type: r.type, errorType: r.body?.errorType }).toEqual({ path, params, status, type: "application/json", errorType });
    if (error !== "") expect(r.body?.error).toBe(error);
    await healthy();
  }
});

test("a query running past its timeout answers 503 timeout", async () => {
  const engine = new QueryEngine(columnsOf(storage));
  const slow = testWebApp({ engine: () => engine });
  const res = await slow.request(`/api/v1/query?${q({ query: "count_over_time(vector(1)[1m:1ms])", time: "100", timeout: "0.001" })}`);
  expect(res.status).toBe(503);
  expect(await res.json()).toEqual({ status: "error", errorType: "timeout", error: "query timed out in expression evaluation" });
  expect((await slow.request(`/api/v1/query?${q({ query: "count_over_time(vector(1)[1m:1s])", time: "100" })}`)).status).toBe(200);
});

test("other methods on API paths get Prometheus's plain-text 405, which Grafana retries as GET", async () => {
  const res = await app.request("/api/v1/label/job/values", { method: "POST" });
  expect({ status: res.status, allow: res.headers.get("allow"), body: await res.text() }).toEqual({ status: 405, allow: "GET, OPTIONS", body: "Method Not Allowed\n" });
  expect((await app.request("/api/v1/query?query=1", { method: "DELETE" })).status).toBe(405);
  expect((await app.request("/api/v1/query?query=1", { method: "HEAD" })).status).toBe(200);
  expect((await app.request("/api/v1/nothing")).status).toBe(404);
});

// Known engine difference: Prometheus counts samples as they are loaded, so a selector with
// no series never exceeds --query.max-samples; gleaner's engine fails before evaluating.
test("a range query over no series succeeds even with more steps than max samples, as in Prometheus", async () => {
  const r = await call(`/api/v1/query_range?${q({ query: "sum(nonexistent)", start: "0", end: "11000", step: "1" })}`);
  expect(r.text).toBe('{"status":"success","data":{"resultType":"matrix","result":[]}}');
});

/** MemoryStorage with `n` series of `big`, 21 samples each ending at T0. */
async function bigStorage(n: number): Promise<MemoryStorage> {
  const s = new MemoryStorage(() => T0);
  for (let k = 0; k <= 20; k++) {
    const a = s.appender();
    for (let i = 0; i < n; i++) a.append(0, Labels.from({ __name__: "big", instance: `host-${i}:9100` }), T0 - 600_000 + k * 30_000, k * i);
    await a.commit();
  }
  return s;
}

test("a big answer is sent in chunks and reads back as the same JSON, gzipped or not", async () => {
  const s = await bigStorage(8000);
  const engine = new QueryEngine(s);
  const big = testWebApp({ engine: () => engine });
  const path = `/api/v1/query_range?${q({ query: "big", start: String((T0 - 300_000) / 1000), end: String(T0 / 1000), step: "30" })}`;
  const plain = await big.request(path);
  const text = await plain.text();
  const body = JSON.parse(text) as { data: { result: Array<{ metric: Record<string, string>; values: unknown[] }> } };
  expect(body.data.result).toHaveLength(8000);
  expect(body.data.result[0]!.values).toHaveLength(11);
  const zipped = await big.request(path, { headers: { "Accept-Encoding": "gzip" } });
  expect(zipped.headers.get("content-encoding")).toBe("gzip");
  expect(new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await zipped.arrayBuffer())))).toBe(text);
});

test("a client that disconnects cancels its query between slices", async () => {
  const s = await bigStorage(4000);
  const engine = new QueryEngine(s, { sliceMs: 0 });
  const outcomes: string[] = [];
  const watched = {
    instant: (...args: Parameters<QueryEngine["instant"]>) => {
      outcomes.push("started");
      return engine.instant(...args).then(
        (r) => (outcomes.push("answered"), r),
        (err: Error & { type?: string }) => {
          outcomes.push(err.type ?? err.message);
          throw err;
        },
      );
    },
  } as unknown as QueryEngine;
  const web = testWebApp({ engine: () => watched });
  const server = Bun.serve({ port: 0, fetch: web.fetch });
  const until = async (done: () => boolean) => {
    for (let i = 0; i < 5000 && !done(); i++) await new Promise((r) => setTimeout(r, 1));
  };
  try {
    const ac = new AbortController();
    const query = "sum(rate(big[5m])) + count(big) + sum(big)";
    const sent = fetch(`http://localhost:${server.port}/api/v1/query?${q({ query, time: String(T0 / 1000) })}`, { signal: ac.signal }).catch((err: Error) => err.name);
    await until(() => outcomes.length > 0);
    ac.abort();
    expect(await sent).toBe("AbortError");
    await until(() => outcomes.length > 1);
    expect(outcomes).toEqual(["started", "canceled"]);
  } finally {
    server.stop(true);
  }
});
