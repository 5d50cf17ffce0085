import { beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../config/load.ts";
import { createLogger } from "../log/logger.ts";
import { Registry } from "../metrics/registry.ts";
import { Labels } from "../model/labels.ts";
import { compileRelabel } from "../relabel/index.ts";
import { MemoryStorage } from "../../storage/memory.ts";
import { createCore, type Core } from "../../wasm/index.ts";
import { ExpositionParser, Format } from "../../wasm/parser.ts";
import { ScrapeMetrics } from "./metrics.ts";
import { TargetScraper, type FetchResult } from "./scraper.ts";
import { populateTarget } from "./target.ts";

let core: Core;
let parser: ExpositionParser;
beforeAll(async () => {
  core = await createCore();
  parser = new ExpositionParser(core);
});

const NOW = 1_700_000_000_000;

function setup(jobYaml = "", bodies: FetchResult[] = []) {
  const cfg = parseConfig(`scrape_configs:\n  - job_name: node\n${jobYaml}`, "p.yml").scrape_configs[0]!;
  const r = populateTarget(new Map([["__address__", "a:9100"]]), cfg, compileRelabel(cfg.relabel_configs));
  if (r.kind !== "target") throw new Error("no target");
  const storage = new MemoryStorage(() => NOW);
  const registry = new Registry();
  const metrics = new ScrapeMetrics(registry);
  const queue = [...bodies];
  const scraper = new TargetScraper(r.target, cfg, {
    core, parser, storage, metrics,
    fetch: async () => queue.shift() ?? { ok: false, error: "no more bodies", bodySize: 0 },
    selectFormat: (ct) =>
      ct.startsWith("application/openmetrics-text") ? Format.OpenMetrics : ct.startsWith("text/plain") ? Format.Text : ct.startsWith("application/vnd.google.protobuf") ? Format.Protobuf : { error: `unknown content type ${ct}` },
    log: createLogger({ level: "error", format: "logfmt", write: () => {} }),
    elapsed: () => 0,
  });
  const scrape = (t: number) => scraper.scrape(t, null, new AbortController().signal);
  const series = (name: string) => storage.select([{ type: "=", name: "__name__", value: name }], 0, Infinity);
  const values = (name: string) => series(name).map((s) => [s.labels.toString(), s.samples.map((x) => (x.stale ? "stale" : x.v))]);
  return { scraper, storage, scrape, series, values, registry, push: (b: FetchResult) => queue.push(b) };
}

const text = (body: string): FetchResult => ({ ok: true, body: new TextEncoder().encode(body), contentType: "text/plain; version=0.0.4" });

describe("a successful scrape", () => {
  test("stores every sample with the target labels, and the report series", async () => {
    const s = setup("", [text('# TYPE http_requests_total counter\nhttp_requests_total{code="200"} 10\nhttp_requests_total{code="500"} 2\nnode_load1 0.5\n')]);
    expect(await s.scrape(NOW)).toBeNull();
    expect(s.values("http_requests_total")).toEqual([
      ['http_requests_total{code="200", instance="a:9100", job="node"}', [10]],
      ['http_requests_total{code="500", instance="a:9100", job="node"}', [2]],
    ]);
    expect(s.values("up")).toEqual([['up{instance="a:9100", job="node"}', [1]]]);
    expect(s.values("scrape_samples_scraped")[0]![1]).toEqual([3]);
    expect(s.values("scrape_samples_post_metric_relabeling")[0]![1]).toEqual([3]);
    expect(s.values("scrape_series_added")[0]![1]).toEqual([3]);
    expect(s.series("scrape_timeout_seconds")).toEqual([]);
  });

  test("HELP, TYPE and UNIT are kept as the target's metadata", async () => {
    const s = setup("", [text("# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\nhttp_requests_total 1\n# TYPE temp gauge\ntemp 3\n")]);
    await s.scrape(NOW);
    expect(s.scraper.metadata()).toEqual([
      { metric: "http_requests_total", type: "counter", help: "Requests served.", unit: "" },
      { metric: "temp", type: "gauge", help: "", unit: "" },
    ]);
  });

  test("a repeat scrape resolves every series from the cache and adds no series", async () => {
    const s = setup("", [text("a 1\nb 2\n"), text("a 3\nb 4\n")]);
    await s.scrape(NOW);
    await s.scrape(NOW + 15_000);
    expect(s.values("a")[0]![1]).toEqual([1, 3]);
    expect(s.values("scrape_series_added")[0]![1]).toEqual([2, 0]);
    expect(s.storage.seriesCount()).toBe(2 + 5);
  });

  test("a cached series the storage forgot (retention) is resolved again by its labels, report series too", async () => {
    const s = setup("", [text("a 1\nb 2\n"), text("a 3\nb 4\n"), text("a 5\n")]);
    expect(await s.scrape(NOW)).toBeNull();
    expect(s.storage.forget(() => true)).toBe(2 + 5);
    expect(await s.scrape(NOW + 15_000)).toBeNull();
    expect(s.values("a")).toEqual([['a{instance="a:9100", job="node"}', [3]]]);
    expect(s.values("up")).toEqual([['up{instance="a:9100", job="node"}', [1]]]);
    // The cache now points at the new refs: the next scrape hits them and finds b gone.
    expect(await s.scrape(NOW + 30_000)).toBeNull();
    expect(s.values("a")[0]![1]).toEqual([3, 5]);
    expect(s.values("b")[0]![1]).toEqual([4, "stale"]);
    expect(s.values("scrape_series_added")[0]![1]).toEqual([2, 0]);
  });

  test("a stale marker for a series the storage forgot is skipped, and the scrape succeeds", async () => {
    const s = setup("", [text("a 1\nb 2\n"), text("a 3\n")]);
    await s.scrape(NOW);
    s.storage.forget((l) => l.get("__name__") === "b");
    expect(await s.scrape(NOW + 15_000)).toBeNull();
    expect(s.series("b")).toEqual([]);
    expect(s.values("a")[0]![1]).toEqual([1, 3]);
  });

  test("a series that disappears gets a stale marker at the next scrape's timestamp", async () => {
    const s = setup("", [text("a 1\nb 2\n"), text("a 3\n"), text("a 4\n")]);
    await s.scrape(NOW);
    await s.scrape(NOW + 15_000);
    await s.scrape(NOW + 30_000);
    expect(s.series("b")[0]!.samples).toEqual([{ t: NOW, v: 2, stale: false }, { t: NOW + 15_000, v: NaN, stale: true }]);
  });

  test("an empty 200 body is up=1 with no samples, and everything goes stale", async () => {
    const s = setup("", [text("a 1\n"), text("")]);
    await s.scrape(NOW);
    expect(await s.scrape(NOW + 15_000)).toBeNull();
    expect(s.values("a")[0]![1]).toEqual([1, "stale"]);
    expect(s.values("up")[0]![1]).toEqual([1, 1]);
  });

  test("with honor_timestamps the exposed timestamp is used and the series is not tracked for staleness", async () => {
    const s = setup("", [text("a 1 1699999990000\nb 2\n"), text("b 3\n")]);
    await s.scrape(NOW);
    await s.scrape(NOW + 15_000);
    expect(s.series("a")[0]!.samples).toEqual([{ t: 1_699_999_990_000, v: 1, stale: false }]);
    expect(s.values("b")[0]![1]).toEqual([2, 3]);
  });

  test("with track_timestamps_staleness a series with its own timestamp gets a stale marker at the scrape timestamp", async () => {
    const s = setup("    track_timestamps_staleness: true\n", [text("a 1 1699999990000\n"), text("b 1\n")]);
    await s.scrape(NOW);
    await s.scrape(NOW + 15_000);
    expect(s.series("a")[0]!.samples).toEqual([{ t: 1_699_999_990_000, v: 1, stale: false }, { t: NOW + 15_000, v: NaN, stale: true }]);
  });

  test("honor_timestamps: false uses the scrape timestamp and tracks staleness", async () => {
    const s = setup("    honor_timestamps: false\n", [text("a 1 1699999990000\n"), text("")]);
    await s.scrape(NOW);
    await s.scrape(NOW + 15_000);
    expect(s.series("a")[0]!.samples.map((x) => [x.t, x.stale])).toEqual([[NOW, false], [NOW + 15_000, true]]);
  });

  test("a series exposed twice in one scrape keeps the first value; the duplicate is counted", async () => {
    const s = setup("", [text("a 1\na 2\n")]);
    expect(await s.scrape(NOW)).toBeNull();
    expect(s.values("a")[0]![1]).toEqual([1]);
    expect(s.values("scrape_samples_post_metric_relabeling")[0]![1]).toEqual([2]);
    expect(s.registry.expose()).toContain("prometheus_target_scrapes_sample_duplicate_timestamp_total 1\n");
  });

  test("metric_relabel_configs drop series, which stay dropped through the cache", async () => {
    const s = setup("    metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: go_.*\n        action: drop\n", [text("go_gc 1\nkeep 2\n"), text("go_gc 1\nkeep 3\n")]);
    await s.scrape(NOW);
    await s.scrape(NOW + 15_000);
    expect(s.series("go_gc")).toEqual([]);
    expect(s.values("keep")[0]![1]).toEqual([2, 3]);
    expect(s.values("scrape_samples_post_metric_relabeling")[0]![1]).toEqual([1, 1]);
    expect(s.values("scrape_samples_scraped")[0]![1]).toEqual([2, 2]);
  });

  test("a StaleNaN sent over protobuf is stored as a stale marker, not as NaN", async () => {
    // A delimited MetricFamily { name: "g", type: GAUGE, metric: [{ gauge: { value } }] }.
    const family = (bits: bigint) => {
      const value = new Uint8Array(8);
      new DataView(value.buffer).setBigUint64(0, bits, true);
      const gauge = [0x09, ...value];
      const metric = [0x12, gauge.length, ...gauge];
      const fam = [0x0a, 1, 0x67, 0x18, 1, 0x22, metric.length, ...metric];
      return { ok: true as const, body: new Uint8Array([fam.length, ...fam]), contentType: "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited" };
    };
    const s = setup("", [family(0x3ff0000000000000n), family(0x7ff0000000000002n), family(0x7ff8000000000001n)]);
    for (let k = 0; k < 3; k++) expect(await s.scrape(NOW + k * 15_000)).toBeNull();
    expect(s.series("g")[0]!.samples.map((x) => (x.stale ? "stale" : x.v))).toEqual([1, "stale", NaN]);
  });

  test("exposed labels clashing with target labels become exported_", async () => {
    const s = setup("", [text('m{job="app",instance="x"} 1\n')]);
    await s.scrape(NOW);
    expect(s.series("m")[0]!.labels.toObject()).toEqual({ __name__: "m", exported_instance: "x", exported_job: "app", instance: "a:9100", job: "node" });
  });

  test("OpenMetrics exemplars are stored with the sample's timestamp when they have none", async () => {
    const s = setup("", [{ ok: true, contentType: "application/openmetrics-text; version=1.0.0", body: new TextEncoder().encode('# TYPE c counter\nc_total 3 # {trace_id="a\\"b"} 1.5\n# EOF\n') }]);
    expect(await s.scrape(NOW)).toBeNull();
    const l = s.series("c_total")[0]!.labels;
    expect(s.storage.exemplarsOf(l)).toEqual([{ labels: Labels.from({ trace_id: 'a"b' }), value: 1.5, timestamp: NOW }]);
  });
});

describe("storage outcomes and identities", () => {
  test("out-of-order, duplicate and out-of-bounds samples are dropped and counted; the scrape stays up", async () => {
    const s = setup("", [text("a 1 1699999990000\nb 1 1699999990000\n"), text(`a 2 1699999980000\nb 2 1699999990000\nc 3 ${NOW + 11 * 60_000}\n`)]);
    await s.scrape(NOW);
    expect(await s.scrape(NOW + 15_000)).toBeNull();
    expect(s.values("up")[0]![1]).toEqual([1, 1]);
    const m = s.registry.expose();
    expect(m).toContain("prometheus_target_scrapes_sample_out_of_order_total 1\n");
    expect(m).toContain("prometheus_target_scrapes_sample_duplicate_timestamp_total 1\n");
    expect(m).toContain("prometheus_target_scrapes_sample_out_of_bounds_total 1\n");
  });

  test("the same series exposed with different bytes (label order, spacing) is one storage series", async () => {
    const s = setup("", [text('m{a="1",b="2"} 1\n'), text('m{b="2", a="1"} 2\n')]);
    await s.scrape(NOW);
    await s.scrape(NOW + 15_000);
    expect(s.values("m")).toEqual([['m{a="1", b="2", instance="a:9100", job="node"}', [1, 2]]]);
  });

  test("report series are written even when metric relabeling drops every series, and keep the target labels", async () => {
    const s = setup("    honor_labels: true\n    metric_relabel_configs:\n      - regex: .*\n        source_labels: [__name__]\n        action: drop\n", [text('x{job="other"} 1\n')]);
    await s.scrape(NOW);
    expect(s.series("x")).toEqual([]);
    expect(s.values("up")).toEqual([['up{instance="a:9100", job="node"}', [1]]]);
  });
});

describe("a failed scrape", () => {
  test("writes up=0, stale markers for every series, and only once across repeated failures", async () => {
    const s = setup("", [text("a 1\nb 2\n"), { ok: false, error: "connection refused", bodySize: 0 }, { ok: false, error: "connection refused", bodySize: 0 }]);
    await s.scrape(NOW);
    expect(await s.scrape(NOW + 15_000)).toBe("connection refused");
    expect(await s.scrape(NOW + 30_000)).toBe("connection refused");
    expect(s.values("a")[0]![1]).toEqual([1, "stale"]);
    expect(s.values("b")[0]![1]).toEqual([2, "stale"]);
    expect(s.values("up")[0]![1]).toEqual([1, 0, 0]);
  });

  test("failed scrapes keep the cache unless it grows past twice the last good size plus 1000", async () => {
    const bodies: FetchResult[] = [text("a 1\n")];
    // Each failing scrape exposes 600 new series and fails at the end (label_limit on the last one).
    for (let k = 0; k < 4; k++) bodies.push(text(Array.from({ length: 600 }, (_, i) => `churn_${k}_${i} 1`).join("\n") + `\nover{a="1",b="2",c="3"} 1\n`));
    const s = setup("    label_limit: 4\n", bodies);
    await s.scrape(NOW);
    const sizes: number[] = [];
    for (let k = 1; k <= 4; k++) {
      expect(await s.scrape(NOW + k * 15_000)).toContain("label_limit exceeded");
      sizes.push(s.scraper.cacheSize);
    }
    // Last good size 1: the bound is 1002. 601 stays; 1201 is flushed to what that scrape saw.
    expect(sizes).toEqual([601, 600, 600, 600]);
  });

  test("a parse error anywhere loses the whole scrape and names the line; series before it get no stale marker", async () => {
    const s = setup("", [text("a 1\nz 1\n"), text("a 2\nb{ 3\n")]);
    await s.scrape(NOW);
    const err = await s.scrape(NOW + 15_000);
    expect(err).toMatch(/^text parse error at line 2, column \d+: /);
    // Nothing of the failed scrape is stored; `a` came before the bad line (Prometheus's quirk).
    expect(s.values("a")[0]![1]).toEqual([1]);
    expect(s.values("z")[0]![1]).toEqual([1, "stale"]);
    expect(s.values("scrape_samples_scraped")[0]![1]).toEqual([2, 1]);
  });

  test("an unknown Content-Type fails the scrape", async () => {
    const s = setup("", [{ ok: true, body: new TextEncoder().encode("a 1\n"), contentType: "application/json" }]);
    expect(await s.scrape(NOW)).toBe("unknown content type application/json");
    expect(s.values("up")[0]![1]).toEqual([0]);
  });

  test("sample_limit fails the scrape but the counts include every sample", async () => {
    const s = setup("    sample_limit: 2\n", [text("a 1\nb 2\nc 3\n")]);
    expect(await s.scrape(NOW)).toBe("sample limit exceeded");
    expect(s.series("a")).toEqual([]);
    expect(s.values("scrape_samples_scraped")[0]![1]).toEqual([3]);
    expect(s.values("scrape_samples_post_metric_relabeling")[0]![1]).toEqual([3]);
    expect(s.registry.expose()).toContain("prometheus_target_scrapes_exceeded_sample_limit_total 1\n");
  });

  test("label_limit fails the scrape with Prometheus's message", async () => {
    const s = setup("    label_limit: 3\n", [text('m{a="1",b="2"} 1\n')]);
    expect(await s.scrape(NOW)).toBe("label_limit exceeded (metric: m, number of labels: 5, limit: 3)");
  });

  test("a forced error (target_limit) makes no request and marks everything stale", async () => {
    const s = setup("", [text("a 1\n")]);
    await s.scrape(NOW);
    expect(await s.scraper.scrape(NOW + 15_000, "target_limit exceeded (number of targets: 3, limit: 2)", new AbortController().signal)).toBe("target_limit exceeded (number of targets: 3, limit: 2)");
    expect(s.values("a")[0]![1]).toEqual([1, "stale"]);
  });
});

test("report series carry the scrape timestamp, also after a failure", async () => {
  const s = setup("", [text("a 1\n"), { ok: false, error: "connection refused", bodySize: 0 }]);
  await s.scrape(NOW);
  await s.scrape(NOW + 15_000);
  expect(s.series("up")[0]!.samples.map((x) => x.t)).toEqual([NOW, NOW + 15_000]);
  expect(s.series("scrape_duration_seconds")[0]!.samples.map((x) => x.t)).toEqual([NOW, NOW + 15_000]);
});

test("scrape_body_size_bytes is 0 after an HTTP failure and the body's size after a parse failure", async () => {
  const s = setup("    extra_scrape_metrics: true\n", [{ ok: false, error: "server returned HTTP status 500", bodySize: 0 }, text("bad{ 1\n")]);
  await s.scrape(NOW);
  await s.scrape(NOW + 15_000);
  expect(s.values("scrape_body_size_bytes")[0]![1]).toEqual([0, 7]);
});

test("a failing commit is logged and the loop goes on", async () => {
  const s = setup("", [text("a 1\n"), text("a 2\n")]);
  const real = s.storage.appender.bind(s.storage);
  let fail = true;
  s.storage.appender = () => {
    const app = real();
    return { ...app, commit: () => (fail ? Promise.reject(new Error("disk full")) : app.commit()) };
  };
  expect(await s.scrape(NOW)).toBeNull();
  fail = false;
  expect(await s.scrape(NOW + 15_000)).toBeNull();
  expect(s.values("a")[0]![1]).toEqual([2]);
});

test("extra_scrape_metrics adds the timeout, sample limit and body size", async () => {
  const s = setup("    extra_scrape_metrics: true\n    sample_limit: 100\n", [text("a 1\n"), { ok: false, error: "body size limit exceeded", bodySize: -1, bodyLimit: true }]);
  await s.scrape(NOW);
  await s.scrape(NOW + 15_000);
  expect(s.values("scrape_timeout_seconds")[0]![1]).toEqual([10, 10]);
  expect(s.values("scrape_sample_limit")[0]![1]).toEqual([100, 100]);
  expect(s.values("scrape_body_size_bytes")[0]![1]).toEqual([4, -1]);
});

test("end-of-run staleness marks the last scrape's series and the report series", async () => {
  const s = setup("", [text("a 1\n")]);
  await s.scrape(NOW);
  await s.scraper.endOfRunStaleness(NOW + 20_000);
  expect(s.values("a")[0]![1]).toEqual([1, "stale"]);
  expect(s.values("up")[0]![1]).toEqual([1, "stale"]);
});
