/**
 * dns_sd_configs (spec §1.6): every refresh_interval, look up each name (SRV, A, AAAA, MX or
 * NS) and send one group per name, its source being the name. A name that does not exist
 * gives an empty group (deleting its targets); a name that fails otherwise (SERVFAIL,
 * REFUSED, a timeout) keeps its previous group.
 *
 * Resolution follows /etc/resolv.conf: its servers, its search list and ndots (as
 * Prometheus's miekg/dns client does), its timeout and attempts.
 *
 * Test seam: `GLEANER_DNS_SERVERS=127.0.0.1:5353[,host:port...]` (read when a discoverer is
 * created) sends every query to those servers instead, and `createDnsPlugin({ servers })`
 * does the same for one plugin instance without touching the environment.
 */
import { readFileSync } from "node:fs";
import { Resolver } from "node:dns/promises";
import { z } from "zod";
import { duration, int, str, stringList } from "../../../core/config/schema/fields.ts";
import type { TargetGroup } from "../../../core/discovery/types.ts";
import { definePlugin, type DiscoveryPlugin } from "../../../core/plugin.ts";

export type RecordType = "SRV" | "A" | "AAAA" | "MX" | "NS";

export interface DnsSDConfig {
  names: string[];
  type: RecordType;
  /** The port for A, AAAA, MX and NS targets (SRV records carry their own). */
  port: number;
  refresh_interval: number;
}

export interface ResolverOptions {
  /** `host:port` servers to ask instead of resolv.conf's nameservers. */
  servers?: string[];
  /** Search domains; default resolv.conf's `search` (or `domain`). */
  search?: string[];
  /** resolv.conf `options ndots:`; default 1. */
  ndots?: number;
  /** Milliseconds per query attempt; default resolv.conf `options timeout:` or 5s. */
  timeoutMs?: number;
  /** Attempts per server; default resolv.conf `options attempts:` or 2. */
  attempts?: number;
}

const configSchema = z.strictObject({
  names: stringList.nullish(),
  type: str.nullish(),
  port: int.nullish(),
  refresh_interval: duration.nullish(),
});

const TYPES = new Set<RecordType>(["SRV", "A", "AAAA", "MX", "NS"]);

/** The parts of resolv.conf that resolution uses. */
export function parseResolvConf(text: string): Required<Omit<ResolverOptions, "servers">> & { servers: string[] } {
  const out = { servers: [] as string[], search: [] as string[], ndots: 1, timeoutMs: 5_000, attempts: 2 };
  for (const line of text.split("\n")) {
    const [key, ...args] = line.replace(/[#;].*$/, "").trim().split(/\s+/);
    if (key === "nameserver" && args[0] !== undefined) out.servers.push(args[0]);
    else if (key === "search") out.search = args;
    else if (key === "domain" && args[0] !== undefined) out.search = [args[0]];
    else if (key === "options") {
      for (const opt of args) {
        const [name, value] = opt.split(":");
        const n = Number(value);
        if (!Number.isInteger(n) || n < 0) continue;
        if (name === "ndots") out.ndots = Math.min(n, 15);
        else if (name === "timeout") out.timeoutMs = Math.max(n, 1) * 1000;
        else if (name === "attempts") out.attempts = Math.max(n, 1);
      }
    }
  }
  return out;
}

/** The fully qualified names to try for `name`, in order (miekg/dns ClientConfig.NameList). */
export function nameList(name: string, search: readonly string[], ndots: number): string[] {
  if (name.endsWith(".")) return [name];
  const fqdn = `${name}.`;
  const labels = name.split(".").filter((l) => l !== "").length;
  const searched = search.map((s) => `${name}.${s.replace(/\.?$/, ".")}`);
  return labels > ndots ? [fqdn, ...searched] : [...searched, fqdn];
}

/** `host:port` as Go's net.JoinHostPort writes it (IPv6 bracketed). */
const joinHostPort = (host: string, port: number) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

/** c-ares returns names without the root dot; DNS answers are absolute, as miekg/dns shows them. */
const rooted = (host: string) => (host.endsWith(".") ? host : `${host}.`);
const unrooted = (host: string) => host.replace(/\.+$/, "");

/** One name's targets from the first search-list name that exists. */
async function lookUp(resolver: Resolver, name: string, config: DnsSDConfig, search: readonly string[], ndots: number): Promise<TargetGroup> {
  let failure: Error | null = null;
  for (const fqdn of nameList(name, search, ndots)) {
    let targets: Array<Record<string, string>>;
    try {
      targets = await query(resolver, fqdn, name, config);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // NXDOMAIN (Bun also reports NODATA as ENOTFOUND): try the next search name.
      if (code === "ENOTFOUND" || code === "ENODATA") continue;
      failure ??= err as Error;
      continue;
    }
    return { source: name, targets, labels: {} };
  }
  // Every name answered "no such name": the name has no targets now.
  if (failure === null) return { source: name, targets: [], labels: {} };
  throw new Error(`could not resolve "${name}" (${config.type}): ${failure.message}`);
}

async function query(resolver: Resolver, fqdn: string, name: string, config: DnsSDConfig): Promise<Array<Record<string, string>>> {
  switch (config.type) {
    case "SRV":
      return (await resolver.resolveSrv(fqdn)).map((r) => ({
        __address__: joinHostPort(unrooted(r.name), r.port),
        __meta_dns_name: name,
        __meta_dns_srv_record_target: rooted(r.name),
        __meta_dns_srv_record_port: String(r.port),
      }));
    case "MX":
      return (await resolver.resolveMx(fqdn)).map((r) => ({
        __address__: joinHostPort(unrooted(r.exchange), config.port),
        __meta_dns_name: name,
        __meta_dns_mx_record_target: rooted(r.exchange),
      }));
    case "NS":
      return (await resolver.resolveNs(fqdn)).map((ns) => ({
        __address__: joinHostPort(unrooted(ns), config.port),
        __meta_dns_name: name,
        __meta_dns_ns_record_target: rooted(ns),
      }));
    // A CNAME chain is followed by the resolver; only the addresses come back.
    case "A":
      return (await resolver.resolve4(fqdn)).map((ip) => ({ __address__: joinHostPort(ip, config.port), __meta_dns_name: name }));
    case "AAAA":
      return (await resolver.resolve6(fqdn)).map((ip) => ({ __address__: joinHostPort(ip, config.port), __meta_dns_name: name }));
  }
}

function readResolvConf(): string {
  try {
    return readFileSync("/etc/resolv.conf", "utf8");
  } catch {
    return "";
  }
}

/** The dns plugin, with resolution settings fixed at construction (tests point it at their server). */
export function createDnsPlugin(options: ResolverOptions = {}): DiscoveryPlugin<DnsSDConfig> {
  return definePlugin<DnsSDConfig>({
    apiVersion: 1,
    kind: "discovery",
    name: "dns",
    parseConfig(raw, ctx) {
      const c = ctx.validate(configSchema, raw);
      const names = c.names ?? [];
      if (names.length === 0) throw ctx.error(["names"], "DNS-SD config must contain at least one SRV record name");
      const type = (c.type ?? "SRV").toUpperCase();
      if (!TYPES.has(type as RecordType)) throw ctx.error(["type"], `invalid DNS-SD records type ${c.type} (want SRV, A, AAAA, MX or NS)`);
      const port = c.port ?? 0;
      if (type !== "SRV") {
        if (port === 0) throw ctx.error(["port"], "a port is required in DNS-SD configs for all record types except SRV");
        if (port < 0 || port > 65_535) throw ctx.error(["port"], `port ${port} is out of range (1-65535)`);
      }
      const refresh = c.refresh_interval ?? 30_000;
      if (refresh <= 0) throw ctx.error(["refresh_interval"], "refresh_interval must be greater than 0");
      return { names, type: type as RecordType, port, refresh_interval: refresh };
    },
    create(config, ctx) {
      const conf = parseResolvConf(readResolvConf());
      const env = process.env.GLEANER_DNS_SERVERS?.split(",").map((s) => s.trim()).filter((s) => s !== "");
      const servers = options.servers ?? (env !== undefined && env.length > 0 ? env : null);
      const search = options.search ?? conf.search;
      const ndots = options.ndots ?? conf.ndots;
      /** Each name's last good group, re-sent while the name fails so its targets stay. */
      const last = new Map<string, TargetGroup>();
      return ctx.refresh({
        interval: config.refresh_interval,
        async refresh(signal) {
          const resolver = new Resolver({ timeout: options.timeoutMs ?? conf.timeoutMs, tries: options.attempts ?? conf.attempts });
          if (servers !== null) resolver.setServers(servers);
          const cancel = () => resolver.cancel();
          signal.addEventListener("abort", cancel, { once: true });
          try {
            const results = await Promise.allSettled(config.names.map((name) => lookUp(resolver, name, config, search, ndots)));
            if (signal.aborted) return [];
            const failed = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as Error).message] : []));
            // Nothing resolved: one refresh failure (logged and counted by the host), nothing sent.
            if (failed.length === results.length) throw new Error(`DNS-SD lookups failed: ${failed.join("; ")}`);
            const groups: TargetGroup[] = [];
            results.forEach((r, i) => {
              const name = config.names[i]!;
              if (r.status === "fulfilled") {
                last.set(name, r.value);
                groups.push(r.value);
              } else {
                ctx.log.error("Error refreshing DNS targets; keeping the name's previous targets", { name, err: (r.reason as Error).message });
                const previous = last.get(name);
                if (previous !== undefined) groups.push(previous);
              }
            });
            return groups;
          } finally {
            signal.removeEventListener("abort", cancel);
          }
        },
      });
    },
  });
}

export default createDnsPlugin();
