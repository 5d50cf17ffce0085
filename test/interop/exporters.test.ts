// gleaner scrapes real exporters from Debian's packages, started on loopback: node_exporter
// (text and protobuf), the pushgateway (honor_labels) and a Prometheus server's own /metrics
// (OpenMetrics).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../core/config/load.ts";
import { createLogger } from "../../core/log/logger.ts";
import { Registry } from "../../core/metrics/registry.ts";
import { ManualClock } from "../../core/scrape/clock.ts";
import { ScrapeService } from "../../core/scrape/service.ts";
import { MemoryStorage } from "../../storage/memory.ts";
import { missingPeers, PEERS, startPeer, type RunningPeer } from "../support/peers.ts";

const missing = await missingPeers(PEERS.nodeExporter, PEERS.pushgateway, PEERS.prometheus);

describe.skipIf(missing !== null)("scraping real exporters", () => {
  const peers: RunningPeer[] = [];
  const clock = new ManualClock(1_800_000_000_000);
  let storage: MemoryStorage;
  let service: ScrapeService;

  beforeAll(async () => {
    const [node, push, prom] = await Promise.all([
      startPeer(PEERS.nodeExporter, (p) => [`--web.listen-address=127.0.0.1:${p}`], "/metrics"),
      startPeer(PEERS.pushgateway, (p) => [`--web.listen-address=127.0.0.1:${p}`], "/-/ready"),
      startPeer(PEERS.prometheus, (p, dir) => {
        Bun.write(`${dir}/prometheus.yml`, "global:\n  scrape_interval: 1h\n");
        return [`--config.file=${dir}/prometheus.yml`, `--storage.tsdb.path=${dir}/data`, `--web.listen-address=127.0.0.1:${p}`];
      }),
    ]);
    peers.push(node!, push!, prom!);
    // A group pushed with its own job and instance labels.
    const pushed = await fetch(`${push!.url}/metrics/job/batch/instance/worker-1`, { method: "PUT", body: "# TYPE batch_last_success gauge\nbatch_last_success 1700000000\n" });
    expect(pushed.status).toBe(200);

    storage = new MemoryStorage(() => clock.now());
    service = await ScrapeService.create({ storage, registry: new Registry(), log: createLogger({ level: "error", format: "logfmt", write: () => {} }), clock });
    const target = (p: RunningPeer) => `['127.0.0.1:${p.port}']`;
    await service.applyConfig(
      parseConfig(
        `scrape_configs:
  - job_name: node
    scrape_interval: 10s
    static_configs: [{ targets: ${target(node!)} }]
  - job_name: node-proto
    scrape_interval: 10s
    scrape_protocols: [PrometheusProto]
    static_configs: [{ targets: ${target(node!)} }]
  - job_name: pushgateway
    scrape_interval: 10s
    honor_labels: true
    static_configs: [{ targets: ${target(push!)} }]
  - job_name: prometheus
    scrape_interval: 10s
    static_configs: [{ targets: ${target(prom!)} }]
`,
        "interop.yml",
      ),
    );
    await clock.advance(10_000);
    const deadline = Date.now() + 15_000;
    while ([...service.manager.pools().values()].some((p) => p.activeTargets()[0]?.status.health === "unknown") && Date.now() < deadline) {
      await Bun.sleep(25);
      await clock.advance(0);
    }
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await Promise.all(peers.map((p) => p.stop()));
  });

  const series = (...m: Array<[string, string]>) => storage.select(m.map(([name, value]) => ({ type: "=" as const, name, value })), 0, Infinity);
  const status = (job: string) => service.manager.pools().get(job)!.activeTargets()[0]!.status;

  test("node_exporter's text exposition is stored with its labels", () => {
    expect(status("node")).toMatchObject({ health: "up", lastError: "" });
    const cpu = series(["__name__", "node_cpu_seconds_total"], ["job", "node"]);
    expect(cpu.length).toBeGreaterThan(0);
    expect(cpu[0]!.labels.toObject()).toMatchObject({ job: "node", instance: `127.0.0.1:${peers[0]!.port}`, mode: expect.any(String), cpu: expect.any(String) });
    expect(series(["__name__", "up"], ["job", "node"])[0]!.samples[0]!.v).toBe(1);
  });

  test("node_exporter scraped as protobuf gives the same series names as text", () => {
    expect(status("node-proto")).toMatchObject({ health: "up", lastError: "" });
    const names = (job: string) => new Set(storage.select([{ type: "=", name: "job", value: job }], 0, Infinity).map((s) => s.labels.get("__name__")));
    const text = names("node");
    const proto = names("node-proto");
    for (const n of ["node_cpu_seconds_total", "go_gc_duration_seconds", "go_gc_duration_seconds_count", "node_exporter_build_info"]) {
      expect(text.has(n), n).toBe(true);
      expect(proto.has(n), n).toBe(true);
    }
    const quantiles = (job: string) => series(["__name__", "go_gc_duration_seconds"], ["job", job]).map((s) => s.labels.get("quantile")).sort();
    expect(quantiles("node-proto")).toEqual(quantiles("node"));
  });

  test("with honor_labels the pushgateway's job and instance labels are kept", () => {
    expect(status("pushgateway")).toMatchObject({ health: "up", lastError: "" });
    const pushed = series(["__name__", "batch_last_success"]);
    expect(pushed).toHaveLength(1);
    expect(pushed[0]!.labels.toObject()).toEqual({ __name__: "batch_last_success", job: "batch", instance: "worker-1" });
    expect(pushed[0]!.samples[0]!.v).toBe(1_700_000_000);
  });

  test("Prometheus's own /metrics, negotiated as OpenMetrics, is stored", () => {
    expect(status("prometheus")).toMatchObject({ health: "up", lastError: "" });
    expect(series(["__name__", "prometheus_build_info"], ["job", "prometheus"])).toHaveLength(1);
    expect(series(["__name__", "prometheus_http_requests_total"], ["job", "prometheus"]).length).toBeGreaterThan(0);
  });
});
