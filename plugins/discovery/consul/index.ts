/**
 * consul_sd_configs (spec §1.6): services from Consul's HTTP API, watched with blocking
 * queries. Without a fixed service list (or with tags or a catalog filter), the catalog's
 * service list is watched (`/v1/catalog/services`) and each matching service gets its own watch of
 * `/v1/health/service/<name>`; a service that leaves the catalog deletes its group. Each
 * watch is paced by refresh_interval; an RPC error sleeps 15s and sends nothing, so the
 * last targets stay.
 */
import { z } from "zod";
import { bool, duration, str, stringList, stringMap } from "../../../core/config/schema/fields.ts";
import { definePlugin, type DiscoveryContext } from "../../../core/plugin.ts";
import type { Clock } from "../../../core/scrape/clock.ts";
import type { HttpClient } from "../../../core/scrape/http/http-client.ts";
import type { HttpClientConfig } from "../../../core/config/types.ts";
import type { TargetGroup } from "../../../core/discovery/types.ts";

export interface ConsulSDConfig {
  http: HttpClientConfig;
  server: string;
  path_prefix: string;
  token: string;
  datacenter: string;
  namespace: string;
  partition: string;
  tag_separator: string;
  scheme: string;
  allow_stale: boolean;
  refresh_interval: number;
  services: string[];
  tags: string[];
  node_meta: Record<string, string>;
  filter: string;
  health_filter: string;
}

const schema = z.strictObject({
  server: str.nullish(),
  path_prefix: str.nullish(),
  token: str.nullish(),
  datacenter: str.nullish(),
  namespace: str.nullish(),
  partition: str.nullish(),
  tag_separator: str.nullish(),
  scheme: str.nullish(),
  username: str.nullish(),
  password: str.nullish(),
  allow_stale: bool.nullish(),
  refresh_interval: duration.nullish(),
  services: stringList.nullish(),
  tags: stringList.nullish(),
  node_meta: stringMap.nullish(),
  filter: str.nullish(),
  health_filter: str.nullish(),
});

/** How long a blocking query may be held by the server (Prometheus's watchTimeout). */
export const WATCH_TIMEOUT_MS = 120_000;
/** The pause after a failed request. */
export const RETRY_INTERVAL_MS = 15_000;

const PREFIX = "__meta_consul_";

export function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, "_");
}

export function joinHostPort(host: string, port: number | string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** One entry of `/v1/health/service/<name>`. */
interface ServiceEntry {
  Node?: { Node?: string; Address?: string; Meta?: Record<string, string> | null; TaggedAddresses?: Record<string, string> | null } | null;
  Service?: { ID?: string; Tags?: string[] | null; Address?: string; Port?: number; Meta?: Record<string, string> | null; Namespace?: string; Partition?: string } | null;
  Checks?: Array<{ CheckID?: string; Status?: string }> | null;
}

/**
 * The status of a list of checks as Consul's client aggregates it: maintenance over
 * critical over warning over passing; an unknown status gives ""; no checks is passing.
 */
export function aggregatedStatus(checks: ReadonlyArray<{ CheckID?: string; Status?: string }>): string {
  let warning = false;
  let critical = false;
  let maintenance = false;
  for (const c of checks) {
    const id = c.CheckID ?? "";
    if (id === "_node_maintenance" || id.startsWith("_service_maintenance:")) {
      maintenance = true;
      continue;
    }
    if (c.Status === "warning") warning = true;
    else if (c.Status === "critical") critical = true;
    else if (c.Status !== "passing") return "";
  }
  if (maintenance) return "maintenance";
  if (critical) return "critical";
  if (warning) return "warning";
  return "passing";
}

/** The targets of one service, from its health entries. */
export function serviceGroup(name: string, dc: string, entries: readonly ServiceEntry[], separator: string): TargetGroup {
  const targets = entries.map((e) => {
    const node = e.Node ?? {};
    const svc = e.Service ?? {};
    const port = String(svc.Port ?? 0);
    const nodeAddress = node.Address ?? "";
    const serviceAddress = svc.Address ?? "";
    // A service registered remotely through another node has its own address.
    const t: Record<string, string> = {
      __address__: joinHostPort(serviceAddress !== "" ? serviceAddress : nodeAddress, port),
      [`${PREFIX}address`]: nodeAddress,
      [`${PREFIX}node`]: node.Node ?? "",
      [`${PREFIX}namespace`]: svc.Namespace ?? "",
      [`${PREFIX}partition`]: svc.Partition ?? "",
      // Separators at both ends, so a relabel regex need not care where a tag sits.
      [`${PREFIX}tags`]: separator + (svc.Tags ?? []).join(separator) + separator,
      [`${PREFIX}service_address`]: serviceAddress,
      [`${PREFIX}service_port`]: port,
      [`${PREFIX}service_id`]: svc.ID ?? "",
      [`${PREFIX}health`]: aggregatedStatus(e.Checks ?? []),
    };
    for (const [k, v] of Object.entries(node.Meta ?? {})) t[`${PREFIX}metadata_${sanitizeLabelName(k)}`] = v;
    for (const [k, v] of Object.entries(svc.Meta ?? {})) t[`${PREFIX}service_metadata_${sanitizeLabelName(k)}`] = v;
    for (const [k, v] of Object.entries(node.TaggedAddresses ?? {})) t[`${PREFIX}tagged_address_${sanitizeLabelName(k)}`] = v;
    return t;
  });
  return { source: name, targets, labels: { [`${PREFIX}service`]: name, [`${PREFIX}dc`]: dc } };
}

/** Go's time.Ticker on the host clock: ticks at start + k·interval; missed ticks collapse into one. */
class Ticker {
  readonly #start: number;
  #consumed = 0;
  constructor(readonly clock: Clock, readonly interval: number) {
    this.#start = clock.now();
  }
  async wait(signal: AbortSignal): Promise<void> {
    const due = Math.floor((this.clock.now() - this.#start) / this.interval);
    if (due > this.#consumed) {
      this.#consumed = due;
      return;
    }
    this.#consumed++;
    await this.clock.sleep(this.#start + this.#consumed * this.interval - this.clock.now(), signal);
  }
}

interface QueryResult<T> {
  body: T;
  index: bigint;
}

/** The few Consul HTTP API calls discovery needs, with Consul's client's query parameters. */
export class ConsulApi {
  readonly #base: string;
  constructor(readonly config: ConsulSDConfig, readonly http: HttpClient) {
    this.#base = `${config.scheme}://${config.server}${config.path_prefix}`;
  }

  /** GET `path` with `params` and the client-wide dc/ns/partition; a watch's answer must carry X-Consul-Index. */
  async get<T>(path: string, params: Array<[string, string]>, signal: AbortSignal): Promise<QueryResult<T>> {
    const c = this.config;
    const all: Array<[string, string]> = [...params];
    if (c.datacenter !== "") all.push(["dc", c.datacenter]);
    if (c.namespace !== "") all.push(["ns", c.namespace]);
    if (c.partition !== "") all.push(["partition", c.partition]);
    // Go's url.Values.Encode orders by key; values of one key keep their order.
    all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const qs = new URLSearchParams(all).toString();
    const url = `${this.#base}${path}${qs === "" ? "" : `?${qs}`}`;
    const headers: Record<string, string> = {};
    if (c.token !== "") headers["X-Consul-Token"] = c.token;
    // The server holds a blocking query for up to the wait; allow 15s more, as Prometheus does.
    const timeoutMs = WATCH_TIMEOUT_MS + 15_000;
    const res = await this.http.request(url, { headers, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]), timeoutMs });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET ${url}: unexpected response code ${res.status} (${text.trim().slice(0, 200)})`);
    const rawIndex = res.headers.get("X-Consul-Index");
    let index = 0n;
    if (rawIndex !== null) {
      if (!/^\d+$/.test(rawIndex)) throw new Error(`GET ${url}: cannot parse X-Consul-Index "${rawIndex}"`);
      index = BigInt(rawIndex);
    } else if (params.some(([k]) => k === "wait")) {
      throw new Error(`GET ${url}: the response has no X-Consul-Index header`);
    }
    try {
      return { body: JSON.parse(text) as T, index };
    } catch (err) {
      throw new SyntaxError(`GET ${url}: invalid JSON: ${(err as Error).message}`);
    }
  }

  /** Query options of a watch: index (when known), wait, stale, node-meta, filter. */
  watchParams(lastIndex: bigint, filter: string): Array<[string, string]> {
    const p: Array<[string, string]> = [];
    if (lastIndex !== 0n) p.push(["index", lastIndex.toString()]);
    p.push(["wait", `${WATCH_TIMEOUT_MS}ms`]);
    if (this.config.allow_stale) p.push(["stale", ""]);
    if (filter !== "") p.push(["filter", filter]);
    for (const [k, v] of Object.entries(this.config.node_meta)) p.push(["node-meta", `${k}:${v}`]);
    return p;
  }
}

/** One running consul_sd_configs entry. */
class ConsulDiscovery {
  readonly api: ConsulApi;
  dc: string;

  constructor(readonly config: ConsulSDConfig, readonly ctx: DiscoveryContext) {
    this.api = new ConsulApi(config, ctx.http(config.http));
    this.dc = config.datacenter;
  }

  /** The local agent's datacenter, when none is configured; retried every 15s until it answers. */
  async initialize(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && this.dc === "") {
      try {
        const { body } = await this.api.get<{ Config?: { Datacenter?: unknown } }>("/v1/agent/self", [], signal);
        const dc = body?.Config?.Datacenter;
        if (typeof dc !== "string") throw new TypeError(`invalid value ${JSON.stringify(dc) ?? "undefined"} for Config.Datacenter`);
        this.dc = dc;
        return;
      } catch (err) {
        if (signal.aborted) return;
        this.ctx.log.error("Error retrieving datacenter name from Consul", { server: this.config.server, err: (err as Error).message });
        await this.ctx.clock.sleep(RETRY_INTERVAL_MS, signal);
      }
    }
  }

  shouldWatch(name: string, tags: readonly string[]): boolean {
    const { services, tags: wanted } = this.config;
    if (services.length > 0 && !services.includes(name)) return false;
    return wanted.every((t) => tags.includes(t));
  }

  /**
   * Watches one service until `signal` aborts. Resolves `first` with its first group (or
   * null when the first query failed); later changes are emitted on their own.
   */
  watchService(name: string, signal: AbortSignal, emit: (groups: TargetGroup[]) => void): Promise<TargetGroup | null> {
    return new Promise((resolveFirst) => {
      let first = true;
      const deliver = (g: TargetGroup | null) => {
        if (first) {
          first = false;
          resolveFirst(g);
        } else if (g !== null && !signal.aborted) emit([g]);
      };
      void (async () => {
        const ticker = new Ticker(this.ctx.clock, this.config.refresh_interval);
        let lastIndex = 0n;
        while (!signal.aborted) {
          const params = this.api.watchParams(lastIndex, this.config.health_filter);
          for (const t of this.config.tags) params.push(["tag", t]);
          try {
            const { body, index } = await this.api.get<ServiceEntry[] | null>(`/v1/health/service/${encodeURIComponent(name)}`, params, signal);
            if (body !== null && !Array.isArray(body)) throw new TypeError(`service ${name}: expected a list of service entries, got ${typeof body}`);
            // The same index: the wait elapsed with no change.
            if (index === lastIndex) deliver(null);
            else {
              lastIndex = index;
              deliver(serviceGroup(name, this.dc, body ?? [], this.config.tag_separator));
            }
          } catch (err) {
            if (signal.aborted) break;
            deliver(null);
            this.ctx.log.error("Error refreshing Consul service; keeping its previous targets", { service: name, server: this.config.server, err: (err as Error).message });
            await this.ctx.clock.sleep(RETRY_INTERVAL_MS, signal);
          }
          await ticker.wait(signal);
        }
        if (first) resolveFirst(null);
      })();
    });
  }

  async run(signal: AbortSignal, emit: (groups: TargetGroup[]) => void): Promise<void> {
    const send = (groups: TargetGroup[]) => {
      if (!signal.aborted && groups.length > 0) emit(groups);
    };
    await this.initialize(signal);
    if (signal.aborted) return;
    const { services, tags, filter } = this.config;
    if (services.length > 0 && tags.length === 0 && filter === "") {
      // A fixed set of services and no catalog-level selection: watch each directly.
      const firsts = await Promise.all(services.map((name) => this.watchService(name, signal, send)));
      send(firsts.filter((g): g is TargetGroup => g !== null));
      await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
      return;
    }
    const watched = new Map<string, AbortController>();
    const ticker = new Ticker(this.ctx.clock, this.config.refresh_interval);
    let lastIndex = 0n;
    try {
      while (!signal.aborted) {
        try {
          const { body, index } = await this.api.get<Record<string, string[] | null> | null>("/v1/catalog/services", this.api.watchParams(lastIndex, this.config.filter), signal);
          if (body === null || typeof body !== "object" || Array.isArray(body)) throw new TypeError(`expected a map of service names to tags, got ${Array.isArray(body) ? "a list" : typeof body}`);
          if (index !== lastIndex) {
            lastIndex = index;
            const started: Array<Promise<TargetGroup | null>> = [];
            for (const [name, serviceTags] of Object.entries(body)) {
              if (!this.shouldWatch(name, serviceTags ?? []) || watched.has(name)) continue;
              const stop = new AbortController();
              watched.set(name, stop);
              started.push(this.watchService(name, AbortSignal.any([signal, stop.signal]), send));
            }
            const out = (await Promise.all(started)).filter((g): g is TargetGroup => g !== null);
            for (const [name, stop] of watched) {
              if (Object.hasOwn(body, name)) continue;
              stop.abort();
              watched.delete(name);
              out.push({ source: name, targets: [], labels: {} });
            }
            // Nothing discovered: say so with an empty group.
            if (watched.size === 0) out.push({ source: "", targets: [], labels: {} });
            send(out);
          }
        } catch (err) {
          if (signal.aborted) break;
          this.ctx.log.error("Error refreshing Consul service list; keeping the previous targets", { server: this.config.server, err: (err as Error).message });
          await this.ctx.clock.sleep(RETRY_INTERVAL_MS, signal);
        }
        await ticker.wait(signal);
      }
    } finally {
      for (const stop of watched.values()) stop.abort();
    }
  }
}

export default definePlugin<ConsulSDConfig>({
  apiVersion: 1,
  kind: "discovery",
  name: "consul",
  parseConfig(raw, ctx) {
    const { http, rest } = ctx.httpClient(raw);
    const c = ctx.validate(schema, rest);
    let server = c.server ?? "localhost:8500";
    if (server.trim() === "") throw ctx.error(["server"], "consul SD configuration requires a server address");
    let scheme = c.scheme ?? "http";
    // As Consul's client does, a scheme written into the address wins over `scheme`.
    const written = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/.exec(server);
    if (written !== null) {
      if (written[1] !== "http" && written[1] !== "https") throw ctx.error(["server"], `unknown protocol scheme "${written[1]}" in "${server}": expected http or https`);
      scheme = written[1];
      server = written[2]!;
    }
    if (scheme !== "http" && scheme !== "https") throw ctx.error(["scheme"], `unknown scheme "${scheme}": expected http or https`);
    const username = c.username ?? "";
    const password = c.password ?? "";
    if (username !== "" || password !== "") {
      if (http.basic_auth !== undefined) throw ctx.error([username !== "" ? "username" : "password"], "at most one of consul SD configuration username and password and basic auth can be configured");
      http.basic_auth = { username, password };
    }
    const token = c.token ?? "";
    if (token !== "" && (http.authorization !== undefined || http.oauth2 !== undefined)) throw ctx.error(["token"], "at most one of consul SD token, authorization, or oauth2 can be configured");
    return {
      http,
      server,
      path_prefix: c.path_prefix ?? "",
      token,
      datacenter: c.datacenter ?? "",
      namespace: c.namespace ?? "",
      partition: c.partition ?? "",
      tag_separator: c.tag_separator ?? ",",
      scheme,
      allow_stale: c.allow_stale ?? true,
      refresh_interval: c.refresh_interval ?? 30_000,
      services: c.services ?? [],
      tags: c.tags ?? [],
      node_meta: c.node_meta ?? {},
      filter: c.filter ?? "",
      health_filter: c.health_filter ?? "",
    };
  },
  create(config, ctx) {
    return { run: (signal, emit) => new ConsulDiscovery(config, ctx).run(signal, emit) };
  },
});
