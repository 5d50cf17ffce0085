import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtinPlugins } from "../plugins/discovery/index.ts";
import { createLogger } from "./log/logger.ts";
import { Registry } from "./metrics/registry.ts";
import { definePlugin, PluginRegistry } from "./plugin.ts";

test("the local TSDB is the built-in storage plugin and opens through the registry", async () => {
  const plugins = builtinPlugins();
  expect(plugins.storageNames()).toEqual(["tsdb"]);
  const db = await plugins.storage("tsdb")!.open({ dir: mkdtempSync(join(tmpdir(), "gleaner-plugin-")), retentionMs: 0, retentionBytes: 0, fsyncIntervalMs: 0, registry: new Registry(), log: createLogger({ level: "error", format: "logfmt", write: () => {} }) });
  expect(typeof db.appender).toBe("function");
  expect(typeof db.series).toBe("function");
  await db.close();
});

test("storage and discovery plugins keep separate names, and duplicates are refused", () => {
  const storage = definePlugin({ apiVersion: 1, kind: "storage", name: "file", open: async () => { throw new Error("unused"); } });
  const plugins = builtinPlugins();
  plugins.register(storage, "test");
  expect(plugins.storage("file")).toBe(storage);
  expect(plugins.discovery("file")?.kind).toBe("discovery");
  expect(() => plugins.register(storage, "again")).toThrow('Cannot register storage plugin "file" from again: a plugin with that name is already registered from test');
});

test("definePlugin() checks the API version and the name", () => {
  expect(() => definePlugin({ apiVersion: 2 as 1, kind: "storage", name: "x", open: async () => { throw new Error(); } })).toThrow("apiVersion 2 is not supported");
  expect(() => definePlugin({ apiVersion: 1, kind: "discovery", name: "Bad-Name", parseConfig: (r) => r, create: () => ({ run() {} }) })).toThrow(TypeError);
  expect(new PluginRegistry().storageNames()).toEqual([]);
});
