/**
 * A running gleaner: the loaded config, the HTTP server, and config reloads.
 * Subsystems (scrape manager, storage) subscribe with `onConfig` and receive every
 * config that loaded cleanly; an invalid new config is logged and the old one stays.
 */
import { mkdirSync, accessSync, constants, readFileSync } from "node:fs";
import { loadConfigFile } from "./config/load.ts";
import { loadPlugin, pluginPathsOf } from "./plugin-loader.ts";
import type { Config } from "./config/types.ts";
import type { Logger } from "./log/logger.ts";
import { registerProcessMetrics } from "./metrics/process.ts";
import { Registry } from "./metrics/registry.ts";
import { monitorEventLoop } from "./metrics/event-loop.ts";
import type { PluginRegistry } from "./plugin.ts";
import { createWebApp } from "./web/app.ts";
import { ScrapeService } from "./scrape/service.ts";
import type { ExemplarQuerier, LabelQuerier, Querier, Storage } from "../storage/types.ts";
import { columnsOf } from "../storage/columns.ts";
import { QueryEngine } from "./query/engine.ts";
import { VERSION } from "./version.ts";
import { join } from "node:path";
import { FanoutStorage } from "../storage/fanout.ts";
import { RemoteWriteStorage, walSourceOf } from "../storage/remote/index.ts";

export interface ServerOptions {
  configFile: string;
  storagePath: string;
  retentionTime: number;
  /** Bytes the block store may use (0: no limit). */
  retentionSize?: number;
  /** WAL group commit: fsync at most this often (0: every commit). */
  walFsyncInterval?: number;
  /** The storage plugin to write to (default: the local TSDB). */
  storageBackend?: string;
  listenAddress: string;
  enableLifecycle: boolean;
  log: Logger;
  plugins: PluginRegistry;
  /** External plugin modules from `--plugin` (the config's `plugins:` list adds more). */
  pluginPaths?: string[];
  /** `--web.enable-remote-write-receiver`: accept POST /api/v1/write. */
  enableRemoteWriteReceiver?: boolean;
  /** `--storage.remote.flush-deadline` in ms: how long stopping keeps sending queued samples (default 1m). */
  remoteFlushDeadline?: number;
  /** `--query.timeout` in ms (default 2m). */
  queryTimeout?: number;
  /** `--query.max-samples` (default 50,000,000). */
  queryMaxSamples?: number;
  /** `--query.lookback-delta` in ms (default 5m). */
  lookbackDelta?: number;
  /** PromQL with Prometheus 2.x's semantics where 3.x changed them (EngineOptions.v2Semantics): for comparisons with a 2.x server. */
  promqlV2Semantics?: boolean;
  /** Every flag's value, for /api/v1/status/flags. */
  flags?: Record<string, string>;
  /** `--enable-feature` values (e.g. "exemplar-storage"). */
  features?: ReadonlySet<string>;
}

export type ConfigSubscriber = (config: Config) => void | Promise<void>;

/** Splits `host:port` as Go's net.SplitHostPort does (`:9090` and `[::1]:9090` included). */
export function parseListenAddress(address: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : NaN;
  if (m === null || port > 65535) {
    throw new RangeError(`Cannot listen on "${address}": expected host:port, e.g. 0.0.0.0:9090 or :9090`);
  }
  const host = m[1] ?? m[2] ?? "";
  return { hostname: host === "" ? "0.0.0.0" : host, port };
}

export class Server {
  readonly registry = new Registry();
  #config: Config | null = null;
  #http: ReturnType<typeof Bun.serve> | null = null;
  #ready = false;
  #storage: (Storage & Partial<LabelQuerier>) | null = null;
  #scrape: ScrapeService | null = null;
  /** What scrapes write to: the storage, plus remote write when it can tail the storage's WAL. */
  #writeStorage: Storage | null = null;
  #engine: QueryEngine | null = null;
  get #exemplarStorage(): boolean {
    return this.opts.features?.has("exemplar-storage") ?? false;
  }
  #configText: string | null = null;
  #pendingText: string | null = null;
  #lastConfigTime = 0;
  #reloadOk = false;
  readonly #startTime = Date.now();
  readonly #subscribers: ConfigSubscriber[] = [];
  readonly #done: Promise<void>;
  #resolveDone!: () => void;
  readonly #reloadSuccess;
  readonly #reloadTime;
  readonly #reloads;

  constructor(readonly opts: ServerOptions) {
    this.#done = new Promise((r) => (this.#resolveDone = r));
    registerProcessMetrics(this.registry);
    this.registry
      .gauge("gleaner_build_info", "A metric with a constant '1' value labeled by the version and runtime gleaner was built with.", ["version", "bunversion"])
      .set({ version: VERSION, bunversion: Bun.version }, 1);
    this.#reloadSuccess = this.registry.gauge("prometheus_config_last_reload_successful", "Whether the last configuration reload attempt was successful.");
    this.#reloadTime = this.registry.gauge("prometheus_config_last_reload_success_timestamp_seconds", "Timestamp of the last successful configuration reload.");
    this.#reloads = this.registry.counter("gleaner_config_reloads_total", "Configuration loads, by result.", ["result"]);
    this.registry.collector("prometheus_ready", "Whether gleaner is ready to serve traffic.", "gauge", () => [{ value: this.#ready ? 1 : 0 }]);
    this.#stopLagMonitor = monitorEventLoop(this.registry, opts.log.with({ component: "event-loop" }));
  }

  readonly #stopLagMonitor: () => void;

  /** Where scraped samples go. */
  get storage(): Storage | null {
    return this.#storage;
  }

  get config(): Config | null {
    return this.#config;
  }

  /** The address the HTTP server listens on, once started. */
  get url(): URL {
    if (this.#http === null) throw new Error("Server is not started");
    return this.#http.url;
  }

  onConfig(subscriber: ConfigSubscriber): void {
    this.#subscribers.push(subscriber);
  }

  /** Loads the config (throws ConfigError before anything starts), then serves HTTP. */
  async start(): Promise<void> {
    const { log } = this.opts;
    const listen = parseListenAddress(this.opts.listenAddress);
    const config = await this.#load();
    this.#prepareStorage();
    const backend = this.opts.storageBackend ?? "tsdb";
    const plugin = this.opts.plugins.storage(backend);
    if (plugin === undefined) throw new Error(`No storage plugin "${backend}" (available: ${this.opts.plugins.storageNames().join(", ")})`);
    try {
      this.#storage = await plugin.open({
        dir: this.opts.storagePath,
        retentionMs: this.opts.retentionTime,
        retentionBytes: this.opts.retentionSize ?? 0,
        fsyncIntervalMs: this.opts.walFsyncInterval ?? 0,
        maxExemplars: this.#exemplarStorage ? config.storage.exemplars.max_exemplars : 0,
        registry: this.registry,
        log: log.with({ component: backend }),
      });
    } catch (err) {
      throw new Error(`Cannot open the ${backend} storage in "${this.opts.storagePath}" (--storage.tsdb.path): ${(err as Error).message}`);
    }
    const lookbackDeltaMs = this.opts.lookbackDelta ?? 300_000;
    const queryTimeoutMs = this.opts.queryTimeout ?? 120_000;
    if (typeof (this.#storage as Partial<Querier>).select === "function") {
      this.#engine = new QueryEngine(columnsOf(this.#storage as Storage & Querier), { lookbackDeltaMs, maxSamples: this.opts.queryMaxSamples ?? 50_000_000, timeoutMs: queryTimeoutMs, v2Semantics: this.opts.promqlV2Semantics ?? false });
    }
    this.#writeStorage = this.#withRemoteWrite(this.#storage);
    this.#scrape = await ScrapeService.create({ storage: this.#writeStorage, registry: this.registry, log, plugins: this.opts.plugins });
    const scrape = this.#scrape;
    this.#subscribers.unshift((c) => scrape.applyConfig(c));
    await this.#apply(config);
    const app = createWebApp({
      registry: this.registry,
      log: log.with({ component: "web" }),
      enableLifecycle: this.opts.enableLifecycle,
      isReady: () => this.#ready,
      reload: () => this.reload(),
      scrapeManager: () => this.#scrape?.manager ?? null,
      discovery: () => this.#scrape?.discovery.status() ?? [],
      labels: () => (this.#storage?.series !== undefined ? (this.#storage as LabelQuerier) : null),
      engine: () => this.#engine,
      exemplars: () => (this.#exemplarStorage && typeof (this.#storage as Partial<ExemplarQuerier> | null)?.selectExemplars === "function" ? (this.#storage as unknown as ExemplarQuerier) : null),
      queryTimeoutMs,
      querier: () => (this.#engine !== null ? (this.#storage as Storage & Querier) : null),
      lookbackDeltaMs,
      externalLabels: () => this.#config?.global.external_labels ?? {},
      status: {
        flags: this.opts.flags ?? {},
        configText: () => this.#configText,
        runtime: () => ({ startTime: this.#startTime, reloadConfigSuccess: this.#reloadOk, lastConfigTime: this.#lastConfigTime, storageRetention: this.opts.flags?.["storage.tsdb.retention.time"] ?? "" }),
      },
      quit: () => void this.stop("quit requested through /-/quit"),
      ...(this.opts.enableRemoteWriteReceiver ? { remoteWriteReceiver: { storage: () => this.#writeStorage, log: log.with({ component: "remote-write-receiver" }), seriesRef: (l) => (this.#storage as { head?: { refOf(x: typeof l): number | undefined } } | null)?.head?.refOf(l) } } : {}),
    });
    try {
      // A query may run up to --query.timeout: keep its connection open that long (Bun allows up to 255 s).
      const idleTimeout = Math.min(255, Math.max(60, Math.ceil(queryTimeoutMs / 1000) + 5));
      this.#http = Bun.serve({ hostname: listen.hostname, port: listen.port, fetch: app.fetch, idleTimeout });
    } catch (err) {
      throw new Error(`Cannot listen on ${this.opts.listenAddress}: ${(err as Error).message}`);
    }
    this.#ready = true;
    log.info("Server is ready to receive web requests.", { address: `${this.#http.hostname}:${this.#http.port}` });
  }

  /** External plugins first (they decide which `*_sd_configs` keys are valid), then the config. */
  async #load(): Promise<Config> {
    try {
      for (const path of [...(this.opts.pluginPaths ?? []), ...pluginPathsOf(this.opts.configFile)]) {
        const plugin = await loadPlugin(path, this.opts.plugins);
        this.opts.log.debug("Loaded discovery plugin", { name: plugin.name, file: path });
      }
      const config = loadConfigFile(this.opts.configFile, {
        plugins: this.opts.plugins,
        warn: (msg) => this.opts.log.warn(msg, { file: this.opts.configFile }),
      });
      this.#reloads.inc({ result: "success" });
      this.#pendingText = readFileSync(this.opts.configFile, "utf8");
      return config;
    } catch (err) {
      this.#reloads.inc({ result: "failure" });
      this.#reloadSuccess.set({}, 0);
      this.#reloadOk = false;
      throw err;
    }
  }

  /** Remote write tails the storage's WAL (storage/remote); scrapes go through a fan-out to both. */
  #withRemoteWrite(primary: Storage): Storage {
    const log = this.opts.log.with({ component: "remote" });
    const source = walSourceOf(primary);
    if (source === null) {
      this.onConfig((c) => void (c.remote_write.length > 0 && log.error("remote_write needs a storage with a WAL (--storage.backend=tsdb); not sending")));
      return primary;
    }
    const flush = this.opts.remoteFlushDeadline;
    // Targets' metadata for remote write's metadata requests, as Prometheus sends them.
    const metadata = () => [...(this.#scrape?.manager.pools().values() ?? [])].flatMap((p) => p.activeTargets().flatMap(({ loop }) => loop.metadata()));
    const remote = new RemoteWriteStorage({ source, dir: join(this.opts.storagePath, "remote"), registry: this.registry, log, metadata, ...(flush !== undefined ? { flushDeadlineMs: flush } : {}) });
    this.onConfig((c) => remote.applyConfig(c));
    return new FanoutStorage(primary, [remote]);
  }

  #prepareStorage(): void {
    const path = this.opts.storagePath;
    try {
      mkdirSync(path, { recursive: true });
      accessSync(path, constants.W_OK);
    } catch (err) {
      throw new Error(`Cannot use storage directory "${path}" (--storage.tsdb.path): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  async #apply(config: Config): Promise<void> {
    for (const s of this.#subscribers) await s(config);
    this.#engine?.setSubqueryStep(config.global.evaluation_interval);
    if (this.#exemplarStorage) (this.#storage as Partial<{ setMaxExemplars(n: number): void }> | null)?.setMaxExemplars?.(config.storage.exemplars.max_exemplars);
    this.#config = config;
    this.#configText = this.#pendingText;
    this.#reloadOk = true;
    this.#lastConfigTime = Date.now();
    this.#reloadSuccess.set({}, 1);
    this.#reloadTime.set({}, Math.floor(Date.now() / 1000));
    this.opts.log.info("Completed loading of configuration file", { filename: this.opts.configFile, jobs: config.scrape_configs.length });
  }

  /** Re-reads the config file; on error the running config stays and the error is thrown. */
  async reload(): Promise<void> {
    const { log } = this.opts;
    log.info("Loading configuration file", { filename: this.opts.configFile });
    let config: Config;
    try {
      config = await this.#load();
    } catch (err) {
      log.error("Error reloading config; keeping the running configuration", { err: (err as Error).message });
      throw err;
    }
    await this.#apply(config);
  }

  /** Stops serving and resolves `done()`. Safe to call more than once. */
  async stop(reason: string): Promise<void> {
    if (!this.#ready && this.#http === null) {
      this.#stopLagMonitor();
      return this.#resolveDone();
    }
    this.#ready = false;
    this.opts.log.info("Stopping gleaner", { reason });
    await this.#http?.stop();
    this.#http = null;
    await this.#scrape?.stop();
    await (this.#writeStorage ?? this.#storage)?.close();
    this.#stopLagMonitor();
    this.opts.log.info("See you next time!");
    this.#resolveDone();
  }

  /** Resolves once the server has stopped. */
  done(): Promise<void> {
    return this.#done;
  }
}
