/**
 * The discovery manager (spec §7): one provider per distinct SD config (identical configs
 * in different jobs share one), state per (job, provider) keyed by group source, a group
 * with no targets deletes its source, and full snapshots per job sent to the consumer,
 * batched. Providers keep running across reloads unless their config changed.
 */
import { canonicalJSON } from "../config/equal.ts";
import type { ServiceDiscoveryConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import type { Registry } from "../metrics/registry.ts";
import type { DiscoveryContext, PluginRegistry } from "../plugin.ts";
import type { Clock } from "../scrape/clock.ts";
import { refreshDiscoverer } from "./refresh.ts";
import { HttpClient } from "../scrape/http/http-client.ts";
import type { TargetGroup } from "./types.ts";

/** What a job asks discovery for: its `*_sd_configs` entries, static_configs included. */
export type JobDiscovery = Map<string, ServiceDiscoveryConfig[]>;

interface Provider {
  key: string;
  mechanism: string;
  /** Where it was configured first, for messages (`scrape_configs[2].file_sd_configs[0]`). */
  path: string;
  subscribers: Set<string>;
  groups: Map<string, TargetGroup>;
  stop: AbortController;
  lastError: string;
  lastUpdate: number;
}

export interface ProviderStatus {
  mechanism: string;
  config: string;
  jobs: string[];
  groups: number;
  targets: number;
  lastError: string;
  /** ms since epoch of the last update or successful refresh, 0 before one. */
  lastUpdate: number;
}

export interface DiscoveryManagerOptions {
  plugins: PluginRegistry;
  log: Logger;
  registry: Registry;
  clock: Clock;
  /** Receives full snapshots: every job with all its groups (an empty list clears a job). */
  onUpdate(sets: Map<string, TargetGroup[]>): void | Promise<void>;
  /** Batching of updates to the consumer (Prometheus: 5 s). */
  updateIntervalMs?: number;
}

export class DiscoveryManager {
  readonly #providers = new Map<string, Provider>();
  readonly #jobs = new Set<string>();
  #dirty = false;
  #sending: Promise<void> | null = null;
  #wake = new AbortController();
  readonly #waiters: Array<() => void> = [];
  readonly #failures;
  readonly #updates;

  constructor(private readonly opts: DiscoveryManagerOptions) {
    this.#failures = opts.registry.counter("prometheus_sd_refresh_failures_total", "Number of refresh failures for the given SD mechanism.", ["mechanism"]);
    this.#updates = opts.registry.counter("prometheus_sd_updates_total", "Total number of update events sent to the SD consumers.", ["name"]);
    opts.registry.collector("prometheus_sd_discovered_targets", "Current number of discovered targets.", "gauge", () =>
      [...this.#jobs].map((job) => ({ labels: { name: "scrape", config: job }, value: this.#targetsOf(job).reduce((n, g) => n + g.targets.length, 0) })),
    );
  }

  /**
   * Starts, keeps or stops providers for the jobs' SD configs and sends a full snapshot at
   * once; resolves when the consumer has it.
   */
  apply(jobs: JobDiscovery): Promise<void> {
    const wanted = new Map<string, { sd: ServiceDiscoveryConfig; jobs: Set<string> }>();
    for (const [job, configs] of jobs) {
      for (const sd of configs) {
        const key = `${sd.mechanism}:${canonicalJSON(sd.config)}`;
        const entry = wanted.get(key) ?? { sd, jobs: new Set<string>() };
        entry.jobs.add(job);
        wanted.set(key, entry);
      }
    }
    for (const [key, p] of this.#providers) {
      if (wanted.has(key)) continue;
      p.stop.abort();
      this.#providers.delete(key);
    }
    for (const [key, { sd, jobs: subscribers }] of wanted) {
      const running = this.#providers.get(key);
      if (running !== undefined) {
        running.subscribers = subscribers;
        continue;
      }
      this.#start(key, sd, subscribers);
    }
    this.#jobs.clear();
    for (const job of jobs.keys()) this.#jobs.add(job);
    this.#dirty = true;
    const delivered = new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.#wake.abort();
    void this.#flush();
    return delivered;
  }

  #start(key: string, sd: ServiceDiscoveryConfig, subscribers: Set<string>): void {
    const provider: Provider = { key, mechanism: sd.mechanism, path: sd.path, subscribers, groups: new Map(), stop: new AbortController(), lastError: "", lastUpdate: 0 };
    this.#providers.set(key, provider);
    const log = this.opts.log.with({ component: "discovery", mechanism: sd.mechanism, config: sd.path });
    const plugin = this.opts.plugins.discovery(sd.mechanism);
    const fail = (err: unknown) => {
      provider.lastError = (err as Error)?.message ?? String(err);
      this.#failures.inc({ mechanism: sd.mechanism });
      log.error("Service discovery failed; keeping the last known targets", { err: provider.lastError });
    };
    if (plugin === undefined) {
      fail(new Error(`no plugin for ${sd.mechanism}_sd_configs`));
      return;
    }
    const ctx: DiscoveryContext = {
      log,
      clock: this.opts.clock,
      http: (config) => new HttpClient(config),
      metrics: { counter: (...a) => this.opts.registry.sharedCounter(...a), gauge: (...a) => this.opts.registry.sharedGauge(...a) },
      refresh: (o) => refreshDiscoverer(o, { clock: this.opts.clock, onError: fail, onSuccess: () => this.#touched(provider) }),
    };
    let discoverer;
    try {
      discoverer = plugin.create(sd.config, ctx);
    } catch (err) {
      fail(err);
      return;
    }
    const signal = provider.stop.signal;
    Promise.resolve()
      .then(() => discoverer.run(signal, (groups) => !signal.aborted && this.#receive(provider, groups)))
      .catch((err: unknown) => {
        if (!signal.aborted) fail(err);
      });
  }

  #touched(p: Provider): void {
    p.lastError = "";
    p.lastUpdate = this.opts.clock.now();
  }

  #receive(p: Provider, groups: readonly TargetGroup[]): void {
    for (const g of groups) {
      if (g === null || g === undefined) continue;
      if (g.targets.length === 0) p.groups.delete(g.source);
      else p.groups.set(g.source, g);
    }
    this.#touched(p);
    this.#dirty = true;
    void this.#flush();
  }

  #targetsOf(job: string): TargetGroup[] {
    const out: TargetGroup[] = [];
    for (const p of this.#providers.values()) if (p.subscribers.has(job)) out.push(...p.groups.values());
    return out;
  }

  /**
   * Sends at most one snapshot per update interval; changes meanwhile are coalesced. A
   * config apply skips the wait, so consumers get the new state at once.
   */
  async #flush(): Promise<void> {
    if (this.#sending !== null) return;
    this.#sending = (async () => {
      // Let providers that answer at once (static, files) land in the first snapshot.
      await new Promise((r) => setTimeout(r, 0));
      while (this.#dirty && !this.#stopped.signal.aborted) {
        this.#dirty = false;
        const wake = (this.#wake = new AbortController());
        const waiting = this.#waiters.splice(0);
        const sets = new Map<string, TargetGroup[]>();
        for (const job of this.#jobs) sets.set(job, this.#targetsOf(job));
        this.#updates.inc({ name: "scrape" });
        try {
          await this.opts.onUpdate(sets);
        } catch (err) {
          this.opts.log.error("Applying discovered targets failed", { err });
        }
        for (const resolve of waiting) resolve();
        await this.opts.clock.sleep(this.opts.updateIntervalMs ?? 5_000, AbortSignal.any([this.#stopped.signal, wake.signal]));
      }
    })().finally(() => {
      this.#sending = null;
      for (const resolve of this.#waiters.splice(0)) resolve();
      if (this.#dirty && !this.#stopped.signal.aborted) void this.#flush();
    });
    await this.#sending;
  }

  readonly #stopped = new AbortController();

  status(): ProviderStatus[] {
    return [...this.#providers.values()].map((p) => ({
      mechanism: p.mechanism,
      config: p.path,
      jobs: [...p.subscribers].sort(),
      groups: p.groups.size,
      targets: [...p.groups.values()].reduce((n, g) => n + g.targets.length, 0),
      lastError: p.lastError,
      lastUpdate: p.lastUpdate,
    }));
  }

  stop(): void {
    this.#stopped.abort();
    for (const p of this.#providers.values()) p.stop.abort();
    this.#providers.clear();
  }
}
