import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../../core/config/load.ts";
import { discoveryConformance, Harness, testConfigContext } from "../../../test/conformance/discovery.case.ts";
import { builtinPlugins } from "../index.ts";
import plugin, { parseFileGroups } from "./index.ts";

discoveryConformance({
  name: "file",
  plugin,
  async setup() {
    const dir = mkdtempSync(join(tmpdir(), "gleaner-filesd-"));
    const file = join(dir, "targets.json");
    let groups: string[][] = [];
    let broken = false;
    const write = () => writeFileSync(file, broken ? "{ not json" : JSON.stringify(groups.map((targets) => ({ targets, labels: { env: "test" } }))));
    return {
      rawConfig: { files: [join(dir, "*.json")], refresh_interval: "1m" },
      setTargets: async (g) => {
        groups = g;
        write();
      },
      breakSource: async () => {
        broken = true;
        write();
      },
      restoreSource: async () => {
        broken = false;
        write();
      },
      close: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  refreshMs: 60_000,
});

describe("file_sd_configs", () => {
  test("groups carry __meta_filepath and the source <path>:<index>; YAML works as JSON does", () => {
    const g = parseFileGroups("/sd/a.yml", "- targets: [a:1]\n  labels:\n    env: prod\n- targets: [b:1]\n");
    expect(g).toEqual([
      { source: "/sd/a.yml:0", targets: [{ __address__: "a:1" }], labels: { __meta_filepath: "/sd/a.yml", env: "prod" } },
      { source: "/sd/a.yml:1", targets: [{ __address__: "b:1" }], labels: { __meta_filepath: "/sd/a.yml" } },
    ]);
  });

  test("malformed content is an error naming the file and the group", () => {
    expect(() => parseFileGroups("/sd/a.json", "{")).toThrow(/^\/sd\/a\.json: /);
    expect(() => parseFileGroups("/sd/a.json", '{"targets": []}')).toThrow("/sd/a.json: expected a list of target groups");
    expect(() => parseFileGroups("/sd/a.json", "[null]")).toThrow("/sd/a.json: group 0 is null");
    expect(() => parseFileGroups("/sd/a.json", '[{"targets": ["a:1"], "lables": {}}]')).toThrow("/sd/a.json: group 0: unknown field lables");
    expect(() => parseFileGroups("/sd/a.yml", "- targets: [a:1]\n  targets: [b:1]\n")).toThrow(/^\/sd\/a\.yml: /);
  });

  test("a file that shrinks or disappears deletes its groups; other files stay", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gleaner-filesd-"));
    writeFileSync(join(dir, "a.json"), JSON.stringify([{ targets: ["a:1"] }, { targets: ["a:2"] }]));
    writeFileSync(join(dir, "b.json"), JSON.stringify([{ targets: ["b:1"] }]));
    const h = new Harness(plugin, plugin.parseConfig({ files: [join(dir, "*.json")], refresh_interval: "1m" }, testConfigContext()));
    await h.until(() => h.addresses().length === 3, 10);
    writeFileSync(join(dir, "a.json"), JSON.stringify([{ targets: ["a:1"] }]));
    await h.until(() => h.addresses().join() === "a:1,b:1", 100);
    rmSync(join(dir, "b.json"));
    await h.until(() => h.addresses().join() === "a:1", 100);
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a change is picked up by the directory watch, before refresh_interval", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gleaner-filesd-"));
    writeFileSync(join(dir, "a.json"), JSON.stringify([{ targets: ["a:1"] }]));
    const h = new Harness(plugin, plugin.parseConfig({ files: [join(dir, "a.json")], refresh_interval: "1h" }, testConfigContext()));
    await h.until(() => h.addresses().length === 1, 10);
    writeFileSync(join(dir, "a.json"), JSON.stringify([{ targets: ["w:1"] }]));
    // No clock advance: only the watch can deliver this.
    const deadline = Date.now() + 3_000;
    while (h.addresses().join() !== "w:1" && Date.now() < deadline) await Bun.sleep(20);
    expect(h.addresses()).toEqual(["w:1"]);
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("config errors name the field: no files, a bad extension, a * outside the last element, an unknown field", () => {
    const plugins = builtinPlugins();
    const fail = (entry: string) => {
      try {
        parseConfig(`scrape_configs:\n  - job_name: j\n    file_sd_configs:\n      - ${entry}\n`, "p.yml", { plugins });
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error("expected an error");
    };
    expect(fail("files: []")).toContain("scrape_configs[0].file_sd_configs[0]: file service discovery config must contain at least one path name");
    expect(fail("files: [targets.txt]")).toContain('scrape_configs[0].file_sd_configs[0].files[0]: path name "targets.txt" is not valid for file discovery');
    expect(fail("files: ['*/x.json']")).toContain("a * is allowed only in the last path element");
    expect(fail("filez: [a.json]")).toContain('scrape_configs[0].file_sd_configs[0].filez: unknown field (did you mean "files"?)');
    const ok = parseConfig("scrape_configs:\n  - job_name: j\n    file_sd_configs:\n      - files: [sd/*.yml]\n", "/etc/g/p.yml", { plugins });
    expect(ok.scrape_configs[0]!.service_discovery).toEqual([{ mechanism: "file", config: { files: ["/etc/g/sd/*.yml"], refresh_interval: 300_000 }, path: "scrape_configs[0].file_sd_configs[0]" }]);
  });
});
