/**
 * The conformance suite every discovery plugin runs, built-in or external: the full set
 * first, then changes; empty groups delete; a failing source keeps the last targets and
 * recovers; an abort stops the discoverer; nothing is sent after the abort.
 *
 * A plugin's test calls `discoveryConformance({...})` with a backend it controls (a file,
 * a loopback fake of the API, a real DNS server). Plugin authors can run it too:
 *
 * @example
 * import { discoveryConformance } from "gleaner/test/conformance/discovery.case.ts";
 * discoveryConformance({ name: "file", plugin, setup: async () => ({ ... }) });
 */
import { describe, expect, test } from "bun:test";
import { createLogger } from "../../core/log/logger.ts";
import { refreshDiscoverer } from "../../core/discovery/refresh.ts";
import type { TargetGroup } from "../../core/discovery/types.ts";
import { PluginRegistry, type ConfigContext, type DiscoveryContext, type DiscoveryPlugin } from "../../core/plugin.ts";
import { parseConfig } from "../../core/config/load.ts";
import { ManualClock } from "../../core/scrape/clock.ts";
import { Registry } from "../../core/metrics/registry.ts";
import { HttpClient } from "../../core/scrape/http/http-client.ts";
import { takeHttpClient } from "../../core/config/service-discovery.ts";
import { ConfigSource } from "../../core/config/source.ts";

export interface DiscoveryBackend {
  /** The plugin config as the YAML loader hands it over (strings, lists, maps). */
  rawConfig: unknown;
  /** Makes the source list exactly these target addresses, one group per inner list. */
  setTargets(groups: string[][]): Promise<void>;
  /** Makes the source fail (unreachable, malformed, 500, ...). */
  breakSource(): Promise<void>;
  /** Undoes breakSource(). */
  restoreSource(): Promise<void>;
  close(): Promise<void>;
}

export interface DiscoveryCase<C> {
  name: string;
  plugin: DiscoveryPlugin<C>;
  setup(): Promise<DiscoveryBackend>;
  /** Milliseconds of (manual) time after which the plugin has refreshed; default 5 minutes. */
  refreshMs?: number;
  /** Tests to skip, each with the reason. */
  skip?: Partial<Record<ConformanceTest, string>>;
}

export type ConformanceTest = "full set first" | "changes" | "deletions" | "errors keep targets" | "recovery" | "abort";

/** Config context for calling parseConfig outside the loader. */
export function testConfigContext(dir = process.cwd()): ConfigContext {
  return {
    path: ["test"],
    dir,
    error: (rel, message) => new Error(`${["test", ...rel].join(".")}: ${message}`) as never,
    validate: (schema, value) => {
      const r = schema.safeParse(value);
      if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
      return r.data;
    },
    httpClient: (raw) => takeHttpClient(raw, new ConfigSource("test.yml", ""), ["test"], dir),
  };
}

/** A running discoverer with its accumulated state (source → group; empty groups delete). */
export class Harness {
  readonly clock = new ManualClock(1_800_000_000_000);
  /** The metrics the plugin registered through its context. */
  readonly registry = new Registry();
  readonly state = new Map<string, TargetGroup>();
  readonly errors: string[] = [];
  emits = 0;
  emitsAfterAbort = 0;
  readonly #stop = new AbortController();
  done: Promise<void>;

  constructor(plugin: DiscoveryPlugin<any>, config: unknown) {
    const log = createLogger({ level: "error", format: "logfmt", write: (l) => this.errors.push(l) });
    const ctx: DiscoveryContext = {
      log,
      clock: this.clock,
      http: (config) => new HttpClient(config),
      metrics: { counter: (...a) => this.registry.sharedCounter(...a), gauge: (...a) => this.registry.sharedGauge(...a) },
      refresh: (o) => refreshDiscoverer(o, { clock: this.clock, onError: (err) => this.errors.push((err as Error).message) }),
    };
    const d = plugin.create(config, ctx);
    this.done = Promise.resolve(d.run(this.#stop.signal, (groups) => {
      if (this.#stop.signal.aborted) this.emitsAfterAbort++;
      this.emits++;
      for (const g of groups) {
        if (g.targets.length === 0) this.state.delete(g.source);
        else this.state.set(g.source, g);
      }
    }));
  }

  /** Every target address, sorted. */
  addresses(): string[] {
    return [...this.state.values()].flatMap((g) => g.targets.map((t) => t.__address__ ?? "")).sort();
  }

  /** Waits (real time, driving the manual clock) until `check` holds. */
  async until(check: () => boolean, stepMs = 1_000, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`condition not met; targets: ${JSON.stringify(this.addresses())}; errors: ${this.errors.join(" | ")}`);
      await this.clock.advance(stepMs);
      await Bun.sleep(5);
    }
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.done;
  }
}

export function discoveryConformance<C>(c: DiscoveryCase<C>): void {
  const refreshMs = c.refreshMs ?? 300_000;
  const run = (name: ConformanceTest, fn: (b: DiscoveryBackend, h: () => Harness) => Promise<void>) => {
    const reason = c.skip?.[name];
    if (reason !== undefined) {
      test.skip(`${c.name}: ${name} (skipped: ${reason})`, () => {});
      return;
    }
    test(`${c.name}: ${name}`, async () => {
      const backend = await c.setup();
      const held: { harness: Harness | null } = { harness: null };
      try {
        const config = c.plugin.parseConfig(backend.rawConfig, testConfigContext());
        await fn(backend, () => (held.harness ??= new Harness(c.plugin, config)));
      } finally {
        await held.harness?.stop();
        await backend.close();
      }
    }, 20_000);
  };

  describe(`discovery conformance: ${c.name}`, () => {
    run("full set first", async (b, h) => {
      await b.setTargets([["a:1", "b:1"], ["c:1"]]);
      const harness = h();
      await harness.until(() => harness.emits > 0, 10);
      expect(harness.addresses()).toEqual(["a:1", "b:1", "c:1"]);
    });

    run("changes", async (b, h) => {
      await b.setTargets([["a:1", "b:1"]]);
      const harness = h();
      await harness.until(() => harness.addresses().length === 2, 10);
      await b.setTargets([["a:1", "x:1"]]);
      await harness.until(() => harness.addresses().join() === "a:1,x:1", refreshMs / 4, 10_000);
    });

    run("deletions", async (b, h) => {
      await b.setTargets([["a:1"], ["b:1"]]);
      const harness = h();
      await harness.until(() => harness.addresses().length === 2, 10);
      await b.setTargets([]);
      await harness.until(() => harness.addresses().length === 0, refreshMs / 4, 10_000);
    });

    run("errors keep targets", async (b, h) => {
      await b.setTargets([["a:1"]]);
      const harness = h();
      await harness.until(() => harness.addresses().length === 1, 10);
      await b.breakSource();
      const emits = harness.emits;
      await harness.until(() => harness.errors.length > 0 || harness.emits > emits, refreshMs / 4, 10_000);
      await harness.clock.advance(refreshMs * 2);
      await Bun.sleep(20);
      expect(harness.addresses()).toEqual(["a:1"]);
    });

    run("recovery", async (b, h) => {
      await b.setTargets([["a:1"]]);
      const harness = h();
      await harness.until(() => harness.addresses().length === 1, 10);
      await b.breakSource();
      await harness.clock.advance(refreshMs * 2);
      await Bun.sleep(20);
      await b.restoreSource();
      await b.setTargets([["z:1"]]);
      await harness.until(() => harness.addresses().join() === "z:1", refreshMs / 4, 10_000);
    });

    run("abort", async (b, h) => {
      await b.setTargets([["a:1"]]);
      const harness = h();
      await harness.until(() => harness.emits > 0, 10);
      const stopped = harness.stop();
      const result = await Promise.race([stopped.then(() => "stopped"), Bun.sleep(2_000).then(() => "still running")]);
      expect(result).toBe("stopped");
      await b.setTargets([["late:1"]]);
      await harness.clock.advance(refreshMs * 2);
      await Bun.sleep(20);
      expect(harness.emitsAfterAbort).toBe(0);
    });
  });
}

/**
 * Loads one `<key>` entry through the real config loader with only `plugin` registered:
 * `load(entry)` returns the job's SD configs, `loadError(entry)` the located error.
 */
export function sdConfigLoader(plugin: DiscoveryPlugin<any>, key = `${plugin.name}_sd_configs`) {
  const plugins = new PluginRegistry([{ plugin, origin: "test" }]);
  const load = (entry: string) => parseConfig(`scrape_configs:\n  - job_name: j\n    ${key}:\n      - ${entry.replace(/\n/g, "\n        ")}\n`, "p.yml", { plugins });
  const loadError = (entry: string): string => {
    try {
      load(entry);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`expected ${key} entry to be rejected: ${entry}`);
  };
  return { load, loadError };
}
