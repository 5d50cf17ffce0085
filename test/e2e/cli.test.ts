import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, Running, runToEnd, sourceCommand, startGleaner, tempDir } from "./harness.ts";

const cmd = sourceCommand();
const dir = tempDir();
const running: Array<{ proc: { kill(s?: number): void } }> = [];
afterAll(() => running.forEach((r) => r.proc.kill(9)));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("gleaner check config", () => {
  test("a valid file exits 0 with promtool's SUCCESS line", async () => {
    const r = await runToEnd(cmd, ["check", "config", "examples/gleaner.yml"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Checking examples/gleaner.yml\n SUCCESS: examples/gleaner.yml is valid prometheus config file syntax\n\n");
  });

  const bad: Array<[string, string | null, RegExp]> = [
    ["missing file", null, /FAILED: \S+missing-file\.yml: cannot read config file: no such file/],
    ["not YAML", "global: [\n", /FAILED: \S+not-yaml\.yml:\d+:\d+: invalid YAML: /],
    ["unknown key", "global:\n  scrape_intervall: 1s\n", /FAILED: \S+unknown-key\.yml:2:3: global\.scrape_intervall: unknown field/],
    ["duplicate job", "scrape_configs:\n  - job_name: a\n  - job_name: a\n", /FAILED: \S+duplicate-job\.yml:3:15: scrape_configs\[1\]\.job_name: found multiple scrape configs with job name "a"/],
    ["bad duration", "global:\n  scrape_interval: 1 m\n", /FAILED: \S+bad-duration\.yml:2:20: global\.scrape_interval \(1 m\) is not a valid duration/],
    ["bad regex", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - regex: '['\n        action: drop\n", /FAILED: \S+bad-regex\.yml:4:16: scrape_configs\[0\]\.relabel_configs\[0\]\.regex \(\[\) is not a valid RE2 regular expression/],
    ["timeout above interval", "scrape_configs:\n  - job_name: a\n    scrape_interval: 10s\n    scrape_timeout: 15s\n", /FAILED: \S+timeout-above-interval\.yml:4:21: scrape_configs\[0\]\.scrape_timeout \(15s\) is greater than scrape_interval \(10s\)/],
    ["unsupported SD", "scrape_configs:\n  - job_name: a\n    azure_sd_configs:\n      - subscription_id: x\n", /FAILED: \S+unsupported-sd\.yml:3:5: scrape_configs\[0\]\.azure_sd_configs: no plugin for azure_sd_configs \(available: static_configs, consul_sd_configs, dns_sd_configs, ec2_sd_configs, file_sd_configs, http_sd_configs, kubernetes_sd_configs\)/],
  ];
  for (const [what, text, expected] of bad) {
    test(`a config with a ${what} exits 1 with a one-line located error`, async () => {
      const name = `${what.replaceAll(" ", "-").replace("SD", "sd").toLowerCase()}.yml`;
      const path = text === null ? join(dir, name) : file(name, text);
      const r = await runToEnd(cmd, ["check", "config", path]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(expected);
      expect(r.stdout.split("\n").filter((l) => l.includes("FAILED"))).toHaveLength(1);
    });
  }

  test("several files are all checked and any failure makes the exit code 1", async () => {
    const good = file("good.yml", "global:\n  scrape_interval: 5s\n");
    const broken = file("broken.yml", "global:\n  scrape_interval: 5x\n");
    const r = await runToEnd(cmd, ["check", "config", good, broken]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`SUCCESS: ${good}`);
    expect(r.stdout).toContain(`FAILED: ${broken}:2:20`);
  });

  test("no file is a usage error", async () => {
    const r = await runToEnd(cmd, ["check", "config"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("check config needs at least one config file");
  });
});

describe("gleaner run", () => {
  test("an invalid config exits 1 with a one-line error and starts nothing", async () => {
    const path = file("run-bad.yml", "scrape_configs:\n  - job_name: a\n    scrape_timeout: 2m\n");
    const r = await runToEnd(cmd, ["run", `--config.file=${path}`, `--storage.tsdb.path=${join(dir, "data-bad")}`, "--web.listen-address=127.0.0.1:0"]);
    expect(r.code).toBe(1);
    const errors = r.stderr.split("\n").filter((l) => l.includes("level=error"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`${path}:3:21: scrape_configs[0].scrape_timeout (2m) is greater than scrape_interval (1m)`);
    expect(r.stderr).not.toContain("Server is ready");
  });

  test("serves health, readiness and metrics; a bad reload keeps the old config; SIGTERM exits 0", async () => {
    const path = file("run.yml", "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: [localhost:9090]\n");
    const { g, base } = await startGleaner(cmd, [`--config.file=${path}`, `--storage.tsdb.path=${join(dir, "data")}`, "--web.enable-lifecycle"]);
    running.push(g);
    expect(await (await fetch(`${base}/-/healthy`)).text()).toBe("Gleaner Server is Healthy.\n");
    expect((await fetch(`${base}/-/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(metrics).toContain("prometheus_config_last_reload_successful 1\n");

    writeFileSync(path, "global:\n  scrape_interval: nope\n");
    g.proc.kill("SIGHUP");
    await g.waitFor(/level=error msg="Error reloading config; keeping the running configuration" err="[^"]*run\.yml:2:20: global\.scrape_interval \(nope\)/);
    expect((await fetch(`${base}/-/healthy`)).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain("prometheus_config_last_reload_successful 0\n");

    const failed = await fetch(`${base}/-/reload`, { method: "POST" });
    expect(failed.status).toBe(500);
    writeFileSync(path, "global:\n  scrape_interval: 5s\n");
    expect((await fetch(`${base}/-/reload`, { method: "POST" })).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain("prometheus_config_last_reload_successful 1\n");

    g.proc.kill("SIGTERM");
    expect(await g.exit()).toBe(0);
    expect(g.stderr).toContain('msg="Stopping gleaner" reason="received SIGTERM"');
  });

  test("--log.format=json logs one JSON object per line", async () => {
    const { g } = await startGleaner(cmd, ["--config.file=examples/gleaner.yml", `--storage.tsdb.path=${join(dir, "data-json")}`, "--log.format=json"]);
    running.push(g);
    g.proc.kill("SIGINT");
    expect(await g.exit()).toBe(0);
    const lines = g.stderr.trim().split("\n").map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(lines[0]).toMatchObject({ level: "info", msg: "Starting gleaner" });
    expect(lines.at(-1)!.msg).toBe("See you next time!");
  });

  test("a SIGTERM while gleaner is still starting stops it cleanly once the start completes", async () => {
    const proc = Bun.spawn([...cmd, "run", "--web.listen-address=127.0.0.1:0", "--config.file=examples/gleaner.yml", `--storage.tsdb.path=${join(dir, "data-early")}`], { cwd: ROOT, stdout: "ignore", stderr: "pipe", stdin: "ignore" });
    const g = new Running(proc);
    running.push(g);
    await g.waitFor(/msg="Starting gleaner"/);
    proc.kill("SIGTERM");
    expect(await g.exit()).toBe(0);
    expect(g.stderr).toContain('msg="Stopping gleaner" reason="received SIGTERM"');
    expect(g.stderr).toContain('msg="See you next time!"');
  });

  test("subqueries without a step use the global evaluation_interval, re-read on reload", async () => {
    const path = file("eval.yml", "global:\n  evaluation_interval: 15s\n");
    const { g, base } = await startGleaner(cmd, [`--config.file=${path}`, `--storage.tsdb.path=${join(dir, "data-eval")}`, "--web.enable-lifecycle"]);
    running.push(g);
    const points = async () => {
      const r = (await (await fetch(`${base}/api/v1/query?query=${encodeURIComponent("count_over_time(vector(1)[1m:])")}&time=900`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
      return r.data.result[0]!.value[1];
    };
    expect(await points()).toBe("4"); // 855, 870, 885, 900: the window (840, 900] is left-open, as in 3.x
    writeFileSync(path, "global:\n  evaluation_interval: 30s\n");
    expect((await fetch(`${base}/-/reload`, { method: "POST" })).status).toBe(200);
    expect(await points()).toBe("2"); // 870, 900
    writeFileSync(path, "global: {}\n");
    expect((await fetch(`${base}/-/reload`, { method: "POST" })).status).toBe(200);
    expect(await points()).toBe("1"); // the 1m default: 900
    g.proc.kill("SIGTERM");
    expect(await g.exit()).toBe(0);
  });

  test("--enable-feature=exemplar-storage sizes the exemplar storage from the config; unknown features are warned about", async () => {
    const path = file("exemplars.yml", "storage:\n  exemplars:\n    max_exemplars: 5000\n");
    const { g, base } = await startGleaner(cmd, [`--config.file=${path}`, `--storage.tsdb.path=${join(dir, "data-ex")}`, "--enable-feature=exemplar-storage,no-such-feature", "--web.enable-lifecycle"]);
    running.push(g);
    expect(g.stderr).toContain('msg="Unknown option for --enable-feature" option=no-such-feature');
    expect(g.stderr).toContain('msg="Experimental in-memory exemplar storage enabled"');
    expect(await (await fetch(`${base}/metrics`)).text()).toContain("prometheus_tsdb_exemplar_max_exemplars 5000\n");
    writeFileSync(path, "storage:\n  exemplars:\n    max_exemplars: 7\n");
    expect((await fetch(`${base}/-/reload`, { method: "POST" })).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain("prometheus_tsdb_exemplar_max_exemplars 7\n");
    const flags = (await (await fetch(`${base}/api/v1/status/flags`)).json()) as { data: Record<string, string> };
    expect(flags.data["enable-feature"]).toBe("exemplar-storage,no-such-feature");
    g.proc.kill("SIGTERM");
    expect(await g.exit()).toBe(0);
  });

  test("/api/v1/status/flags lists every flag Prometheus 2.42 lists; Prometheus's other flags are taken, warned about and ignored", async () => {
    const { g, base } = await startGleaner(cmd, ["--config.file=examples/gleaner.yml", `--storage.tsdb.path=${join(dir, "data-flags")}`, "--web.enable-admin-api", "--storage.tsdb.min-block-duration=2h"]);
    running.push(g);
    expect(g.stderr).toContain('msg="Flag accepted for compatibility with Prometheus and ignored" flag=--web.enable-admin-api');
    expect(g.stderr).toContain("flag=--storage.tsdb.min-block-duration");
    const ours = ((await (await fetch(`${base}/api/v1/status/flags`)).json()) as { data: Record<string, string> }).data;
    // Captured from Debian's Prometheus 2.42 (its own config, data and listen flags; Debian's paths for consoles and assets).
    const theirs = ((await Bun.file(join(ROOT, "test/fixtures/prometheus-2.42-status-flags.json")).json()) as { data: Record<string, string> }).data;
    expect(Object.keys(theirs).filter((k) => !(k in ours))).toEqual([]);
    const deployment = new Set(["config.file", "storage.tsdb.path", "web.listen-address", "storage.agent.path", "web.console.libraries", "web.console.templates", "web.local-assets", "storage.tsdb.retention.time"]);
    const differ = Object.keys(theirs).filter((k) => !deployment.has(k) && theirs[k] !== ours[k] && !(k === "web.enable-admin-api"));
    expect(differ.map((k) => `${k}: ${ours[k]} vs ${theirs[k]}`)).toEqual([]);
    expect(ours["web.enable-admin-api"]).toBe("true");
    expect((await runToEnd(cmd, ["run", "--help"])).stdout).toContain("--[no-]web.enable-admin-api");
    g.proc.kill("SIGTERM");
    expect(await g.exit()).toBe(0);
  });

  test("without --enable-feature=exemplar-storage no exemplar is kept", async () => {
    const { g, base } = await startGleaner(cmd, ["--config.file=examples/gleaner.yml", `--storage.tsdb.path=${join(dir, "data-noex")}`]);
    running.push(g);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain("prometheus_tsdb_exemplar_max_exemplars 0\n");
    const r = await fetch(`${base}/api/v1/query_exemplars?query=up&start=0&end=1`);
    expect(await r.text()).toBe('{"status":"success","data":[]}');
    g.proc.kill("SIGTERM");
    expect(await g.exit()).toBe(0);
  });

  test("a bad flag is a usage error with exit code 2", async () => {
    const r = await runToEnd(cmd, ["run", "--log.level=loud"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("gleaner: error: invalid value \"loud\" for flag '--log.level', expected one of: debug, info, warn, error, try --help\n");
  });
});

describe("help and version", () => {
  test("every command has --help", async () => {
    for (const args of [["--help"], ["run", "--help"], ["check", "--help"], ["check", "config", "--help"]]) {
      const r = await runToEnd(cmd, args);
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.stdout).toStartWith("usage: gleaner");
    }
    const run = await runToEnd(cmd, ["run", "--help"]);
    for (const f of ["--config.file", "--storage.tsdb.path", "--storage.tsdb.retention.time", "--web.listen-address", "--[no-]web.enable-lifecycle", "--log.level", "--log.format"]) {
      expect(run.stdout).toContain(f);
    }
  });

  test("version prints gleaner's version", async () => {
    const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { version: string };
    const r = await runToEnd(cmd, ["version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(`gleaner, version ${pkg.version}\n`);
  });
});
