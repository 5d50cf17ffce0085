// Remote write against real receivers (issue 8): gleaner scrapes a synthetic target and
// remote-writes into Debian's Prometheus 2.42 (--web.enable-remote-write-receiver) and
// VictoriaMetrics single-node; every series and sample the receivers hold is compared with
// gleaner's own TSDB. And the reverse: Prometheus remote-writes into gleaner's /api/v1/write,
// and gleaner's storage is compared with Prometheus's (stale markers included, bit-exact).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../core/log/logger.ts";
import { Registry } from "../../core/metrics/registry.ts";
import { Labels } from "../../core/model/labels.ts";
import { Tsdb } from "../../storage/tsdb/index.ts";
import type { SeriesData } from "../../storage/types.ts";
import { missingPeers, PEERS, startPeer, type RunningPeer } from "../support/peers.ts";
import { startTestServer } from "../support/server.ts";

const missing = await missingPeers(PEERS.prometheus, PEERS.victoriaMetrics);

/** A target whose values change every scrape; `synth_flap` is there every other scrape (stale markers). */
function startTarget(): ReturnType<typeof Bun.serve> {
  let n = 0;
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => {
      n++;
      const lines = [
        "# TYPE synth_requests counter",
        `synth_requests_total{path="/a"} ${n}`,
        `synth_requests_total{path="/ü"} ${n * 2.5}`,
        "# TYPE synth_gauge gauge",
        `synth_gauge ${Math.random()}`,
        `synth_big ${n * 1e300}`,
        ...(n % 2 === 1 ? [`synth_flap ${n}`] : []),
      ];
      return new Response(lines.join("\n") + "\n", { headers: { "Content-Type": "text/plain; version=0.0.4" } });
    },
  });
}

const quiet = () => createLogger({ level: "error", format: "logfmt", write: () => {} });
const keyOf = (m: Record<string, string>) => Labels.from(m).key;

/** Non-stale samples by series key, from a gleaner storage. */
function fromGleaner(data: SeriesData[]): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  for (const s of data) out.set(s.labels.key, s.samples.filter((x) => !x.stale).map((x) => [x.t, x.v]));
  for (const [k, v] of out) if (v.length === 0) out.delete(k);
  return out;
}

/** Every sample of every series from Prometheus's API (a range selector returns raw samples; stale ones are left out). */
async function fromPrometheus(url: string, selector: string, at: number): Promise<Map<string, Array<[number, number]>>> {
  const q = new URLSearchParams({ query: `${selector}[1h]`, time: String(at / 1000) });
  const body = (await (await fetch(`${url}/api/v1/query?${q}`)).json()) as { data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } };
  const out = new Map<string, Array<[number, number]>>();
  for (const r of body.data.result) out.set(keyOf(r.metric), r.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]));
  return out;
}

/** Samples by series from VictoriaMetrics's export; `stale` gets the timestamps of staleness markers (exported as null). */
async function fromVictoria(url: string, stale = new Map<string, number[]>()): Promise<Map<string, Array<[number, number]>>> {
  await fetch(`${url}/internal/force_flush`);
  const text = await (await fetch(`${url}/api/v1/export?${new URLSearchParams({ "match[]": '{__name__!=""}' })}`)).text();
  const out = new Map<string, Array<[number, number]>>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const r = JSON.parse(line) as { metric: Record<string, string>; values: Array<number | string | null>; timestamps: number[] };
    const key = keyOf(r.metric);
    const markers = r.timestamps.filter((_, i) => r.values[i] === null);
    if (markers.length > 0) stale.set(key, markers.sort((a, b) => a - b));
    const pairs: Array<[number, number]> = r.timestamps.flatMap((t, i) => (r.values[i] === null ? [] : [[t, Number(r.values[i])] as [number, number]]));
    out.set(key, pairs.sort((a, b) => a[0] - b[0]));
  }
  for (const [k, v] of out) if (v.length === 0) out.delete(k);
  return out;
}

function expectSame(got: Map<string, Array<[number, number]>>, want: Map<string, Array<[number, number]>>, what: string, relTol = 0): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [k, w] of want) {
    const g = got.get(k)!;
    expect(g.map(([t]) => t), `${what}: timestamps of ${k.replaceAll("\0", ",")}`).toEqual(w.map(([t]) => t));
    g.forEach(([, v], i) => {
      const x = w[i]![1];
      const ok = relTol === 0 ? Object.is(v, x) || v === x : Math.abs(v - x) <= relTol * Math.abs(x);
      if (!ok) throw new Error(`${what}: ${k.replaceAll("\0", ",")} sample ${i}: ${v} != ${x}`);
    });
  }
}

describe.skipIf(missing !== null)("remote write interop with Prometheus 2.42 and VictoriaMetrics", () => {
  const peers: RunningPeer[] = [];
  let target: ReturnType<typeof Bun.serve>;
  let prom: RunningPeer;
  let vm: RunningPeer;

  beforeAll(async () => {
    target = startTarget();
    [prom, vm] = await Promise.all([
      startPeer(PEERS.prometheus, (port, dir) => {
        writeFileSync(join(dir, "prometheus.yml"), "global: {}\n");
        return [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--web.enable-remote-write-receiver", "--log.level=warn"];
      }),
      startPeer(PEERS.victoriaMetrics, (port, dir) => [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${join(dir, "vm")}`, "-loggerLevel=WARN"], "/health"),
    ]);
    peers.push(prom, vm);
  }, 30_000);

  afterAll(async () => {
    target?.stop(true);
    await Promise.all(peers.map((p) => p.stop()));
  });

  test("gleaner scrapes and remote-writes; Prometheus and VictoriaMetrics hold exactly what gleaner stored", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gleaner-rw-interop-"));
    const config = `global:
  scrape_interval: 200ms
  scrape_timeout: 150ms
scrape_configs:
  - job_name: synth
    static_configs:
      - targets: ['127.0.0.1:${target.port}']
remote_write:
  - url: ${prom.url}/api/v1/write
    name: prometheus
    queue_config: { batch_send_deadline: 50ms }
    metadata_config: { send_interval: 300ms }
  - url: ${vm.url}/api/v1/write
    name: victoria
    queue_config: { batch_send_deadline: 50ms }
    metadata_config: { send_interval: 300ms }
`;
    const server = await startTestServer(dir, config, { remoteFlushDeadline: 10_000 });
    await Bun.sleep(2_500);
    const exposed = server.registry.expose();
    await server.stop("test done"); // drains every queue up to the WAL's end
    // Both receivers take metadata requests too.
    for (const name of ["prometheus", "victoria"]) {
      expect(Number(new RegExp(`^prometheus_remote_storage_metadata_total\\{remote_name="${name}"[^}]*\\} (\\d+)`, "m").exec(exposed)?.[1])).toBeGreaterThan(0);
      expect(exposed).not.toMatch(new RegExp(`^prometheus_remote_storage_(samples|metadata)_failed_total\\{remote_name="${name}"[^}]*\\} [1-9]`, "m"));
    }
    const db = await Tsdb.open({ dir: join(dir, "data"), retentionMs: 0, retentionBytes: 0, registry: new Registry(), log: quiet() });
    const all = db.select([{ type: "=~", name: "__name__", value: ".+" }], -Infinity, Infinity);
    await db.close();
    const mine = fromGleaner(all);
    expect(mine.size).toBeGreaterThanOrEqual(10); // 5 synth series + the report series
    expect(all.find((s) => s.labels.get("__name__") === "synth_flap")!.samples.some((x) => x.stale)).toBe(true);
    expectSame(await fromPrometheus(prom.url, '{__name__=~".+"}', Date.now()), mine, "Prometheus");
    let vmStale = new Map<string, number[]>();
    let vmData = await fromVictoria(vm.url, vmStale);
    for (let i = 0; i < 50 && [...vmData.values()].reduce((n, v) => n + v.length, 0) < [...mine.values()].reduce((n, v) => n + v.length, 0); i++) {
      await Bun.sleep(100);
      vmStale = new Map();
      vmData = await fromVictoria(vm.url, vmStale);
    }
    // Stale markers arrive as StaleNaN: VictoriaMetrics exports exactly those as null.
    const myStale = new Map(all.map((s) => [s.labels.key, s.samples.filter((x) => x.stale).map((x) => x.t)] as const).filter(([, v]) => v.length > 0));
    expect(vmStale).toEqual(myStale);
    // VictoriaMetrics stores floats as decimals with about 12 significant digits, not all 17.
    expectSame(vmData, mine, "VictoriaMetrics", 1e-12);
  }, 30_000);

  test("Prometheus remote-writes into gleaner's /api/v1/write; gleaner holds every sample, stale markers bit-exact", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gleaner-rw-recv-"));
    const server = await startTestServer(dir, "global: {}\n", { enableRemoteWriteReceiver: true });
    const gleaner = `http://127.0.0.1:${server.url.port}`;
    const sender = await startPeer(PEERS.prometheus, (port, pdir) => {
      writeFileSync(
        join(pdir, "prometheus.yml"),
        `global:
  scrape_interval: 200ms
  scrape_timeout: 150ms
scrape_configs:
  - job_name: synth
    static_configs:
      - targets: ['127.0.0.1:${target.port}']
remote_write:
  - url: ${gleaner}/api/v1/write
    queue_config: { batch_send_deadline: 50ms }
`,
      );
      return [`--config.file=${join(pdir, "prometheus.yml")}`, `--storage.tsdb.path=${join(pdir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"];
    });
    peers.push(sender);
    try {
      // Prometheus's discovery hands targets over every 5 s: wait for 10 scrapes.
      for (let i = 0; i < 150 && ((await fromPrometheus(sender.url, "up", Date.now())).values().next().value?.length ?? 0) < 10; i++) await Bun.sleep(100);
      const at = Date.now() - 1_000;
      const want = await fromPrometheus(sender.url, '{job="synth"}', at);
      expect(want.size).toBeGreaterThanOrEqual(10);
      const storage = server.storage as unknown as Tsdb;
      const read = () => {
        const data = storage.select([{ type: "=", name: "job", value: "synth" }], -Infinity, at);
        return { data, mine: fromGleaner(data) };
      };
      let got = read();
      for (let i = 0; i < 100 && [...got.mine.values()].reduce((n, v) => n + v.length, 0) < [...want.values()].reduce((n, v) => n + v.length, 0); i++) {
        await Bun.sleep(50);
        got = read();
      }
      expectSame(got.mine, want, "gleaner");
      // synth_flap went away every other scrape: Prometheus sent StaleNaN, and only those bits read back as stale.
      expect(got.data.find((s) => s.labels.get("__name__") === "synth_flap")!.samples.filter((x) => x.stale).length).toBeGreaterThan(0);
    } finally {
      await sender.stop();
      await server.stop("test done");
    }
  }, 30_000);
});
