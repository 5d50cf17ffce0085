// Overload is a behaviour: a target whose first scrape creates 200k series must not stall
// gleaner. Its sample loop yields between slices, so other targets keep their schedule, the
// HTTP API answers, and SIGTERM stops gleaner promptly. Real HTTP on loopback, real clock;
// nothing is timed except what the behaviour promises (one interval, one second, ten seconds).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "../../core/server.ts";
import { startTestServer } from "../support/server.ts";
import { sourceCommand, startGleaner } from "../e2e/harness.ts";

const BIG = 200_000;
const bigBody = (() => {
  const lines: string[] = ["# TYPE storm_requests_total counter"];
  for (let i = 0; i < BIG; i++) lines.push(`storm_requests_total{pod="pod-${i % 977}",handler="/h/${i}",code="${200 + (i % 5)}"} ${i}`);
  return lines.join("\n") + "\n";
})();

let target: ReturnType<typeof Bun.serve>;
const smallHits: number[] = [];
const bigHits: number[] = [];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gleaner-overload-"));
  target = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/big") {
        bigHits.push(performance.now());
        return new Response(bigBody, { headers: { "Content-Type": "text/plain; version=0.0.4" } });
      }
      smallHits.push(performance.now());
      return new Response("heartbeat 1\n", { headers: { "Content-Type": "text/plain; version=0.0.4" } });
    },
  });
});

afterAll(() => {
  target.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const config = (bigTargets: number) => `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: small
    static_configs: [{ targets: ['127.0.0.1:${target.port}'] }]
  - job_name: big
    scrape_interval: 3s
    scrape_timeout: 3s
    metrics_path: /big
    static_configs: [{ targets: [${Array.from({ length: bigTargets }, (_, i) => `'127.0.0.${i + 1}:${target.port}'`).join(", ")}] }]
`;

test("a first scrape creating 200k series delays no other target by more than one interval, and /-/healthy answers within 1 s meanwhile", async () => {
  let server: Server | null = null;
  try {
    server = await startTestServer(dir, config(1));
    const base = server.url.toString().replace(/\/$/, "");
    const health: number[] = [];
    const deadline = performance.now() + 30_000;
    let bigDone = false;
    while (!bigDone && performance.now() < deadline) {
      const t0 = performance.now();
      const res = await fetch(`${base}/-/healthy`, { signal: AbortSignal.timeout(5_000) });
      expect(res.status).toBe(200);
      health.push(performance.now() - t0);
      const targets = (await (await fetch(`${base}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ scrapePool: string; health: string; lastError: string }> } };
      const big = targets.data.activeTargets.find((t) => t.scrapePool === "big");
      if (big?.health === "up") bigDone = true;
      else if (big?.health === "down") throw new Error(`the big target failed: ${big.lastError}`);
      await Bun.sleep(100);
    }
    expect(bigDone).toBe(true);
    await Bun.sleep(1_500);
    const series = (await (await fetch(`${base}/api/v1/query?query=count(storm_requests_total)`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
    expect(series.data.result[0]!.value[1]).toBe(String(BIG));
    // The heartbeat target kept its 1 s schedule while the 200k series went in.
    const from = bigHits[0]!;
    const during = smallHits.filter((t) => t >= from - 1_000);
    const gaps = during.slice(1).map((t, i) => t - during[i]!);
    expect(gaps.length).toBeGreaterThan(1);
    expect(Math.max(...gaps)).toBeLessThan(2_000);
    expect(Math.max(...health)).toBeLessThan(1_000);
  } finally {
    await server?.stop("test done");
  }
}, 60_000);

test("SIGTERM during a first-scrape storm (4 targets × 200k new series) stops gleaner cleanly within 10 s", async () => {
  const cfg = join(dir, "storm.yml");
  writeFileSync(cfg, config(4));
  const before = bigHits.length;
  const { g } = await startGleaner(sourceCommand(), [`--config.file=${cfg}`, `--storage.tsdb.path=${join(dir, "storm-data")}`]);
  const deadline = Date.now() + 15_000;
  while (bigHits.length < before + 2 && Date.now() < deadline) await Bun.sleep(20);
  expect(bigHits.length).toBeGreaterThanOrEqual(before + 2);
  await Bun.sleep(300);
  const t0 = performance.now();
  g.proc.kill("SIGTERM");
  const code = await Promise.race([g.exit(), Bun.sleep(10_000).then(() => null)]);
  if (code === null) g.proc.kill("SIGKILL");
  expect(code).toBe(0);
  expect(performance.now() - t0).toBeLessThan(10_000);
  expect(g.stderr).toContain("See you next time!");
}, 60_000);
