import { expect, test } from "bun:test";
import { createLogger } from "../log/logger.ts";
import { Registry } from "../metrics/registry.ts";
import { definePlugin, PluginRegistry } from "../plugin.ts";
import { ManualClock } from "../scrape/clock.ts";
import { DiscoveryManager, type JobDiscovery } from "./manager.ts";
import type { TargetGroup } from "./types.ts";

/** A mechanism whose groups the test pushes; counts how often providers start. */
function fakePlugin() {
  const emitters = new Map<string, (groups: TargetGroup[]) => void>();
  const starts: string[] = [];
  const plugin = definePlugin<{ id: string; fail?: boolean }>({
    apiVersion: 1,
    kind: "discovery",
    name: "fake",
    parseConfig: (raw) => raw as { id: string },
    create: (config, ctx) => {
      if (config.fail) throw new Error(`cannot create ${config.id}`);
      return {
        run: async (signal, emit) => {
          starts.push(config.id);
          emitters.set(config.id, emit);
          await ctx.clock.sleep(1e12, signal);
          emitters.delete(config.id);
        },
      };
    },
  });
  return { plugin, emitters, starts };
}

function setup() {
  const fake = fakePlugin();
  const clock = new ManualClock(0);
  const updates: Array<Map<string, TargetGroup[]>> = [];
  const registry = new Registry();
  const m = new DiscoveryManager({
    plugins: new PluginRegistry([{ plugin: fake.plugin, origin: "test" }]),
    log: createLogger({ level: "error", format: "logfmt", write: () => {} }),
    registry,
    clock,
    updateIntervalMs: 5_000,
    onUpdate: (sets) => void updates.push(sets),
  });
  const last = (job: string) => (updates.at(-1)?.get(job) ?? []).map((g) => `${g.source}=${g.targets.map((t) => t.__address__).join("+")}`).sort();
  return { m, clock, updates, last, registry, ...fake };
}

const jobs = (entries: Record<string, string[]>): JobDiscovery =>
  new Map(Object.entries(entries).map(([job, ids]) => [job, ids.map((id) => ({ mechanism: "fake", config: { id }, path: `${job}.fake` }))]));
const group = (source: string, ...addrs: string[]): TargetGroup => ({ source, targets: addrs.map((a) => ({ __address__: a })), labels: {} });

test("identical configs in different jobs share one provider, and both jobs get its targets", async () => {
  const s = setup();
  await s.m.apply(jobs({ a: ["p1"], b: ["p1"] }));
  expect(s.starts).toEqual(["p1"]);
  s.emitters.get("p1")!([group("g", "x:1")]);
  await s.clock.advance(5_000);
  expect(s.last("a")).toEqual(["g=x:1"]);
  expect(s.last("b")).toEqual(["g=x:1"]);
  expect(s.m.status()).toEqual([{ mechanism: "fake", config: "a.fake", jobs: ["a", "b"], groups: 1, targets: 1, lastError: "", lastUpdate: 0 }]);
});

test("a group replaces the group of the same source; a group with no targets deletes it", async () => {
  const s = setup();
  await s.m.apply(jobs({ a: ["p1"] }));
  s.emitters.get("p1")!([group("g1", "x:1"), group("g2", "y:1")]);
  await s.clock.advance(5_000);
  s.emitters.get("p1")!([group("g1", "z:1"), group("g2")]);
  await s.clock.advance(5_000);
  expect(s.last("a")).toEqual(["g1=z:1"]);
});

test("updates are batched: at most one snapshot per update interval", async () => {
  const s = setup();
  await s.m.apply(jobs({ a: ["p1"] }));
  const sent = s.updates.length;
  for (let i = 0; i < 10; i++) s.emitters.get("p1")!([group("g", `x:${i}`)]);
  await s.clock.advance(1_000);
  expect(s.updates.length).toBe(sent);
  await s.clock.advance(4_000);
  expect(s.updates.length).toBe(sent + 1);
  expect(s.last("a")).toEqual(["g=x:9"]);
});

test("a reload keeps unchanged providers running, starts new ones and stops removed ones, whose targets go", async () => {
  const s = setup();
  await s.m.apply(jobs({ a: ["p1", "p2"] }));
  s.emitters.get("p1")!([group("g1", "x:1")]);
  s.emitters.get("p2")!([group("g2", "y:1")]);
  await s.clock.advance(5_000);
  await s.m.apply(jobs({ a: ["p1", "p3"] }));
  expect(s.starts).toEqual(["p1", "p2", "p3"]);
  expect(s.last("a")).toEqual(["g1=x:1"]);
});

test("a job with no providers gets an empty target list, so its old targets stop", async () => {
  const s = setup();
  await s.m.apply(jobs({ a: ["p1"] }));
  s.emitters.get("p1")!([group("g1", "x:1")]);
  await s.clock.advance(5_000);
  await s.m.apply(jobs({ a: [] }));
  expect(s.updates.at(-1)!.get("a")).toEqual([]);
});

test("a provider that cannot be created is reported with its error; other providers run", async () => {
  const s = setup();
  await s.m.apply(new Map([["a", [{ mechanism: "fake", config: { id: "bad", fail: true }, path: "a.fake[0]" }, { mechanism: "fake", config: { id: "p1" }, path: "a.fake[1]" }]]]));
  expect(s.m.status().find((p) => p.config === "a.fake[0]")!.lastError).toBe("cannot create bad");
  expect(s.registry.expose()).toContain('prometheus_sd_refresh_failures_total{mechanism="fake"} 1');
  expect(s.starts).toEqual(["p1"]);
});

test("apply() delivers the new state at once, even inside a batching window", async () => {
  const s = setup();
  await s.m.apply(jobs({ a: ["p1"] }));
  await s.m.apply(jobs({ a: ["p1"], b: ["p2"] }));
  expect([...s.updates.at(-1)!.keys()].sort()).toEqual(["a", "b"]);
});

test("plugins register their own metrics through the context, shared across provider restarts", async () => {
  const clock = new ManualClock(0);
  const registry = new Registry();
  const plugin = definePlugin<{ id: string }>({
    apiVersion: 1,
    kind: "discovery",
    name: "counting",
    parseConfig: (raw) => raw as { id: string },
    create: (config, ctx) => {
      ctx.metrics.counter("counting_sd_starts_total", "Providers started.", ["id"]).inc({ id: config.id });
      return { run: () => {} };
    },
  });
  const m = new DiscoveryManager({ plugins: new PluginRegistry([{ plugin, origin: "test" }]), log: createLogger({ level: "error", format: "logfmt", write: () => {} }), registry, clock, onUpdate: () => {} });
  await m.apply(new Map([["a", [{ mechanism: "counting", config: { id: "1" }, path: "a" }]]]));
  await m.apply(new Map([["a", [{ mechanism: "counting", config: { id: "2" }, path: "a" }]]]));
  expect(registry.expose()).toContain('counting_sd_starts_total{id="1"} 1\ncounting_sd_starts_total{id="2"} 1\n');
  m.stop();
});
