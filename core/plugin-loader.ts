/**
 * External plugins, loaded at run time from the config's `plugins:` list or `--plugin PATH`
 * (no rebuild of gleaner). A plugin is a module whose default export is a plugin object;
 * it gets the host's services through its context, so it should be pre-bundled
 * (`bun build plugin.ts --target bun`) when it uses packages of its own.
 */
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";
import { ConfigSource } from "./config/source.ts";
import { PLUGIN_API_VERSION, type Plugin, type PluginRegistry } from "./plugin.ts";

export class PluginLoadError extends Error {
  override name = "PluginLoadError";
}

/** Checks what definePlugin() checks, for a module that could not import it. */
function checkPlugin(value: unknown, file: string): Plugin {
  const p = value as Partial<Plugin> | null;
  const fail = (why: string) => new PluginLoadError(`plugin ${file}: ${why}`);
  if (p === null || typeof p !== "object") throw fail("the default export is not a plugin object (export default { apiVersion: 1, kind, name, parseConfig, create })");
  if (p.apiVersion !== PLUGIN_API_VERSION) throw fail(`apiVersion ${JSON.stringify(p.apiVersion)} is not supported (this gleaner supports ${PLUGIN_API_VERSION})`);
  if (p.kind !== "discovery") throw fail(`kind ${JSON.stringify(p.kind)} is not supported (supported: "discovery")`);
  if (typeof p.name !== "string" || !/^[a-z][a-z0-9_]*$/.test(p.name)) throw fail(`name ${JSON.stringify(p.name)} is not lower-case letters, digits and underscores`);
  if (typeof p.parseConfig !== "function" || typeof p.create !== "function") throw fail("parseConfig and create must be functions");
  return p as Plugin;
}

const loaded = new Map<string, Plugin>();

/** Imports the plugin at `path` (absolute, or relative to `baseDir`) and registers it. */
export async function loadPlugin(path: string, registry: PluginRegistry, baseDir = process.cwd()): Promise<Plugin> {
  const file = isAbsolute(path) ? path : resolve(baseDir, path);
  let plugin = loaded.get(file);
  if (plugin === undefined) {
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    } catch (err) {
      const e = err as Error;
      throw new PluginLoadError(`plugin ${file} failed to load: ${e.message.split("\n")[0]}`);
    }
    plugin = checkPlugin(mod.default, file);
    loaded.set(file, plugin);
  }
  if (registry.discovery(plugin.name) === plugin) return plugin;
  try {
    registry.register(plugin, file);
  } catch (err) {
    throw new PluginLoadError((err as Error).message);
  }
  return plugin;
}

/**
 * The `plugins:` list of a config file, read before the config is validated (the plugins
 * decide which `*_sd_configs` keys are valid). Paths are relative to the config file.
 */
export function pluginPathsOf(configFile: string): string[] {
  let text: string;
  try {
    text = readFileSync(configFile, "utf8");
  } catch {
    return []; // the config loader reports unreadable files
  }
  let root;
  try {
    root = new ConfigSource(configFile, text).root;
  } catch {
    return []; // and YAML errors
  }
  if (root === null || typeof root !== "object" || Array.isArray(root)) return [];
  const list = root.plugins;
  if (!Array.isArray(list)) return [];
  const dir = resolve(configFile, "..");
  return list.filter((p): p is string => typeof p === "string").map((p) => (isAbsolute(p) ? p : resolve(dir, p)));
}
