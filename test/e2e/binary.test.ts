import { beforeAll, expect, test } from "bun:test";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compiledBinary, ROOT, runToEnd, startGleaner, tempDir } from "./harness.ts";

// The single binary, built as `npm run build` builds it, then run from a directory with
// nothing beside it.
const dir = tempDir("gleaner-bin-");
let binary = "";

beforeAll(async () => {
  binary = await compiledBinary();
}, 120_000);

test("the compiled binary checks a config from another directory", async () => {
  const config = join(dir, "gleaner.yml");
  copyFileSync(join(ROOT, "examples/gleaner.yml"), config);
  const r = await runToEnd([binary], ["check", "config", "gleaner.yml"], dir);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("SUCCESS: gleaner.yml is valid prometheus config file syntax");
  const bad = await runToEnd([binary], ["check", "config", "missing.yml"], "/tmp");
  expect(bad.code).toBe(1);
});

test("the compiled binary runs and serves /-/healthy and /metrics", async () => {
  const config = join(dir, "run.yml");
  copyFileSync(join(ROOT, "examples/gleaner.yml"), config);
  const { g, base } = await startGleaner([binary], [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, "data")}`], "/tmp");
  try {
    expect((await fetch(`${base}/-/healthy`)).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain("gleaner_build_info{");
  } finally {
    g.proc.kill("SIGTERM");
  }
  expect(await g.exit()).toBe(0);
});

test("the compiled binary prints its version", async () => {
  const r = await runToEnd([binary], ["version"], "/tmp");
  expect(r.code).toBe(0);
  expect(r.stdout).toStartWith("gleaner, version ");
});

test("the compiled binary embeds the WebAssembly core: check metrics works from /tmp", async () => {
  const proc = Bun.spawn([binary, "check", "metrics", "--dump"], { cwd: "/tmp", stdin: new TextEncoder().encode('up{job="x"} 1\n'), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  expect(JSON.parse(out)).toEqual({ series: 'up{job="x"}', labels: { __name__: "up", job: "x" }, value: "1", timestamp_ms: null });
});

test("the compiled binary loads an external discovery plugin at run time and scrapes what it finds", async () => {
  const target = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("plugin_found 1\n", { headers: { "Content-Type": "text/plain" } }) });
  const work = tempDir("gleaner-plugin-");
  writeFileSync(join(work, "hosts"), "127.0.0.1 127.0.0.1\n");
  writeFileSync(
    join(work, "gleaner.yml"),
    `plugins: [${join(ROOT, "examples/plugins/hosts/index.ts")}]\nscrape_configs:\n  - job_name: lan\n    scrape_interval: 1s\n    hosts_sd_configs:\n      - file: hosts\n        port: ${target.port}\n`,
  );
  const { g, base } = await startGleaner([binary], ["--config.file=gleaner.yml", "--storage.tsdb.path=data"], work);
  try {
    const deadline = Date.now() + 10_000;
    type Targets = { data: { activeTargets: Array<{ health: string; discoveredLabels: Record<string, string> }> } };
    const fetchTargets = async () => (await (await fetch(`${base}/api/v1/targets`)).json()) as Targets;
    let targets = await fetchTargets();
    while (targets.data.activeTargets[0]?.health !== "up" && Date.now() < deadline) {
      await Bun.sleep(100);
      targets = await fetchTargets();
    }
    expect(targets.data.activeTargets[0]).toMatchObject({ health: "up", discoveredLabels: expect.objectContaining({ __meta_hosts_ip: "127.0.0.1", __meta_hosts_file: join(work, "hosts") }) });
    const status = (await (await fetch(`${base}/api/v1/status/discovery`)).json()) as { data: { providers: Array<{ mechanism: string; targets: number; lastError: string }> } };
    expect(status.data.providers).toEqual([expect.objectContaining({ mechanism: "hosts", targets: 1, lastError: "" })]);
  } finally {
    g.proc.kill("SIGTERM");
    target.stop(true);
  }
  expect(await g.exit()).toBe(0);
});

test("the compiled binary runs gleaner bench, starting itself as the generator and the scraper", async () => {
  const r = await runToEnd([binary], ["bench", "--targets", "2", "--series", "40", "--interval", "1s", "--duration", "2s", "--warmup", "1s", "--json"], "/tmp");
  const report = JSON.parse(r.stdout) as { runs: Array<{ scraper: string; measured: { samplesPerS: number; series: number } | null }> };
  expect(report.runs.map((x) => x.scraper)).toEqual(["gleaner"]);
  expect(report.runs[0]!.measured!.series).toBe(2 * (38 + 5));
  expect(report.runs[0]!.measured!.samplesPerS).toBeGreaterThan(0);
}, 60_000);
