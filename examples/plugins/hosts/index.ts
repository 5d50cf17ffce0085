/**
 * An external discovery plugin: targets from a hosts-format file (`10.0.0.5 web-1 web-1.lan`),
 * one target per host name at the configured port. It owns `hosts_sd_configs`:
 *
 *   plugins: [examples/plugins/hosts/index.ts]
 *   scrape_configs:
 *     - job_name: lan
 *       hosts_sd_configs:
 *         - file: /etc/hosts
 *           port: 9100
 *           refresh_interval: 1m
 *
 * It imports nothing from gleaner: a plugin loaded into a compiled gleaner cannot resolve
 * the host's packages, so everything it needs comes through `ctx`. (A plugin that uses npm
 * packages of its own is pre-bundled: `bun build index.ts --target bun --outfile hosts.js`.)
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";

interface HostsConfig {
  file: string;
  port: number;
  refreshMs: number;
}

const DURATION = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export default {
  apiVersion: 1 as const,
  kind: "discovery" as const,
  name: "hosts",

  parseConfig(raw: unknown, ctx: { dir: string; error(path: (string | number)[], message: string): Error }): HostsConfig {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw ctx.error([], "expected a map with file and port");
    const r = raw as Record<string, unknown>;
    for (const key of Object.keys(r)) if (!["file", "port", "refresh_interval"].includes(key)) throw ctx.error([key], "unknown field");
    if (typeof r.file !== "string" || r.file === "") throw ctx.error(["file"], "file is required");
    const port = Number(r.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw ctx.error(["port"], `(${String(r.port)}) is not a port number`);
    const m = DURATION.exec(String(r.refresh_interval ?? "1m"));
    if (m === null) throw ctx.error(["refresh_interval"], `(${String(r.refresh_interval)}) is not a duration such as 30s or 5m`);
    return { file: isAbsolute(r.file) ? r.file : join(ctx.dir, r.file), port, refreshMs: Number(m[1]) * UNIT_MS[m[2]!]! };
  },

  create(config: HostsConfig, ctx: { refresh(o: { interval: number; refresh(signal: AbortSignal): Promise<unknown[]> }): unknown }) {
    return ctx.refresh({
      interval: config.refreshMs,
      async refresh() {
        const targets: Array<Record<string, string>> = [];
        for (const line of (await readFile(config.file, "utf8")).split("\n")) {
          const [ip, ...names] = line.replace(/#.*/, "").trim().split(/\s+/);
          if (!ip) continue;
          for (const name of names) targets.push({ __address__: `${name}:${config.port}`, __meta_hosts_ip: ip, __meta_hosts_name: name });
        }
        return [{ source: config.file, targets, labels: { __meta_hosts_file: config.file } }];
      },
    });
  },
};
