/** The plugins built into gleaner (bundled by `bun build --compile`). */
import { PluginRegistry, type Plugin } from "../../core/plugin.ts";
import consul from "./consul/index.ts";
import dns from "./dns/index.ts";
import ec2 from "./ec2/index.ts";
import file from "./file/index.ts";
import http from "./http/index.ts";
import kubernetes from "./kubernetes/index.ts";
import staticPlugin from "./static/index.ts";
import tsdb from "../../storage/tsdb/plugin.ts";

export const BUILTIN_DISCOVERY: readonly Plugin[] = [staticPlugin, file, http, dns, consul, kubernetes, ec2];

/** A registry holding the built-in plugins — discovery and the TSDB storage backend. */
export function builtinPlugins(): PluginRegistry {
  return new PluginRegistry([...BUILTIN_DISCOVERY, tsdb].map((plugin) => ({ plugin, origin: "built-in" })));
}
