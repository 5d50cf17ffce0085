// Exemplar storage against Debian's Prometheus 2.42: both run with
// --enable-feature=exemplar-storage and scrape the same OpenMetrics target, whose exemplars
// change in steps the test controls (new ones, repeats, one out of order). Then
// /api/v1/query_exemplars must answer the same JSON on both for the same requests.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "../../core/server.ts";
import { missingPeers, PEERS, startPeer, type RunningPeer } from "../support/peers.ts";
import { startTestServer } from "../support/server.ts";

const missing = await missingPeers(PEERS.prometheus);

const T = 1_795_000_000; // exemplar timestamps (s), far from now: only the exemplars' own times matter

/** The exposition at step `n`: exemplars with their own timestamps, plus one without. */
function exposition(n: number): string {
  const lines = [
    "# TYPE step gauge",
    `step ${n}`,
    "# TYPE http_requests counter",
    // Step 3 goes back in time on this series: an out-of-order exemplar, rejected by both.
    `http_requests_total{path="/api"} ${100 + n} # {trace_id="api-${n}"} ${n}.5 ${n === 3 ? T : T + n * 10}`,
    `http_requests_total{path="/"} ${n} # {trace_id="root-${Math.min(n, 2)}",span_id="s"} ${Math.min(n, 2)} ${T + Math.min(n, 2) * 10}.123`,
    "# TYPE http_request_duration_seconds histogram",
    `http_request_duration_seconds_bucket{le="0.1"} ${n} # {trace_id="fast-${n}"} 0.05 ${T + n * 10 + 1}`,
    // le values already in float form: Prometheus 3.x (gleaner's reference) writes le="1" as
    // "1.0", while 2.42 keeps it as exposed.
    `http_request_duration_seconds_bucket{le="1.0"} ${2 * n} # {trace_id="slow-${n}"} 0.7 ${T + n * 10 + 2}`,
    `http_request_duration_seconds_bucket{le="+Inf"} ${2 * n}`,
    `http_request_duration_seconds_count ${2 * n}`,
    `http_request_duration_seconds_sum ${n}`,
    "# TYPE jobs counter",
    // No timestamp: the exemplar takes the scrape's, which differs between the two scrapers.
    `jobs_total ${n} # {job_id="j${n}"} 1`,
    "# EOF",
    "",
  ];
  return lines.join("\n");
}

describe.skipIf(missing !== null)("exemplar storage, side by side with Prometheus 2.42", () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-exemplars-"));
  let step = 1;
  let target: ReturnType<typeof Bun.serve>;
  let gleaner: Server;
  let prom: RunningPeer;

  const get = async (base: string, path: string, params: Record<string, string>) => {
    const r = await fetch(`${base}${path}?${new URLSearchParams(params)}`);
    return { status: r.status, body: await r.text() };
  };
  const stepSeen = async (base: string, n: number) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = JSON.parse((await get(base, "/api/v1/query", { query: "step" })).body) as { data: { result: Array<{ value: [number, string] }> } };
      if (r.data.result[0]?.value[1] === String(n)) return;
      if (Date.now() > deadline) throw new Error(`${base} did not scrape step ${n}: ${JSON.stringify(r)}`);
      await Bun.sleep(100);
    }
  };

  beforeAll(async () => {
    target = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response(exposition(step), { headers: { "Content-Type": "application/openmetrics-text; version=1.0.0; charset=utf-8" } }),
    });
    const config = `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:${target.port}']\nstorage:\n  exemplars:\n    max_exemplars: 1000\n`;
    gleaner = await startTestServer(dir, config, { features: new Set(["exemplar-storage"]) });
    prom = await startPeer(PEERS.prometheus, (p, d) => {
      writeFileSync(`${d}/prometheus.yml`, config);
      return [`--config.file=${d}/prometheus.yml`, `--storage.tsdb.path=${d}/data`, `--web.listen-address=127.0.0.1:${p}`, "--enable-feature=exemplar-storage"];
    });
    for (const n of [1, 2, 3]) {
      step = n;
      await Promise.all([stepSeen(gleaner.url.origin, n), stepSeen(prom.url, n)]);
      // One more scrape of this step on both: repeats must be no-ops.
      await Bun.sleep(1200);
    }
  }, 90_000);

  afterAll(async () => {
    await prom?.stop();
    await gleaner?.stop("test done");
    target?.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  const requests: Array<Record<string, string>> = [
    { query: "http_requests_total", start: String(T - 100), end: String(T + 100) },
    { query: 'http_requests_total{path="/api"}', start: String(T + 15), end: String(T + 25) },
    { query: "rate(http_request_duration_seconds_bucket[5m])", start: String(T), end: String(T + 1000) },
    { query: 'sum(rate(http_requests_total{path=~"/.*"}[1m])) / on() group_left http_request_duration_seconds_bucket{le="1.0"}', start: String(T), end: String(T + 1000) },
    { query: '{__name__=~"http_.+"}', start: String(T + 20.123), end: String(T + 22) },
    { query: "http_requests_total", start: String(T + 5000), end: String(T + 6000) },
    { query: "no_such_metric", start: String(T), end: String(T + 1000) },
    { query: "http_requests_total", start: `${new Date((T - 100) * 1000).toISOString()}`, end: `${new Date((T + 100) * 1000).toISOString()}` },
  ];
  for (const params of requests) {
    test(`query_exemplars ${JSON.stringify(params)} answers as Prometheus does`, async () => {
      const [ours, theirs] = await Promise.all([get(gleaner.url.origin, "/api/v1/query_exemplars", params), get(prom.url, "/api/v1/query_exemplars", params)]);
      expect(ours.status).toBe(theirs.status);
      expect(ours.body).toBe(theirs.body);
    });
  }

  test("every exemplar of the target's history is there once, and the out-of-order one is not", async () => {
    const r = JSON.parse((await get(gleaner.url.origin, "/api/v1/query_exemplars", { query: "http_requests_total", start: "0", end: String(T + 1000) })).body) as {
      data: Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }> }>;
    };
    const api = r.data.find((s) => s.seriesLabels.path === "/api")!;
    expect(api.exemplars.map((e) => e.labels.trace_id)).toEqual(["api-1", "api-2"]);
    const root = r.data.find((s) => s.seriesLabels.path === "/")!;
    expect(root.exemplars).toEqual([
      { labels: { span_id: "s", trace_id: "root-1" }, value: "1", timestamp: T + 10.123 },
      { labels: { span_id: "s", trace_id: "root-2" }, value: "2", timestamp: T + 20.123 },
    ]);
    const metrics = await (await fetch(`${gleaner.url.origin}/metrics`)).text();
    expect(metrics).toMatch(/^prometheus_target_scrapes_exemplar_out_of_order_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^prometheus_tsdb_exemplar_exemplars_in_storage (\d+)$/m);
  });

  test("exemplars without a timestamp take the scrape's: same labels and values on both, one per scrape step", async () => {
    const params = { query: "jobs_total", start: "0", end: String(Math.ceil(Date.now() / 1000) + 60) };
    type Answer = { data: Array<{ exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }> }> };
    const [ours, theirs] = (await Promise.all([get(gleaner.url.origin, "/api/v1/query_exemplars", params), get(prom.url, "/api/v1/query_exemplars", params)])).map((a) => JSON.parse(a.body) as Answer);
    // Each scrape stamps the same exemplar anew (a later time), so it is stored once per scrape,
    // as in Prometheus; the scrape counts differ, the distinct exemplars do not.
    const shape = (a: Answer) => [...new Set(a.data.flatMap((s) => s.exemplars.map((e) => `${e.labels.job_id}=${e.value}`)))].sort();
    expect(shape(ours!)).toEqual(shape(theirs!));
    expect(shape(ours!)).toEqual(["j1=1", "j2=1", "j3=1"]);
    const times = ours!.data[0]!.exemplars.map((e) => e.timestamp);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  test("bad requests get Prometheus's errors", async () => {
    for (const params of [{ query: "sum(" }, { query: "up", start: "10", end: "5" }, { query: "up", start: "yesterday" }, { query: "1 + 1" }]) {
      const [ours, theirs] = await Promise.all([get(gleaner.url.origin, "/api/v1/query_exemplars", params), get(prom.url, "/api/v1/query_exemplars", params)]);
      expect([ours.status, ours.body]).toEqual([theirs.status, theirs.body]);
    }
  });
});
