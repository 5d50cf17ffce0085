import { describe, expect, test } from "bun:test";
import { core } from "../../wasm/index.ts";
import { ExpositionParser, Format } from "../../wasm/parser.ts";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { TESTDATA_DIR, TESTDATA_MISSING } from "../../test/support/testdata.ts";
import { Workload } from "./workload.ts";
import { targetIndex } from "./target-server.ts";

const INTERVAL = 10_000;
const decoder = new TextDecoder();

async function parse(body: Uint8Array, format: Format) {
  const r = new ExpositionParser(await core()).parse(body, format);
  if (!r.ok) throw new Error(`line ${r.line}: ${r.reason}`);
  return r;
}

/** Series text → value, from the rendered body. */
function values(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    m.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return m;
}

describe("Workload", () => {
  test("the text body parses and holds exactly seriesPerTarget samples", async () => {
    const w = new Workload({ series: 1000, format: "text", intervalMs: INTERVAL, churn: 0 });
    const r = await parse(w.body(Date.now()), Format.Text);
    expect(r.count).toBe(w.seriesPerTarget);
    expect(Math.abs(w.seriesPerTarget - 1000)).toBeLessThanOrEqual(9);
  });

  test("the OpenMetrics body parses as OpenMetrics, with counters typed without _total and an # EOF", async () => {
    const w = new Workload({ series: 500, format: "openmetrics", intervalMs: INTERVAL, churn: 0 });
    const body = w.body(Date.now());
    const text = decoder.decode(body);
    expect(text).toContain("# TYPE http_requests counter\n");
    expect(text.endsWith("# EOF\n")).toBe(true);
    expect(w.contentType).toStartWith("application/openmetrics-text");
    const r = await parse(body, Format.OpenMetrics);
    expect(r.count).toBe(w.seriesPerTarget);
  });

  test("counters increase every interval, histogram buckets stay cumulative, gauges move", () => {
    const w = new Workload({ series: 2000, format: "text", intervalMs: INTERVAL, churn: 0 });
    const a = values(w.render(100, 0));
    const b = values(w.render(101, 0));
    let counters = 0;
    let gaugesMoved = 0;
    for (const [series, v] of a) {
      const next = b.get(series)!;
      if (/^http_requests_total|_count\{|_bucket\{/.test(series)) {
        counters++;
        expect(next).toBeGreaterThanOrEqual(v);
        if (series.startsWith("http_requests_total")) expect(next).toBeGreaterThan(v);
      }
      if (series.startsWith("http_inflight_requests") && next !== v) gaugesMoved++;
    }
    expect(counters).toBeGreaterThan(0);
    expect(gaugesMoved).toBeGreaterThan(50);
    const buckets = [...a].filter(([s]) => s.startsWith("http_request_duration_seconds_bucket{") && s.includes('/items/7"'));
    const counts = buckets.map(([, v]) => v);
    expect(counts).toEqual([...counts].sort((x, y) => x - y));
  });

  test("every target gets the same body within one interval, and a new one in the next", () => {
    const w = new Workload({ series: 100, format: "text", intervalMs: INTERVAL, churn: 0 });
    const t = 1_800_000_000_000;
    expect(w.body(t)).toBe(w.body(t + 5_000));
    expect(decoder.decode(w.body(t + INTERVAL))).not.toBe(decoder.decode(w.body(t)));
  });

  test("churn replaces about the given fraction of series each minute", () => {
    const w = new Workload({ series: 18_000, format: "text", intervalMs: INTERVAL, churn: 0.1 });
    const a = new Set(values(w.render(5, 10)).keys());
    const b = new Set(values(w.render(5, 11)).keys());
    const gone = [...a].filter((s) => !b.has(s)).length;
    expect(b.size).toBe(a.size);
    expect(gone / a.size).toBeGreaterThan(0.08);
    expect(gone / a.size).toBeLessThan(0.12);
  });

  test("no churn keeps the series set from minute to minute", () => {
    const w = new Workload({ series: 1000, format: "text", intervalMs: INTERVAL, churn: 0 });
    expect([...values(w.render(5, 10)).keys()]).toEqual([...values(w.render(6, 11)).keys()]);
  });

  test.skipIf(TESTDATA_MISSING !== null)("a replayed capture is served byte for byte and its samples are counted", () => {
    const file = join(TESTDATA_DIR, "real-exporters/node-exporter.prom");
    const w = new Workload({ series: 1, format: "text", intervalMs: INTERVAL, churn: 0, replay: file });
    const bytes = new Uint8Array(readFileSync(file));
    expect(w.body(Date.now())).toEqual(bytes);
    expect(w.seriesPerTarget).toBeGreaterThan(100);
    expect(w.contentType).toStartWith("text/plain");
  });

  test("bad specs are refused with the offending value", () => {
    expect(() => new Workload({ series: 0, format: "text", intervalMs: INTERVAL, churn: 0 })).toThrow("0 series per target");
    expect(() => new Workload({ series: 10, format: "text", intervalMs: INTERVAL, churn: 1.5 })).toThrow("churn 1.5");
    expect(() => new Workload({ series: 10, format: "text", intervalMs: INTERVAL, churn: 0, replay: "/nonexistent.prom" })).toThrow('Cannot replay "/nonexistent.prom"');
  });
});

describe("the k8s-http workload", () => {
  const k8s = (series = 20_000) => new Workload({ series, format: "text", intervalMs: INTERVAL, churn: 0, shape: "k8s-http" });
  const T = 1_800_000_000_000;

  test("a target's body parses, holds seriesPerTarget unique series, about 2.5 MB for 20k series", async () => {
    const w = k8s();
    const body = w.body(T, 7);
    const r = await parse(body, Format.Text);
    expect(r.count).toBe(w.seriesPerTarget);
    expect(Math.abs(w.seriesPerTarget - 20_000)).toBeLessThanOrEqual(20);
    expect(values(decoder.decode(body)).size).toBe(w.seriesPerTarget);
    expect(body.length).toBeGreaterThan(2_000_000);
    expect(body.length).toBeLessThan(3_200_000);
  });

  test("its shares are about 35% counters, 45% 12-bucket histograms with _sum and _count, 20% gauges", () => {
    const series = [...values(decoder.decode(k8s().body(T, 0))).keys()];
    const share = (re: RegExp) => series.filter((s) => re.test(s)).length / series.length;
    expect(share(/^http_requests_total\{/)).toBeCloseTo(0.35, 1);
    expect(share(/^http_request_duration_seconds/)).toBeCloseTo(0.45, 1);
    expect(share(/^(process_open_fds|queue_depth|cpu_utilisation_ratio)\{/)).toBeCloseTo(0.2, 1);
    const one = series.filter((s) => s.startsWith("http_request_duration_seconds_bucket{") && s.includes('pod="api-') && s.includes('handler="/api/v1/users",method="GET",status="200"'));
    expect(one.length % 12).toBe(0);
    expect(series[0]).toMatch(/^http_requests_total\{namespace="prod",pod="api-[0-9a-f]{8}-\d{5}",handler="[^"]+",method="[A-Z]+",status="\d{3}"\}$/);
  });

  test("no two targets share a series, and each target keeps its series from interval to interval", () => {
    const w = k8s(2000);
    const a = new Set(values(decoder.decode(w.body(T, 0))).keys());
    const b = new Set(values(decoder.decode(w.body(T, 1))).keys());
    expect([...a].filter((s) => b.has(s))).toEqual([]);
    expect(new Set(values(decoder.decode(w.body(T + INTERVAL, 0))).keys())).toEqual(a);
  });

  test("every value changes every interval: counters and buckets grow, buckets stay cumulative, sums are full floats", () => {
    const w = k8s(5000);
    const a = values(decoder.decode(w.body(T, 3)));
    const b = values(decoder.decode(w.body(T + INTERVAL, 3)));
    let changed = 0;
    for (const [series, v] of a) {
      const next = b.get(series)!;
      if (next !== v) changed++;
      if (/^http_requests_total|_count\{|_bucket\{/.test(series)) expect(next).toBeGreaterThanOrEqual(v);
    }
    expect(changed / a.size).toBeGreaterThan(0.9);
    const sums = [...a].filter(([s]) => s.includes("_sum{")).map(([, v]) => String(v));
    expect(sums.filter((v) => v.replace(/^\d+\./, "").length >= 6).length / sums.length).toBeGreaterThan(0.9);
    const prefix = 'http_request_duration_seconds_bucket{namespace="prod",pod="api-';
    const buckets = [...a].filter(([s]) => s.startsWith(prefix) && s.includes(',handler="/api/v1/users",method="GET",status="200"') && s.includes("-00012\"")).map(([, v]) => v);
    expect(buckets).toHaveLength(12);
    expect(buckets).toEqual([...buckets].sort((x, y) => x - y));
  });

  test("the target server tells targets apart by the 127.0.x.y address in the Host header", () => {
    expect(targetIndex("127.0.1.1:9000")).toBe(0);
    expect(targetIndex("127.0.1.250:9000")).toBe(249);
    expect(targetIndex("127.0.2.1:9000")).toBe(250);
    expect(targetIndex("localhost:9000")).toBe(0);
    expect(targetIndex(null)).toBe(0);
  });

  test("OpenMetrics and churn are refused for it", () => {
    expect(() => new Workload({ series: 10, format: "openmetrics", intervalMs: INTERVAL, churn: 0, shape: "k8s-http" })).toThrow("k8s-http");
    expect(() => new Workload({ series: 10, format: "text", intervalMs: INTERVAL, churn: 0.1, shape: "k8s-http" })).toThrow("k8s-http");
  });
});
