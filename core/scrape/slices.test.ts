// A scrape whose sample loop yields to the event loop (a first scrape creating many series):
// it detaches its parse result, so other targets parsing meanwhile change nothing of it.
import { beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../config/load.ts";
import { createLogger } from "../log/logger.ts";
import { Registry } from "../metrics/registry.ts";
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
const encode = (s: string) => new TextEncoder().encode(s);

function target(address: string, storage: MemoryStorage, body: () => FetchResult, sliceMs = 0) {
  const cfg = parseConfig("scrape_configs:\n  - job_name: node\n", "p.yml").scrape_configs[0]!;
  const r = populateTarget(new Map([["__address__", address]]), cfg, compileRelabel(cfg.relabel_configs));
  if (r.kind !== "target") throw new Error("no target");
  return new TargetScraper(r.target, cfg, {
    core, parser, storage,
    metrics: new ScrapeMetrics(new Registry()),
    fetch: async () => body(),
    selectFormat: (ct) => (ct.startsWith("application/openmetrics-text") ? Format.OpenMetrics : Format.Text),
    log: createLogger({ level: "error", format: "logfmt", write: () => {} }),
    sliceMs,
  });
}

/** n series per target, with `le` values the parser rewrites (side arena) and exemplars. */
function body(prefix: string, n: number, step: number): FetchResult {
  const lines = ["# TYPE lat histogram"];
  for (let i = 0; i < n; i++) {
    lines.push(`lat_bucket{path="/${prefix}/${i}",le="1"} ${i + step} # {trace_id="${prefix}${i}"} 0.5 1700000000.000`);
    lines.push(`lat_bucket{path="/${prefix}/${i}",le="+Inf"} ${i + step + 1}`);
  }
  lines.push("# EOF");
  return { ok: true, body: encode(lines.join("\n") + "\n"), contentType: "application/openmetrics-text; version=1.0.0" };
}

describe("a scrape cut into slices", () => {
  test("keeps every sample, label and exemplar of its own body while other targets parse in between", async () => {
    const storage = new MemoryStorage(() => NOW);
    const n = 3000;
    const a = target("a:80", storage, () => body("a", n, 0));
    const b = target("b:80", storage, () => body("b", n, 100));
    // A third target scraping tiny bodies all the time: it parses between every slice.
    const small = target("c:80", storage, () => ({ ok: true, body: encode("x 1\n"), contentType: "text/plain" }), 1000);
    let done = false;
    const chatter = (async () => {
      for (let t = NOW; !done; t += 1) {
        await small.scrape(t, null, new AbortController().signal);
        await new Promise((r) => setImmediate(r));
      }
    })();
    const signal = new AbortController().signal;
    const [ea, eb] = await Promise.all([a.scrape(NOW, null, signal), b.scrape(NOW, null, signal)]);
    done = true;
    await chatter;
    expect(ea).toBeNull();
    expect(eb).toBeNull();
    const got = storage.select([{ type: "=", name: "__name__", value: "lat_bucket" }]);
    expect(got).toHaveLength(4 * n);
    for (const s of got) {
      const instance = s.labels.get("instance");
      const i = Number(s.labels.get("path").split("/")[2]);
      const base = instance === "a:80" ? 0 : 100;
      expect(s.labels.get("path").startsWith(instance === "a:80" ? "/a/" : "/b/")).toBe(true);
      // The rewritten bucket is `le="1.0"`, as Prometheus 3.x normalises it.
      expect(["1.0", "+Inf"]).toContain(s.labels.get("le"));
      expect(s.samples.map((x) => x.v)).toEqual([i + base + (s.labels.get("le") === "+Inf" ? 1 : 0)]);
    }
    const exemplars = storage.selectExemplars([[{ type: "=", name: "__name__", value: "lat_bucket" }]], 0, Infinity);
    const traces = exemplars.flatMap((e) => e.exemplars.map((x) => `${e.seriesLabels.get("path")} ${x.labels.get("trace_id")}`));
    expect(traces).toHaveLength(2 * n);
    for (const t of traces) {
      const [path, trace] = t.split(" ");
      expect(trace).toBe(path!.split("/")[1]! + path!.split("/")[2]!);
    }
    // The next scrape finds every series in the cache: no series added.
    expect(await a.scrape(NOW + 15_000, null, signal)).toBeNull();
    const added = storage.select([{ type: "=", name: "__name__", value: "scrape_series_added" }, { type: "=", name: "instance", value: "a:80" }]);
    expect(added.map((s) => s.samples.map((x) => x.v))).toEqual([[2 * n, 0]]);
  });

  test("a stopped loop cancels it: none of its samples are committed, and the error says why", async () => {
    const storage = new MemoryStorage(() => NOW);
    const a = target("a:80", storage, () => body("a", 5000, 0));
    const stop = new AbortController();
    const scraping = a.scrape(NOW, null, stop.signal);
    await new Promise((r) => setImmediate(r));
    stop.abort();
    expect(await scraping).toBe("scrape cancelled: its scrape loop was stopped");
    expect(storage.select([{ type: "=", name: "__name__", value: "lat_bucket" }])).toEqual([]);
    const up = storage.select([{ type: "=", name: "__name__", value: "up" }]);
    expect(up.map((s) => s.samples.map((x) => x.v))).toEqual([[0]]);
  });
});
