import { describe, expect, test } from "bun:test";
import { parseConfig } from "../config/load.ts";
import { Labels } from "../model/labels.ts";
import { compileRelabel } from "../relabel/index.ts";
import { mergeGroupLabels, offsetSeed, populateTarget, scrapeOffset, targetURL, type TargetResult } from "./target.ts";

function jobOf(yaml: string) {
  return parseConfig(`scrape_configs:\n  - job_name: node\n${yaml}`, "p.yml").scrape_configs[0]!;
}

function populate(labels: Record<string, string>, yaml = "", trace = false): TargetResult {
  const cfg = jobOf(yaml);
  return populateTarget(new Map(Object.entries(labels)), cfg, compileRelabel(cfg.relabel_configs, cfg.metric_name_validation_scheme), trace);
}

function target(labels: Record<string, string>, yaml = "") {
  const r = populate(labels, yaml);
  if (r.kind !== "target") throw new Error(`expected a target, got ${JSON.stringify(r)}`);
  return r.target;
}

describe("populateTarget()", () => {
  test("a target gets job, instance and the __ defaults from its job", () => {
    const t = target({ __address__: "a:9100" }, "    scrape_interval: 15s\n    params:\n      module: [x, y]\n");
    expect(t.labels.toObject()).toEqual({
      __address__: "a:9100", __metrics_path__: "/metrics", __param_module: "x", __scheme__: "http",
      __scrape_interval__: "15s", __scrape_timeout__: "10s",
      __scrape_native_histograms__: "false", __always_scrape_classic_histograms__: "false", __convert_classic_histograms_to_nhcb__: "false",
      instance: "a:9100", job: "node",
    });
    expect(t.publicLabels.toObject()).toEqual({ instance: "a:9100", job: "node" });
    expect(t.url).toBe("http://a:9100/metrics?module=x&module=y");
    expect([t.intervalMs, t.timeoutMs]).toEqual([15_000, 10_000]);
  });

  test("a discovered job label overrides job_name, and target labels win over group labels", () => {
    const t = target(Object.fromEntries(mergeGroupLabels({ __address__: "a:1", env: "t" }, { env: "g", job: "custom" })));
    expect(t.labels.get("job")).toBe("custom");
    expect(t.labels.get("env")).toBe("t");
  });

  test("__meta_ labels are removed after relabeling and instance follows the relabeled address", () => {
    const t = target({ __address__: "a:1", __meta_x: "1" }, "    relabel_configs:\n      - source_labels: [__meta_x]\n        target_label: x\n      - target_label: __address__\n        replacement: b:2\n");
    expect(t.labels.has("__meta_x")).toBe(false);
    expect(t.labels.get("x")).toBe("1");
    expect(t.labels.get("instance")).toBe("b:2");
    expect(t.discoveredLabels.get("__meta_x")).toBe("1");
  });

  test("a target dropped by relabeling is reported with the rule that dropped it", () => {
    const r = populate({ __address__: "a:1" }, "    relabel_configs:\n      - source_labels: [__address__]\n        regex: b.*\n        action: keep\n", true);
    expect(r.kind).toBe("dropped");
    if (r.kind === "dropped") expect(r.trace?.droppedBy).toBe(0);
  });

  test("creation errors: no address, a URL as address, bad or zero interval, timeout above interval, bad flag", () => {
    const rl = (target_label: string, replacement: string) => `    relabel_configs:\n      - target_label: ${target_label}\n        replacement: '${replacement}'\n`;
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ a: "1" }, "", "no address"],
      [{ __address__: "a:1" }, rl("__address__", "http://x/y"), '"http://x/y" is not a valid hostname'],
      [{ __address__: "a:1" }, rl("__scrape_interval__", "1.5s"), "error parsing scrape interval: not a valid duration string"],
      [{ __address__: "a:1" }, rl("__scrape_interval__", "0s"), "scrape interval cannot be 0"],
      [{ __address__: "a:1" }, rl("__scrape_timeout__", "2m"), 'scrape timeout cannot be greater than scrape interval ("2m" > "1m")'],
      [{ __address__: "a:1" }, rl("__scrape_native_histograms__", "yes"), 'invalid __scrape_native_histograms__ label value "yes"'],
    ];
    for (const [labels, yaml, error] of cases) {
      const r = populate(labels, yaml);
      expect(r.kind, error).toBe("error");
      if (r.kind === "error") expect(r.error).toContain(error);
    }
  });

  test("targets that differ only in __meta_ labels have the same identity", () => {
    expect(target({ __address__: "a:1", __meta_z: "1" }).hash).toBe(target({ __address__: "a:1", __meta_z: "2" }).hash);
    expect(target({ __address__: "a:1" }).hash).not.toBe(target({ __address__: "a:2" }).hash);
  });
});

describe("populateTarget() details", () => {
  test("defaults also fill labels that are present but empty", () => {
    const t = target({ __address__: "a:1", job: "", __metrics_path__: "" });
    expect([t.labels.get("job"), t.labels.get("__metrics_path__")]).toEqual(["node", "/metrics"]);
  });

  test("no default port is added to an address without one (v3)", () => {
    const t = target({ __address__: "example.com" });
    expect([t.url, t.labels.get("instance")]).toEqual(["http://example.com/metrics", "example.com"]);
  });

  test("a zero or unparsable timeout is a creation error", () => {
    const rl = (v: string) => `    relabel_configs:\n      - target_label: __scrape_timeout__\n        replacement: '${v}'\n`;
    for (const [v, error] of [["0s", "scrape timeout cannot be 0"], ["soon", "error parsing scrape timeout"]] as const) {
      const r = populate({ __address__: "a:1" }, rl(v));
      expect(r.kind).toBe("error");
      if (r.kind === "error") expect(r.error).toContain(error);
    }
  });

  test("a label value that is not valid UTF-8 is a creation error", () => {
    const r = populate({ __address__: "a:1", broken: "\ud800" });
    expect(r.kind).toBe("error");
    if (r.kind === "error") expect(r.error).toContain('invalid label value for "broken"');
  });

  test("a relabeled __scrape_interval__ sets the target's own interval", () => {
    const t = target({ __address__: "a:1" }, "    relabel_configs:\n      - target_label: __scrape_interval__\n        replacement: 5s\n      - target_label: __scrape_timeout__\n        replacement: 2s\n");
    expect([t.intervalMs, t.timeoutMs]).toEqual([5_000, 2_000]);
  });
});

describe("targetURL()", () => {
  test("__param_ labels replace the first value of a param or add it; keys are sorted and escaped as Go does", () => {
    const l = Labels.from({ __scheme__: "https", __address__: "h:1", __metrics_path__: "/probe", __param_target: "x y", __param_a: "~*" });
    expect(targetURL(l, { target: ["t1", "t2"], z: ["1"] })).toBe("https://h:1/probe?a=~%2A&target=x+y&target=t2&z=1");
  });
});

describe("scrapeOffset()", () => {
  test("the first scrape lands on the same phase of the interval whenever the loop starts", () => {
    const phase = (now: number) => (now + scrapeOffset(123456789n, 42n, 15_000, now)) % 15_000;
    const p = phase(1_000_000);
    for (const now of [1_000_001, 1_007_500, 2_345_678, 9_999_999]) expect(phase(now)).toBe(p);
  });

  test("the offset is within one interval and spreads targets across it", () => {
    const seed = offsetSeed("host", { dc: "a" });
    const phases = new Set<number>();
    for (let i = 0; i < 100; i++) {
      const off = scrapeOffset(Bun.hash.wyhash(`target-${i}`), seed, 10_000, 5_000_000);
      expect(off).toBeGreaterThanOrEqual(0);
      expect(off).toBeLessThanOrEqual(10_000);
      phases.add(Math.floor(((5_000_000 + off) % 10_000) / 1000));
    }
    expect(phases.size).toBeGreaterThanOrEqual(8);
  });

  test("two instances with different seeds scrape the same target at different phases", () => {
    const h = Bun.hash.wyhash("t");
    expect(scrapeOffset(h, offsetSeed("a", {}), 60_000, 0)).not.toBe(scrapeOffset(h, offsetSeed("b", {}), 60_000, 0));
  });
});
