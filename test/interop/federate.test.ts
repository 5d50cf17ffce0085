// Debian's Prometheus 2.42 federates from gleaner: it scrapes gleaner's /federate with
// honor_labels, as a global Prometheus scrapes a local one, and its own query API then
// shows gleaner's latest samples with their labels, timestamps and gleaner's external labels.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server } from "../../core/server.ts";
import { missingPeers, PEERS, startPeer, type RunningPeer } from "../support/peers.ts";
import { loadOpenMetrics } from "../support/openmetrics-loader.ts";
import { startTestServer } from "../support/server.ts";

const missing = await missingPeers(PEERS.prometheus);

describe.skipIf(missing !== null)("Prometheus federating from gleaner", () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-federate-"));
  let gleaner: Server;
  let prom: RunningPeer;
  const at = Math.floor(Date.now() / 1000) - 20;

  beforeAll(async () => {
    gleaner = await startTestServer(dir, "global:\n  scrape_interval: 1h\n  external_labels: { region: eu }\n");
    await loadOpenMetrics(
      gleaner.storage!,
      [
        "# TYPE app_value gauge",
        `app_value{job="app",instance="a:1",region="us"} 1 ${at - 30}`,
        `app_value{job="app",instance="a:1",region="us"} 42.5 ${at}`,
        `app_value{job="app",instance="b:1"} 7 ${at}`,
        `app_other{job="other"} 1 ${at}`,
        "# EOF\n",
      ].join("\n"),
    );
    const config = `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: federate\n    honor_labels: true\n    metrics_path: /federate\n    params:\n      'match[]': ['{job="app"}']\n    static_configs:\n      - targets: ['${gleaner.url.host}']\n`;
    prom = await startPeer(PEERS.prometheus, (p, d) => {
      writeFileSync(`${d}/prometheus.yml`, config);
      return [`--config.file=${d}/prometheus.yml`, `--storage.tsdb.path=${d}/data`, `--web.listen-address=127.0.0.1:${p}`];
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = (await (await fetch(`${prom.url}/api/v1/query?query=app_value`)).json()) as { data: { result: unknown[] } };
      if (r.data.result.length === 2) break;
      if (Date.now() > deadline) throw new Error(`Prometheus did not federate gleaner's series: ${JSON.stringify(r)}`);
      await Bun.sleep(100);
    }
  }, 40_000);

  afterAll(async () => {
    await prom?.stop();
    await gleaner?.stop("test done");
    rmSync(dir, { recursive: true, force: true });
  });

  test("the federated series keep gleaner's labels, values and timestamps, plus its external labels", async () => {
    const r = (await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent("timestamp(app_value)")}`)).json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    const byInstance = Object.fromEntries(r.data.result.map((s) => [s.metric.instance ?? "", s]));
    expect(byInstance["a:1"]!.metric).toEqual({ instance: "a:1", job: "app", region: "us" });
    expect(byInstance["b:1"]!.metric).toEqual({ instance: "b:1", job: "app", region: "eu" });
    expect(byInstance["a:1"]!.value[1]).toBe(String(at));
    const v = (await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent('app_value{instance="a:1"}')}`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
    expect(v.data.result[0]!.value[1]).toBe("42.5");
  });

  test("series outside the match[] selectors are not federated", async () => {
    const r = (await (await fetch(`${prom.url}/api/v1/query?query=app_other`)).json()) as { data: { result: unknown[] } };
    expect(r.data.result).toEqual([]);
  });
});
