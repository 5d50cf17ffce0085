import { describe, expect, test } from "bun:test";
import { core } from "../../wasm/index.ts";
import { ExpositionParser, Format } from "../../wasm/parser.ts";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { TESTDATA_DIR } from "../../test/support/testdata.ts";
import { Workload } from "./workload.ts";

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

  test("a replayed capture is served byte for byte and its samples are counted", () => {
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
