import { beforeAll, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, runToEnd, startGleaner, tempDir } from "./harness.ts";

// The single binary, built as `npm run build` builds it, then run from a directory with
// nothing beside it.
const dir = tempDir("gleaner-bin-");
const binary = join(dir, "gleaner");

beforeAll(async () => {
  const build = await runToEnd([process.execPath], ["build", "--compile", "--minify", join(ROOT, "cmd/gleaner.ts"), "--outfile", binary]);
  if (build.code !== 0) throw new Error(`bun build --compile failed:\n${build.stdout}${build.stderr}`);
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
