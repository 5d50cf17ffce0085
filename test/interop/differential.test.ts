// Debian's Prometheus (2.42) and gleaner scrape the same targets with the same config, in
// real time: a synthetic target that changes (relabeling, an honor_labels conflict, a
// series that disappears, then failures) and a real node_exporter. The stored series sets,
// `up` and staleness must agree. gleaner follows Prometheus 3.x; no rule used here differs
// between 2.42 and 3.x.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../core/config/load.ts";
import { createLogger } from "../../core/log/logger.ts";
import { Registry } from "../../core/metrics/registry.ts";
import { ScrapeService } from "../../core/scrape/service.ts";
import { MemoryStorage } from "../../storage/memory.ts";
import { missingPeers, PEERS, startPeer, type RunningPeer } from "../support/peers.ts";

const missing = await missingPeers(PEERS.prometheus, PEERS.nodeExporter);

type Phase = "all" | "b-gone" | "failing";
let phase: Phase = "all";
const body = () =>
  [
    "# TYPE a counter",
    'a_total{x="1"} 10',
    'a_total{x="2"} 20',
    ...(phase === "all" ? ["b 1"] : []),
    'conflict{job="app",instance="inner"} 1',
    "dropme 7",
    'renamed{old="v"} 3',
  ].join("\n") + "\n";

const CONFIG = (synthetic: string, node: string) => `global:
  scrape_interval: 1s
  scrape_timeout: 800ms
scrape_configs:
  - job_name: synthetic
    static_configs:
      - targets: ['${synthetic}']
        labels: { team: core }
    relabel_configs:
      - target_label: env
        replacement: test
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: dropme
        action: drop
      - source_labels: [old]
        target_label: new
      - regex: old
        action: labeldrop
  - job_name: node
    static_configs:
      - targets: ['${node}']
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: node_(cpu|memory|filesystem|network)_.*|go_.*|process_.*|node_exporter_build_info
        action: keep
`;

describe.skipIf(missing !== null)("gleaner and Prometheus scraping the same targets agree", () => {
  const peers: RunningPeer[] = [];
  let server: ReturnType<typeof Bun.serve>;
  let storage: MemoryStorage;
  let service: ScrapeService;
  let prom: RunningPeer;
  const times: Record<Phase, number> = { all: 0, "b-gone": 0, failing: 0 };

  beforeAll(async () => {
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => (phase === "failing" ? new Response("down for maintenance", { status: 503 }) : new Response(body(), { headers: { "Content-Type": "text/plain; version=0.0.4" } })),
    });
    const node = await startPeer(PEERS.nodeExporter, (p) => [`--web.listen-address=127.0.0.1:${p}`], "/metrics");
    peers.push(node);
    const config = CONFIG(`127.0.0.1:${server.port}`, `127.0.0.1:${node.port}`);
    prom = await startPeer(PEERS.prometheus, (p, dir) => {
      Bun.write(`${dir}/prometheus.yml`, config);
      return [`--config.file=${dir}/prometheus.yml`, `--storage.tsdb.path=${dir}/data`, `--web.listen-address=127.0.0.1:${p}`];
    });
    peers.push(prom);
    storage = new MemoryStorage();
    service = await ScrapeService.create({ storage, registry: new Registry(), log: createLogger({ level: "error", format: "logfmt", write: () => {} }) });
    await service.applyConfig(parseConfig(config, "differential.yml"));

    // Prometheus's discovery manager hands targets over in 5 s batches: wait until it has
    // scraped both targets, then give each phase enough time for two scrapes by both.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const t = (await (await fetch(`${prom.url}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ health: string }> } };
      if (t.data.activeTargets.length === 2 && t.data.activeTargets.every((x) => x.health === "up")) break;
      if (Date.now() > deadline) throw new Error(`Prometheus did not scrape its targets: ${JSON.stringify(t)}`);
      await Bun.sleep(100);
    }
    for (const p of ["all", "b-gone", "failing"] as const) {
      phase = p;
      await Bun.sleep(2_600);
      times[p] = Date.now();
    }
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    server?.stop(true);
    await Promise.all(peers.map((p) => p.stop()));
  });

  async function promApi<T>(path: string): Promise<T> {
    const res = (await (await fetch(`${prom.url}/api/v1/${path}`)).json()) as { status: string; data: T };
    expect(res.status).toBe("success");
    return res.data;
  }

  const key = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

  async function seriesSets(job: string) {
    const end = Date.now() / 1000;
    const fromProm = await promApi<Array<Record<string, string>>>(`series?match[]=${encodeURIComponent(`{job="${job}"}`)}&start=${end - 600}&end=${end}`);
    const fromGleaner = storage.select([{ type: "=", name: "job", value: job }], 0, Infinity).map((s) => s.labels.toObject());
    return { prom: new Set(fromProm.map(key)), gleaner: new Set(fromGleaner.map(key)) };
  }

  test("the synthetic target's stored series are the same, relabeling and exported_ labels included", async () => {
    const { prom: p, gleaner: g } = await seriesSets("synthetic");
    expect([...g].sort()).toEqual([...p].sort());
    expect(g.has(key({ __name__: "conflict", env: "test", exported_instance: "inner", exported_job: "app", instance: `127.0.0.1:${server.port}`, job: "synthetic", team: "core" }))).toBe(true);
    expect(g.has(key({ __name__: "renamed", env: "test", instance: `127.0.0.1:${server.port}`, job: "synthetic", new: "v", team: "core" }))).toBe(true);
  });

  test("node_exporter's kept metric names are the same", async () => {
    const { prom: p, gleaner: g } = await seriesSets("node");
    const names = (s: Set<string>) => new Set([...s].map((k) => (JSON.parse(k) as Array<[string, string]>).find(([n]) => n === "__name__")![1]));
    expect([...names(g)].sort()).toEqual([...names(p)].sort());
    expect(g.size).toBeGreaterThan(50);
  });

  test("a series that disappeared is stale in both", async () => {
    const at = times["b-gone"] / 1000;
    const r = await promApi<{ result: unknown[] }>(`query?query=b&time=${at}`);
    expect(r.result).toEqual([]);
    const b = storage.select([{ type: "=", name: "__name__", value: "b" }], 0, Infinity)[0]!;
    const before = b.samples.filter((s) => s.t <= times["b-gone"]);
    expect(before.at(-1)!.stale).toBe(true);
  });

  test("a failing target is up=0 in both, and its series are stale in both", async () => {
    const at = times.failing / 1000;
    const up = await promApi<{ result: Array<{ value: [number, string] }> }>(`query?query=${encodeURIComponent('up{job="synthetic"}')}&time=${at}`);
    expect(up.result[0]!.value[1]).toBe("0");
    const ours = storage.select([{ type: "=", name: "__name__", value: "up" }, { type: "=", name: "job", value: "synthetic" }], 0, Infinity)[0]!;
    expect(ours.samples.filter((s) => s.t <= times.failing).at(-1)!.v).toBe(0);
    const a = await promApi<{ result: unknown[] }>(`query?query=a_total&time=${at}`);
    expect(a.result).toEqual([]);
    for (const s of storage.select([{ type: "=", name: "__name__", value: "a_total" }], 0, Infinity)) {
      expect(s.samples.filter((x) => x.t <= times.failing).at(-1)!.stale).toBe(true);
    }
  });

  test("the healthy node target is up=1 in both", async () => {
    const up = await promApi<{ result: Array<{ value: [number, string] }> }>(`query?query=${encodeURIComponent('up{job="node"}')}`);
    expect(up.result[0]!.value[1]).toBe("1");
    const ours = storage.select([{ type: "=", name: "__name__", value: "up" }, { type: "=", name: "job", value: "node" }], 0, Infinity)[0]!;
    expect(ours.samples.at(-1)!.v).toBe(1);
  });
});
