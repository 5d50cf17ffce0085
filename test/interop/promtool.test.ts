// promtool (Debian's Prometheus 2.42 package) as a real client of gleaner's query API:
// `promtool query instant|range|series|labels` against a running gleaner server holding
// known data. promtool POSTs forms, asks for gzip and decodes with client_golang, so this
// checks the transport as much as the JSON.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server } from "../../core/server.ts";
import { missingPeers } from "../support/peers.ts";
import { loadOpenMetrics } from "../support/openmetrics-loader.ts";
import { startTestServer } from "../support/server.ts";

const PROMTOOL = { binary: "/usr/bin/promtool", pkg: "prometheus" };
const missing = await missingPeers(PROMTOOL);

/** Two gauges every 15 s for the last 30 minutes: room a = i, room b = 2i at step i. */
const BASE = Math.floor(Date.now() / 15_000) * 15 - 1800;
function data(): string {
  const lines = ["# TYPE demo_temp gauge"];
  for (let i = 0; i <= 120; i++) {
    lines.push(`demo_temp{room="a",site="x"} ${i} ${BASE + i * 15}`, `demo_temp{room="b",site="x"} ${2 * i} ${BASE + i * 15}`);
  }
  return `${lines.join("\n")}\n# EOF\n`;
}

async function promtool(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([PROMTOOL.binary, "query", ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

describe.skipIf(missing !== null)("promtool queries gleaner", () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-promtool-"));
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = await startTestServer(dir, "global:\n  scrape_interval: 1h\n");
    await loadOpenMetrics(server.storage!, data());
    url = server.url.origin;
  });

  afterAll(async () => {
    await server?.stop("test done");
    rmSync(dir, { recursive: true, force: true });
  });

  test("promtool query instant prints gleaner's vector and scalar results", async () => {
    const at = String(BASE + 300);
    const v = await promtool("instant", `--time=${at}`, url, "demo_temp");
    expect(v).toMatchObject({ code: 0, stderr: "" });
    expect(v.stdout).toBe(`demo_temp{room="a", site="x"} => 20 @[${at}]\ndemo_temp{room="b", site="x"} => 40 @[${at}]\n`);
    const s = await promtool("instant", "-o", "json", `--time=${at}.5`, url, "scalar(sum(demo_temp)) / 8");
    expect(JSON.parse(s.stdout)).toEqual([BASE + 300.5, "7.5"]);
  });

  test("promtool query range prints one series per label set with every step", async () => {
    const r = await promtool("range", `--start=${BASE + 300}`, `--end=${BASE + 330}`, "--step=15s", url, "sum by (site) (demo_temp)");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`{site="x"} =>\n60 @[${BASE + 300}]\n63 @[${BASE + 315}]\n66 @[${BASE + 330}]\n`);
  });

  test("promtool query series and labels list what gleaner stores", async () => {
    const s = await promtool("series", '--match=demo_temp{room="b"}', "--match=demo_temp", url);
    expect(s.code).toBe(0);
    expect(s.stdout).toBe('{__name__="demo_temp", room="a", site="x"}\n{__name__="demo_temp", room="b", site="x"}\n');
    const l = await promtool("labels", url, "room");
    expect({ code: l.code, stdout: l.stdout }).toEqual({ code: 0, stdout: "a\nb\n" });
    const n = await promtool("labels", "--match=demo_temp", url, "__name__");
    expect(n.stdout).toBe("demo_temp\n");
  });

  test("promtool reports gleaner's errors as Prometheus's and exits 1", async () => {
    const r = await promtool("instant", url, "sum(");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('query error: bad_data: invalid parameter "query": 1:5: parse error: unclosed left parenthesis');
    const range = await promtool("range", "--start=0", "--end=1000000", "--step=1s", url, "demo_temp");
    expect(range.code).toBe(1);
    expect(range.stderr).toContain("exceeded maximum resolution of 11,000 points per timeseries");
  });
});
