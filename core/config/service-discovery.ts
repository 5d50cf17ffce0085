/** `*_sd_configs` keys: each handed to the discovery plugin that owns it. */
import type { PluginRegistry } from "../plugin.ts";
import { formatPath, type PathSegment } from "./errors.ts";
import type { ConfigSource, Plain, PlainMap } from "./source.ts";
import type { ServiceDiscoveryConfig } from "./types.ts";
import { validate } from "./validate.ts";
import { resolveHttpClient } from "./http-client.ts";
import { httpClientShape } from "./schema/http.ts";
import { z } from "zod";
import type { HttpClientConfig } from "./types.ts";

const httpClientSchema = z.strictObject(httpClientShape);
const HTTP_KEYS = new Set(Object.keys(httpClientShape));

/** Splits an SD entry into its validated HTTP client config and the plugin's own fields. */
export function takeHttpClient(raw: unknown, src: ConfigSource, path: readonly PathSegment[], dir: string): { http: HttpClientConfig; rest: Record<string, unknown> } {
  const map = raw !== null && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const http: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(map)) (HTTP_KEYS.has(k) ? http : rest)[k] = v;
  return { http: resolveHttpClient(validate(httpClientSchema, http, src, path), { src, dir }, path), rest };
}

const SUFFIX = "_sd_configs";

/**
 * Removes the `<name>_sd_configs` keys from `map` and parses their entries with the
 * matching plugins. Returns the rest of the map for the caller's own schema.
 */
export function takeServiceDiscovery(
  map: PlainMap,
  src: ConfigSource,
  path: readonly PathSegment[],
  dir: string,
  plugins: PluginRegistry,
): { rest: PlainMap; configs: ServiceDiscoveryConfig[] } {
  const rest: PlainMap = {};
  const configs: ServiceDiscoveryConfig[] = [];
  for (const [key, value] of Object.entries(map)) {
    if (!key.endsWith(SUFFIX) || key.length === SUFFIX.length) {
      rest[key] = value;
      continue;
    }
    const keyPath = [...path, key];
    const plugin = plugins.discoveryForKey(key);
    if (plugin === undefined) {
      const known = plugins.configKeys();
      throw src.error(keyPath, `${formatPath(keyPath)}: no plugin for ${key}${known.length > 0 ? ` (available: static_configs, ${known.join(", ")})` : " (available: static_configs)"}`, "key");
    }
    if (value === null) continue;
    if (!Array.isArray(value)) throw src.error(keyPath, `${formatPath(keyPath)}: expected a list, got ${typeof value === "string" ? `"${value}"` : "a map"}`);
    value.forEach((entry: Plain, i) => {
      const entryPath = [...keyPath, i];
      if (entry === null || (typeof entry === "object" && !Array.isArray(entry) && Object.keys(entry).length === 0)) {
        throw src.error(entryPath, `${formatPath(entryPath)}: empty or null section in ${key}`);
      }
      const config = plugin.parseConfig(entry, {
        path: entryPath,
        dir,
        error: (rel, message) => src.error([...entryPath, ...rel], `${formatPath([...entryPath, ...rel])}${message.startsWith("(") ? " " : ": "}${message}`),
        validate: (schema, v, rel = []) => validate(schema, v, src, [...entryPath, ...rel]),
        httpClient: (v) => takeHttpClient(v, src, entryPath, dir),
      });
      configs.push({ mechanism: plugin.name, config, path: formatPath(entryPath) });
    });
  }
  return { rest, configs };
}
