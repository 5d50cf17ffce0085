import { expect, test } from "bun:test";
import { parseConfig } from "../config/load.ts";
import type { ScrapeConfig } from "../config/types.ts";
import { createLogger } from "../log/logger.ts";
import { ScrapePool, type Loop, type TargetStatus } from "./pool.ts";
import type { Target } from "./target.ts";

class FakeLoop implements Loop {
  started = 0;
  stopped: boolean[] = [];
  forced: string | null = null;
  released: boolean[] = [];
  previous: Loop | undefined;
  constructor(readonly target: Target, readonly config: ScrapeConfig, previous?: Loop) {
    this.previous = previous;
  }
  release(endOfRun: boolean) {
    this.released.push(endOfRun);
  }
  metadata() {
    return [];
  }
  start() {
    this.started++;
  }
  async stop(endOfRun: boolean) {
    this.stopped.push(endOfRun);
  }
  setForcedError(e: string | null) {
    this.forced = e;
  }
  status(): TargetStatus {
    return { health: "unknown", lastError: "", lastScrape: 0, lastScrapeDurationMs: 0 };
  }
}

function setup(yaml = "") {
  const cfg = parseConfig(`scrape_configs:\n  - job_name: j\n${yaml}`, "p.yml").scrape_configs[0]!;
  const loops: FakeLoop[] = [];
  const failures: string[] = [];
  const pool = new ScrapePool(cfg, (t, c, _signal, previous) => {
    const l = new FakeLoop(t, c, previous);
    loops.push(l);
    return l;
  }, createLogger({ level: "error", format: "logfmt", write: () => {} }), { syncFailed: (j) => failures.push(j), targetLimitExceeded: () => {} });
  return { pool, loops, failures, cfg };
}

const group = (source: string, addrs: string[], labels: Record<string, string> = {}) => ({ source, targets: addrs.map((a) => ({ __address__: a })), labels });

test("sync() starts one loop per target and keeps loops of targets that stay", async () => {
  const { pool, loops } = setup();
  await pool.sync([group("0", ["a:1", "b:1"])]);
  expect(loops.map((l) => l.target.labels.get("instance"))).toEqual(["a:1", "b:1"]);
  await pool.sync([group("0", ["b:1", "c:1"])]);
  expect(loops.map((l) => [l.target.labels.get("instance"), l.started, l.stopped])).toEqual([["a:1", 1, [true]], ["b:1", 1, []], ["c:1", 1, []]]);
});

test("targets with the same identity share one loop", async () => {
  const { pool, loops } = setup();
  await pool.sync([group("0", ["a:1"], { __meta_x: "1" }), group("1", ["a:1"], { __meta_x: "2" })]);
  expect(loops).toHaveLength(1);
});

test("dropped targets are listed up to keep_dropped_targets and all are counted", async () => {
  const { pool } = setup("    keep_dropped_targets: 1\n    relabel_configs:\n      - source_labels: [__address__]\n        regex: keep.*\n        action: keep\n");
  await pool.sync([group("0", ["keep:1", "x:1", "y:1"])]);
  expect(pool.activeTargets()).toHaveLength(1);
  expect(pool.droppedTargets().count).toBe(2);
  expect(pool.droppedTargets().targets).toHaveLength(1);
});

test("a target creation error is counted and the target is neither scraped nor dropped", async () => {
  const { pool, failures } = setup("    relabel_configs:\n      - target_label: __scrape_timeout__\n        replacement: 2m\n");
  await pool.sync([group("0", ["a:1"])]);
  expect(pool.activeTargets()).toHaveLength(0);
  expect(pool.droppedTargets().count).toBe(0);
  expect(failures).toEqual(["j"]);
});

test("more targets than target_limit force an error on every loop, cleared when back under", async () => {
  const { pool, loops } = setup("    target_limit: 2\n");
  await pool.sync([group("0", ["a:1", "b:1", "c:1"])]);
  expect(loops.map((l) => l.forced)).toEqual(Array(3).fill("target_limit exceeded (number of targets: 3, limit: 2)"));
  await pool.sync([group("0", ["a:1", "b:1"])]);
  expect(loops.slice(0, 2).map((l) => l.forced)).toEqual([null, null]);
});

test("reload() restarts every loop with the new config, handing it the old loop, whose series go stale unless its cache is reused", async () => {
  const { pool, loops, cfg } = setup();
  await pool.sync([group("0", ["a:1"])]);
  await pool.reload({ ...cfg, honor_labels: true });
  expect(loops[0]!.stopped).toEqual([false]);
  expect(loops[0]!.released).toEqual([true]);
  expect(loops[1]!.previous).toBe(loops[0]);
  expect(loops[1]!.config.honor_labels).toBe(true);
  await pool.stop();
  expect(loops[1]!.stopped).toEqual([false]);
  expect(loops[1]!.released).toEqual([false]);
});

test("target_limit counts targets after deduplication", async () => {
  const { pool, loops } = setup("    target_limit: 1\n");
  await pool.sync([group("0", ["a:1"], { __meta_x: "1" }), group("1", ["a:1"], { __meta_x: "2" })]);
  expect(loops).toHaveLength(1);
  expect(loops[0]!.forced).toBeNull();
});

test("the discovered labels shown for a deduplicated target are the most recent duplicate's", async () => {
  const { pool } = setup();
  await pool.sync([group("0", ["a:1"], { __meta_x: "first" })]);
  await pool.sync([group("0", ["a:1"], { __meta_x: "second" })]);
  expect(pool.activeTargets()[0]!.target.discoveredLabels.get("__meta_x")).toBe("second");
});
