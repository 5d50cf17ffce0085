/**
 * Plugins: discovery mechanisms (and, later, storage backends) behind small contracts.
 *
 * A discovery plugin named `foo` owns the config key `foo_sd_configs`: the config loader
 * hands each entry to `parseConfig`, which applies defaults and throws located errors
 * through `ctx.error()`. Built-ins are registered statically so `bun build --compile`
 * bundles them; external plugins arrive through the same registry.
 *
 * @example
 * export default definePlugin({
 *   apiVersion: 1, kind: "discovery", name: "consul",
 *   parseConfig(raw, ctx) { return ctx.validate(schema, raw); },
 *   create(config) { return { run(signal, emit) { ... } }; },
 * });
 */
import type { z } from "zod";
import type { ConfigError, PathSegment } from "./config/errors.ts";
import type { RefreshOptions } from "./discovery/refresh.ts";
import type { Discoverer } from "./discovery/types.ts";
import type { Clock } from "./scrape/clock.ts";
import type { HttpClient } from "./scrape/http/http-client.ts";
import type { HttpClientConfig } from "./config/types.ts";
import type { Counter, Gauge, Registry } from "./metrics/registry.ts";
import type { Logger } from "./log/logger.ts";
import type { LabelQuerier, Storage } from "../storage/types.ts";

export const PLUGIN_API_VERSION = 1;

export interface ConfigContext {
  /** Where the entry sits, e.g. `["scrape_configs", 2, "file_sd_configs", 0]`. */
  readonly path: readonly PathSegment[];
  /** Directory that relative file paths in the entry are joined with. */
  readonly dir: string;
  /** A located error for a problem at `relPath` below the entry. */
  error(relPath: readonly PathSegment[], message: string): ConfigError;
  /** Validates the entry (or a part of it) with a zod schema, throwing located errors. */
  validate<S extends z.ZodType>(schema: S, value: unknown, relPath?: readonly PathSegment[]): z.output<S>;
  /**
   * Takes the inlined HTTP client fields (basic_auth, authorization, oauth2, tls_config,
   * proxy_url, ...) out of the entry, validated and with Prometheus's defaults, and returns
   * the remaining fields for the plugin's own schema.
   */
  httpClient(raw: unknown): { http: HttpClientConfig; rest: Record<string, unknown> };
}

export interface DiscoveryPlugin<C = unknown> {
  readonly apiVersion: typeof PLUGIN_API_VERSION;
  readonly kind: "discovery";
  /** Lower-case identifier; the config key is `<name>_sd_configs`. */
  readonly name: string;
  /** The config key, when not `<name>_sd_configs`; null for none (static_configs is its own key). */
  readonly configKey?: string | null;
  parseConfig(raw: unknown, ctx: ConfigContext): C;
  create(config: C, ctx: DiscoveryContext): Discoverer;
}

/** Host services a discoverer receives (an external plugin cannot import the host's packages). */
export interface DiscoveryContext {
  readonly log: {
    debug(msg: string, fields?: Record<string, unknown>): void;
    info(msg: string, fields?: Record<string, unknown>): void;
    warn(msg: string, fields?: Record<string, unknown>): void;
    error(msg: string, fields?: Record<string, unknown>): void;
  };
  /** Builds a discoverer from a polling function (first refresh at once; errors keep the last targets). */
  refresh(opts: RefreshOptions): Discoverer;
  /** The host's clock: sleep on it, so tests can drive time. */
  readonly clock: Clock;
  /** An HTTP client honouring an HTTP client config (auth, TLS, proxy, redirects). */
  http(config: HttpClientConfig): HttpClient;
  /**
   * gleaner's own metrics (/metrics): a counter or gauge is created on first use and shared
   * by every provider of the plugin afterwards, so restarts do not clash.
   */
  readonly metrics: {
    counter(name: string, help: string, labelNames?: readonly string[]): Counter;
    gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  };
}

export type Plugin = DiscoveryPlugin<any>;

/** What a storage backend gets when gleaner opens it. */
export interface StorageContext {
  /** `--storage.tsdb.path`. */
  readonly dir: string;
  readonly retentionMs: number;
  readonly retentionBytes: number;
  /** 0: fsync every commit; more: group commit at most this often. */
  readonly fsyncIntervalMs: number;
  /** Exemplar storage capacity: `storage.exemplars.max_exemplars` with `--enable-feature=exemplar-storage`, else 0. */
  readonly maxExemplars?: number;
  readonly registry: Registry;
  readonly log: Logger;
}

/**
 * A storage backend (the local TSDB is one): gleaner opens the selected one at start and
 * writes every scrape to it; one that also answers label queries serves the series APIs.
 */
export interface StoragePlugin {
  readonly apiVersion: typeof PLUGIN_API_VERSION;
  readonly kind: "storage";
  readonly name: string;
  open(ctx: StorageContext): Promise<Storage & Partial<LabelQuerier>>;
}

const NAME = /^[a-z][a-z0-9_]*$/;

/** Declares a plugin, checking its shape up front. */
export function definePlugin<C>(plugin: DiscoveryPlugin<C>): DiscoveryPlugin<C>;
export function definePlugin(plugin: StoragePlugin): StoragePlugin;
export function definePlugin<C>(plugin: DiscoveryPlugin<C> | StoragePlugin): DiscoveryPlugin<C> | StoragePlugin {
  if (plugin.apiVersion !== PLUGIN_API_VERSION) {
    throw new RangeError(`Cannot define plugin "${plugin.name}": apiVersion ${String(plugin.apiVersion)} is not supported (this gleaner supports ${PLUGIN_API_VERSION})`);
  }
  if (!NAME.test(plugin.name)) {
    throw new TypeError(`Cannot define plugin "${plugin.name}": a name is lower-case letters, digits and underscores`);
  }
  return plugin;
}

/** The plugins one gleaner process knows, chosen at construction (no global state). */
export class PluginRegistry {
  readonly #discovery = new Map<string, { plugin: Plugin; origin: string }>();
  readonly #storage = new Map<string, { plugin: StoragePlugin; origin: string }>();

  constructor(plugins: Array<{ plugin: Plugin | StoragePlugin; origin: string }> = []) {
    for (const { plugin, origin } of plugins) this.register(plugin, origin);
  }

  /** `origin` names where the plugin came from (a file path, or "built-in"). */
  register(plugin: Plugin | StoragePlugin, origin = "built-in"): void {
    if (plugin.kind === "storage") {
      const seen = this.#storage.get(plugin.name);
      if (seen !== undefined) throw new Error(`Cannot register storage plugin "${plugin.name}" from ${origin}: a plugin with that name is already registered from ${seen.origin}`);
      this.#storage.set(plugin.name, { plugin, origin });
      return;
    }
    const existing = this.#discovery.get(plugin.name);
    if (existing !== undefined) {
      throw new Error(`Cannot register plugin "${plugin.name}" from ${origin}: a plugin with that name is already registered from ${existing.origin}`);
    }
    this.#discovery.set(plugin.name, { plugin, origin });
  }

  /** The storage backend named `name`, if any. */
  storage(name: string): StoragePlugin | undefined {
    return this.#storage.get(name)?.plugin;
  }

  storageNames(): string[] {
    return [...this.#storage.keys()].sort();
  }

  /** The discovery plugin named `name` (the mechanism), if any. */
  discovery(name: string): Plugin | undefined {
    return this.#discovery.get(name)?.plugin;
  }

  /** The discovery plugin owning a config key such as `file_sd_configs`, if any. */
  discoveryForKey(key: string): Plugin | undefined {
    for (const { plugin } of this.#discovery.values()) if (configKeyOf(plugin) === key) return plugin;
    return undefined;
  }

  /** Every config key the registered plugins own, sorted. */
  configKeys(): string[] {
    return [...this.#discovery.values()].map(({ plugin }) => configKeyOf(plugin)).filter((k): k is string => k !== null).sort();
  }
}

export function configKeyOf(plugin: Plugin): string | null {
  return plugin.configKey === undefined ? `${plugin.name}_sd_configs` : plugin.configKey;
}
