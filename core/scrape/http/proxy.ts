/**
 * Which proxy a scrape goes through (spec §1.4), as prometheus/common decides it: only the
 * configured `proxy_url`, never the environment unless `proxy_from_environment` is set, and
 * `no_proxy` with Go's `httpproxy` matching rules.
 */
import { BlockList, isIP } from "node:net";
import type { ProxyConfig } from "../../config/types.ts";

type Matcher = (host: string, port: string, ipFamily: 0 | 4 | 6) => boolean;

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

function family(f: 0 | 4 | 6): "ipv4" | "ipv6" {
  return f === 6 ? "ipv6" : "ipv4";
}

/** Splits `host:port` / `[v6]:port` as Go's net.SplitHostPort; null when there is no port. */
function splitHostPort(entry: string): { host: string; port: string } | null {
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(entry) ?? /^([^:[\]]*):([^:]*)$/.exec(entry);
  return m ? { host: m[1]!, port: m[2]! } : null;
}

/** Compiles a `no_proxy` list: comma-separated hosts, domains, IPs and CIDRs, `*` for all. */
export function compileNoProxy(noProxy: string): Matcher[] {
  const matchers: Matcher[] = [];
  for (const raw of noProxy.split(",")) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return [() => true];
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr && isIP(cidr[1]!) !== 0) {
      const list = new BlockList();
      const f = isIP(cidr[1]!) as 4 | 6;
      const prefix = Number(cidr[2]);
      if (prefix <= (f === 4 ? 32 : 128)) {
        list.addSubnet(cidr[1]!, prefix, family(f));
        matchers.push((host, _port, ipf) => ipf !== 0 && list.check(host, family(ipf)));
        continue;
      }
    }
    const hp = splitHostPort(entry);
    const host = hp ? hp.host : entry;
    const port = hp ? hp.port : "";
    if (host === "") continue;
    const ipf = isIP(host) as 0 | 4 | 6;
    if (ipf !== 0) {
      const list = new BlockList();
      list.addAddress(host, family(ipf));
      matchers.push((h, p, f) => f !== 0 && list.check(h, family(f)) && (port === "" || port === p));
      continue;
    }
    // "example.com" matches itself and its subdomains; ".example.com" and "*.example.com"
    // only the subdomains.
    let suffix = host.startsWith("*.") ? host.slice(1) : host;
    const matchHost = !suffix.startsWith(".");
    if (matchHost) suffix = "." + suffix;
    suffix = toAsciiDomain(suffix);
    matchers.push((h, p) => (h.endsWith(suffix) || (matchHost && h === suffix.slice(1))) && (port === "" || port === p));
  }
  return matchers;
}

function toAsciiDomain(domain: string): string {
  try {
    return new URL(`http://x${domain}`).hostname.slice(1);
  } catch {
    return domain;
  }
}

/**
 * The Bun `proxy` option for one scrape URL: `false` for a direct connection (Bun would
 * otherwise read HTTP_PROXY and friends), `undefined` to let Bun use the environment.
 */
export function proxyFor(cfg: ProxyConfig, url: URL, noProxy: readonly Matcher[]): Bun.FetchProxyOption | undefined {
  if (cfg.proxy_from_environment) return undefined;
  if (cfg.proxy_url === undefined || cfg.proxy_url === "") return false;
  if (cfg.no_proxy !== undefined && cfg.no_proxy !== "" && bypass(url, noProxy)) return false;
  const headers = new Headers();
  for (const [name, values] of Object.entries(cfg.proxy_connect_header)) for (const v of values) headers.append(name, v);
  return { url: cfg.proxy_url, headers, respectNoProxy: false };
}

function bypass(url: URL, matchers: readonly Matcher[]): boolean {
  let host = url.hostname.toLowerCase();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  // With no_proxy set, Go's httpproxy never proxies loopback addresses.
  const ipf = isIP(host) as 0 | 4 | 6;
  if (host === "localhost" || (ipf !== 0 && LOOPBACK.check(host, family(ipf)))) return true;
  return matchers.some((m) => m(host, port, ipf));
}
