/**
 * Scraping, assembled: the manager with its pools, and for each target a loop that scrapes
 * with the job's HTTP client, parses and caches in the shared WASM core, and commits to
 * storage. Static targets come in through the same target-group path as discovery.
 */
import { hostname } from "node:os";
import { formatDuration } from "../config/duration.ts";
import type { Config, ScrapeConfig, ServiceDiscoveryConfig } from "../config/types.ts";
import { DiscoveryManager } from "../discovery/manager.ts";
import type { PluginRegistry } from "../plugin.ts";
import { builtinPlugins } from "../../plugins/discovery/index.ts";
import type { Logger } from "../log/logger.ts";
import type { Registry } from "../metrics/registry.ts";
import type { Storage } from "../../storage/types.ts";
import { core as sharedCore, type Core } from "../../wasm/index.ts";
import { ExpositionParser, Format } from "../../wasm/parser.ts";
import { realClock, type Clock } from "./clock.ts";
import { BodyBufferPool, buildAcceptHeader, ScrapeClient, selectFormat } from "./http/index.ts";
import { ScrapeLoop } from "./loop.ts";
import { ScrapeManager } from "./manager.ts";
import { ScrapeMetrics } from "./metrics.ts";
import type { Loop } from "./pool.ts";
import { cacheReusable, TargetScraper, type FormatSelector } from "./scraper.ts";
import { offsetSeed, scrapeOffset, type Target } from "./target.ts";

const FORMAT_IDS = { text: Format.Text, openmetrics: Format.OpenMetrics, protobuf: Format.Protobuf } as const;

export interface ScrapeServiceOptions {
  storage: Storage;
  registry: Registry;
  log: Logger;
  /** Discovery plugins (built-ins and external ones); static_configs needs "static". */
  plugins?: PluginRegistry;
  clock?: Clock;
  core?: Core;
  /** Batching of discovery updates (Prometheus: 5 s). */
  discoveryUpdateIntervalMs?: number;
}

export class ScrapeService {
  readonly manager: ScrapeManager;
  readonly discovery: DiscoveryManager;
  readonly #metrics: ScrapeMetrics;
  readonly #parser: ExpositionParser;
  readonly #clock: Clock;
  /** One HTTP client per job, replaced when the job's config changes. */
  readonly #clients = new Map<string, { config: ScrapeConfig; client: ScrapeClient }>();
  #seed = 0n;

  private constructor(private readonly opts: ScrapeServiceOptions, private readonly core: Core) {
    this.#clock = opts.clock ?? realClock;
    this.#metrics = new ScrapeMetrics(opts.registry);
    this.#parser = new ExpositionParser(core);
    this.manager = new ScrapeManager((t, c, s, prev) => this.#newLoop(t, c, s, prev), opts.log.with({ component: "scrape manager" }), opts.registry);
    this.discovery = new DiscoveryManager({
      plugins: opts.plugins ?? builtinPlugins(),
      log: opts.log,
      registry: opts.registry,
      clock: this.#clock,
      updateIntervalMs: opts.discoveryUpdateIntervalMs ?? 5_000,
      onUpdate: (sets) => this.manager.updateTargets(sets),
    });
  }

  static async create(opts: ScrapeServiceOptions): Promise<ScrapeService> {
    return new ScrapeService(opts, opts.core ?? (await sharedCore()));
  }

  /** Applies a loaded config: jobs first, then their discovery (static_configs included). */
  async applyConfig(config: Config): Promise<void> {
    this.#seed = offsetSeed(hostname(), config.global.external_labels);
    for (const [job, entry] of this.#clients) {
      if (!config.scrape_configs.some((c) => c.job_name === job)) {
        entry.client.close();
        this.#clients.delete(job);
      }
    }
    await this.manager.applyConfig(config);
    const jobs = new Map<string, ServiceDiscoveryConfig[]>();
    for (const job of config.scrape_configs) {
      const configs = [...job.service_discovery];
      if (job.static_configs.length > 0) configs.unshift({ mechanism: "static", config: job.static_configs, path: `${job.job_name}.static_configs` });
      jobs.set(job.job_name, configs);
    }
    await this.discovery.apply(jobs);
  }

  #clientFor(config: ScrapeConfig): ScrapeClient {
    const entry = this.#clients.get(config.job_name);
    if (entry !== undefined && entry.config === config) return entry.client;
    entry?.client.close();
    const client = new ScrapeClient(config);
    this.#clients.set(config.job_name, { config, client });
    return client;
  }

  /** Body buffers for every loop (see BodyBufferPool). */
  readonly #bodies = new BodyBufferPool();

  #newLoop(target: Target, config: ScrapeConfig, poolSignal: AbortSignal, previous?: Loop): Loop {
    const client = this.#clientFor(config);
    const acceptHeader = buildAcceptHeader(config.scrape_protocols, config.metric_name_escaping_scheme);
    const select: FormatSelector = (contentType) => {
      const s = selectFormat(contentType, config.fallback_scrape_protocol);
      return s.ok ? FORMAT_IDS[s.format] : { error: s.error };
    };
    const log = this.opts.log.with({ component: "scrape", scrape_pool: config.job_name, target: target.url });
    const old = previous instanceof ScrapeLoop && previous.step instanceof TargetScraper ? previous.step : null;
    const inherited = old !== null && cacheReusable(old.config, config) ? old.handOver() : undefined;
    const scraper = new TargetScraper(target, config, {
      core: this.core,
      parser: this.#parser,
      storage: this.opts.storage,
      metrics: this.#metrics,
      log,
      selectFormat: select,
      fetch: (signal) =>
        client.scrape(target.url, {
          timeoutMs: target.timeoutMs,
          acceptHeader,
          bodySizeLimit: config.body_size_limit,
          enableCompression: config.enable_compression,
          signal,
          pool: this.#bodies,
        }),
    }, inherited);
    const offset = scrapeOffset(target.hash, this.#seed, target.intervalMs, this.#clock.now());
    const interval = { interval: formatDuration(target.intervalMs) };
    return new ScrapeLoop(target, scraper, this.#clock, offset, log, poolSignal, (ms) => this.#metrics.intervalLength.observe(interval, ms / 1000), (ticks) => this.#metrics.missed.inc({ job: config.job_name }, ticks));
  }

  async stop(): Promise<void> {
    this.discovery.stop();
    await this.manager.stop();
    for (const { client } of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}
