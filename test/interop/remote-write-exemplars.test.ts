// Exemplars over remote write, both ways, against Debian's Prometheus 2.42 (both sides with
// --enable-feature=exemplar-storage): gleaner scrapes an OpenMetrics target with exemplars and
// remote-writes with send_exemplars into Prometheus's receiver; and Prometheus does the same
// into gleaner's /api/v1/write. Either way the receiver's /api/v1/query_exemplars must answer
// byte for byte what the sender's does.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as snappy from "snappyjs";
import { decodeWriteRequest } from "../../storage/remote/decode-write-request.ts";
import { missingPeers, PEERS, startPeer, type RunningPeer } from "../support/peers.ts";
import { startTestServer } from "../support/server.ts";

const missing = await missingPeers(PEERS.prometheus);

const T = 1_795_000_000; // exemplar timestamps (s): their own, so both sides agree whenever they scraped
const LAST_STEP = 5;

/**
 * The exposition at scrape `n` (steps stop at LAST_STEP, then it repeats: repeated exemplars
 * are no-ops, so sender and receiver settle). Each step brings new exemplars; one series goes
 * back in time at step 3 (rejected by the sender, never sent).
 */
function exposition(n: number): string {
  const s = Math.min(n, LAST_STEP);
  return [
    "# TYPE http_requests counter",
    `http_requests_total{path="/api"} ${100 + s} # {trace_id="api-${s}"} ${s}.5 ${s === 3 ? T : T + s * 10}`,
    `http_requests_total{path="/ü"} ${s} # {trace_id="ü-${s}",span_id="→${s}"} ${s * 1e-3} ${T + s * 10}.123`,
    "# TYPE http_request_duration_seconds histogram",
    `http_request_duration_seconds_bucket{le="0.1"} ${s} # {trace_id="fast-${s}"} 0.05 ${T + s * 10 + 1}`,
    // le in float form: Prometheus 3.x (gleaner's reference) writes le="1" as "1.0", 2.42 keeps it as exposed.
    `http_request_duration_seconds_bucket{le="1.0"} ${2 * s} # {trace_id="slow-${s}"} 0.7 ${T + s * 10 + 2}`,
    `http_request_duration_seconds_bucket{le="+Inf"} ${2 * s}`,
    `http_request_duration_seconds_count ${2 * s}`,
    `http_request_duration_seconds_sum ${s}`,
    "# EOF",
    "",
  ].join("\n");
}

/** The compared queries, for the series of one target (the receiving Prometheus is shared by the tests). */
const queries = (instance: string): Array<Record<string, string>> => [
  { query: `http_requests_total{instance="${instance}"}`, start: String(T - 100), end: String(T + 1000) },
  { query: `{__name__=~"http_.+",instance="${instance}"}`, start: "0", end: String(T + 1000) },
  { query: `http_request_duration_seconds_bucket{le="1.0",instance="${instance}"}`, start: String(T + 20), end: String(T + 45) },
];

async function exemplarsJson(base: string, params: Record<string, string>): Promise<string> {
  const r = await fetch(`${base}/api/v1/query_exemplars?${new URLSearchParams(params)}`);
  return `${r.status} ${await r.text()}`;
}

/** Waits until `receiver` answers every query as `sender` does, with all LAST_STEP steps in; returns both answers. */
async function settle(sender: string, receiver: string, target: ReturnType<typeof Bun.serve>, ms: number): Promise<Array<[string, string]>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const answers = await Promise.all(queries(`127.0.0.1:${target.port}`).map(async (q) => [await exemplarsJson(sender, q), await exemplarsJson(receiver, q)] as [string, string]));
    const complete = answers[0]![0].includes(`"api-${LAST_STEP}"`);
    if ((complete && answers.every(([a, b]) => a === b)) || Date.now() > deadline) return answers;
    await Bun.sleep(100);
  }
}

function startTarget(): ReturnType<typeof Bun.serve> {
  let n = 0;
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response(exposition(++n), { headers: { "Content-Type": "application/openmetrics-text; version=1.0.0; charset=utf-8" } }),
  });
}

const scrape = (port: number) => `global:
  scrape_interval: 200ms
  scrape_timeout: 150ms
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ['127.0.0.1:${port}']
storage:
  exemplars:
    max_exemplars: 1000
`;

describe.skipIf(missing !== null)("exemplars over remote write with Prometheus 2.42", () => {
  const dirs: string[] = [];
  const targets: Array<ReturnType<typeof Bun.serve>> = [];
  const peers: RunningPeer[] = [];

  const tmp = (name: string) => {
    const d = mkdtempSync(join(tmpdir(), name));
    dirs.push(d);
    return d;
  };

  afterAll(async () => {
    await Promise.all(peers.map((p) => p.stop()));
    for (const t of targets) t.stop(true);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  let receiver: RunningPeer;
  beforeAll(async () => {
    receiver = await startPeer(PEERS.prometheus, (port, dir) => {
      writeFileSync(join(dir, "prometheus.yml"), "global: {}\nstorage:\n  exemplars:\n    max_exemplars: 1000\n");
      return [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--web.enable-remote-write-receiver", "--enable-feature=exemplar-storage", "--log.level=warn"];
    });
    peers.push(receiver);
  }, 30_000);

  test("gleaner sends its exemplars with send_exemplars: Prometheus's query_exemplars answers as gleaner's does", async () => {
    const target = startTarget();
    targets.push(target);
    const config = `${scrape(target.port ?? 0)}remote_write:
  - url: ${receiver.url}/api/v1/write
    name: prometheus
    send_exemplars: true
    queue_config: { batch_send_deadline: 50ms }
`;
    const server = await startTestServer(tmp("gleaner-rw-ex-send-"), config, { features: new Set(["exemplar-storage"]) });
    try {
      const answers = await settle(server.url.origin, receiver.url, target, 15_000);
      for (const [ours, theirs] of answers) expect(theirs).toBe(ours);
      expect(answers[0]![0]).toContain('"trace_id":"ü-5"');
      const metrics = server.registry.expose();
      expect(Number(/^prometheus_remote_storage_exemplars_total\{remote_name="prometheus"[^}]*\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4 * LAST_STEP - 1);
      expect(metrics).not.toMatch(/^prometheus_remote_storage_exemplars_(failed|dropped)_total\{[^}]*\} [1-9]/m);
    } finally {
      await server.stop("test done");
    }
  }, 30_000);

  test("through a receiver that fails with 500s and recovers, every exemplar arrives once and Prometheus ends up with gleaner's", async () => {
    const target = startTarget();
    targets.push(target);
    // In front of Prometheus: the first 3 requests fail, the rest are forwarded; what got through is recorded.
    let requests = 0;
    const through = new Map<string, number>();
    const proxy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (req) => {
        const body = new Uint8Array(await req.arrayBuffer());
        if (requests++ < 3) return new Response("scripted failure", { status: 500 });
        const res = await fetch(`${receiver.url}/api/v1/write`, { method: "POST", body, headers: req.headers });
        if (res.ok) {
          for (const e of decodeWriteRequest(snappy.uncompress(body)).exemplars) {
            const key = `${e.labels.join(",")}@${e.timestamp}`;
            through.set(key, (through.get(key) ?? 0) + 1);
          }
        }
        return new Response(res.status === 204 ? null : await res.text(), { status: res.status });
      },
    });
    targets.push(proxy);
    const config = `${scrape(target.port ?? 0)}remote_write:
  - url: http://127.0.0.1:${proxy.port}/api/v1/write
    name: flaky
    send_exemplars: true
    queue_config: { batch_send_deadline: 50ms, min_backoff: 50ms, max_backoff: 200ms }
`;
    const server = await startTestServer(tmp("gleaner-rw-ex-faults-"), config, { features: new Set(["exemplar-storage"]) });
    try {
      const answers = await settle(server.url.origin, receiver.url, target, 15_000);
      for (const [ours, theirs] of answers) expect(theirs).toBe(ours);
      expect(requests).toBeGreaterThan(3);
      // 2 exemplars of http_requests_total and 2 of buckets a step, less the out-of-order one.
      expect(through.size).toBe(4 * LAST_STEP - 1);
      expect([...through.values()].every((n) => n === 1)).toBe(true);
      expect(Number(/^prometheus_remote_storage_exemplars_retried_total\{remote_name="flaky"[^}]*\} (\d+)$/m.exec(server.registry.expose())?.[1])).toBeGreaterThan(0);
    } finally {
      await server.stop("test done");
    }
  }, 30_000);

  test("Prometheus sends its exemplars with send_exemplars into /api/v1/write: gleaner's query_exemplars answers as Prometheus's does", async () => {
    const target = startTarget();
    targets.push(target);
    const server = await startTestServer(tmp("gleaner-rw-ex-recv-"), "global: {}\nstorage:\n  exemplars:\n    max_exemplars: 1000\n", { enableRemoteWriteReceiver: true, features: new Set(["exemplar-storage"]) });
    try {
      const sender = await startPeer(PEERS.prometheus, (port, dir) => {
        writeFileSync(join(dir, "prometheus.yml"), `${scrape(target.port ?? 0)}remote_write:\n  - url: ${server.url.origin}/api/v1/write\n    send_exemplars: true\n    queue_config: { batch_send_deadline: 50ms }\n`);
        return [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--enable-feature=exemplar-storage", "--log.level=warn"];
      });
      peers.push(sender);
      // Prometheus's discovery hands the target over within 5 s.
      const answers = await settle(sender.url, server.url.origin, target, 20_000);
      for (const [theirs, ours] of answers) expect(ours).toBe(theirs);
      expect(answers[0]![0]).toContain('"trace_id":"ü-5"');
    } finally {
      await server.stop("test done");
    }
  }, 30_000);
});
