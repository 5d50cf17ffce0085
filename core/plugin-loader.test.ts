import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseConfig } from "./config/load.ts";
import { loadPlugin, pluginPathsOf, PluginLoadError } from "./plugin-loader.ts";
import { builtinPlugins } from "../plugins/discovery/index.ts";
import { Harness, testConfigContext } from "../test/conformance/discovery.case.ts";

const ROOT = resolve(import.meta.dir, "..");
const FIXTURES = join(ROOT, "test/fixtures/plugins");
const HOSTS = join(ROOT, "examples/plugins/hosts/index.ts");

test("an external plugin is imported at run time and owns its <name>_sd_configs key", async () => {
  const plugins = builtinPlugins();
  const plugin = await loadPlugin(HOSTS, plugins);
  expect(plugin.name).toBe("hosts");
  const c = parseConfig("scrape_configs:\n  - job_name: lan\n    hosts_sd_configs:\n      - file: hosts\n        port: 9100\n", "/etc/g/p.yml", { plugins });
  expect(c.scrape_configs[0]!.service_discovery).toEqual([{ mechanism: "hosts", config: { file: "/etc/g/hosts", port: 9100, refreshMs: 60_000 }, path: "scrape_configs[0].hosts_sd_configs[0]" }]);
});

test("the example plugin discovers one target per host name", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-hosts-"));
  writeFileSync(join(dir, "hosts"), "10.0.0.5 web-1 web-1.lan # two names\n\n10.0.0.6 db-1\n");
  const plugin = await loadPlugin(HOSTS, builtinPlugins());
  const h = new Harness(plugin, plugin.parseConfig({ file: "hosts", port: "9100" }, testConfigContext(dir)));
  await h.until(() => h.emits > 0, 10);
  expect(h.addresses()).toEqual(["db-1:9100", "web-1.lan:9100", "web-1:9100"]);
  await h.stop();
});

test("loading a plugin twice registers it once", async () => {
  const plugins = builtinPlugins();
  await loadPlugin(HOSTS, plugins);
  await loadPlugin(HOSTS, plugins);
  expect(plugins.configKeys().filter((k) => k === "hosts_sd_configs")).toHaveLength(1);
});

test("bad plugins are start-up errors naming the plugin file", async () => {
  const cases: Array<[string, string]> = [
    ["missing.ts", "failed to load"],
    ["throws.ts", "failed to load: this plugin cannot start"],
    ["bad-version.ts", "apiVersion 2 is not supported (this gleaner supports 1)"],
    ["not-a-plugin.ts", "the default export is not a plugin object"],
    ["file-clash.ts", 'Cannot register plugin "file" from ' + join(FIXTURES, "file-clash.ts") + ": a plugin with that name is already registered from built-in"],
  ];
  for (const [file, message] of cases) {
    const err = await loadPlugin(join(FIXTURES, file), builtinPlugins()).catch((e: unknown) => e);
    expect(err, file).toBeInstanceOf(PluginLoadError);
    expect((err as Error).message, file).toContain(message);
    if (file !== "file-clash.ts") expect((err as Error).message).toContain(join(FIXTURES, file));
  }
});

test("pluginPathsOf() reads the plugins: list relative to the config file", () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-cfg-"));
  writeFileSync(join(dir, "p.yml"), "plugins: [plugins/a.ts, /abs/b.ts]\n");
  expect(pluginPathsOf(join(dir, "p.yml"))).toEqual([join(dir, "plugins/a.ts"), "/abs/b.ts"]);
  expect(pluginPathsOf(join(dir, "missing.yml"))).toEqual([]);
});
