/**
 * Remote write at a steady ingest rate: CPU per sample spent on remote write, bytes on the
 * wire per sample, and the delay from commit to the receiver.
 *
 *   node_modules/.bin/bun bench/remote-write.bench.ts [samples/s = 100000] [seconds per phase = 30] [series per commit = 1000]
 *
 * One process holds gleaner's TSDB (WAL fsynced on every commit) and commits scrape-sized
 * transactions evenly over each second (e.g. 100 commits of 1,000 samples: 100 targets of
 * 1,000 series scraped every second; 100k active series). Phase A runs the TSDB alone;
 * phase B adds one remote_write queue (default queue_config) sending to a receiver in a
 * separate process, which decodes every request and keeps a histogram of
 * (arrival time − sample timestamp); a sample's timestamp is the time its commit was issued,
 * so the delay covers the WAL fsync, reading the WAL back, batching, encoding, snappy, HTTP.
 * CPU per sample spent on remote write = (CPU of B − CPU of A) / samples of B. Micro figures
 * (encode + snappy per sample) come from the queue's own code path on a 2,000-sample batch.
 * The receiver micro figure: gleaner's /api/v1/write handler taking 100k known series, one
 * sample per TimeSeries (as Prometheus sends), 2,000 a request, into a TSDB (fsync each).
 * Phase C: the receiver answers 503 for `outage` seconds while ingest goes on (RSS must stay
 * flat: the backlog stays in the WAL), then recovers; the catch-up rate is the backlog over
 * the time to drain it (ingest still running).
 *
 *   … [outage seconds = 20]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as snappy from "snappyjs";
import { parseConfig } from "../core/config/load.ts";
import { createLogger } from "../core/log/logger.ts";
import { Registry } from "../core/metrics/registry.ts";
import { Labels } from "../core/model/labels.ts";
import { RemoteWriteStorage } from "../storage/remote/index.ts";
import { decodeWriteRequest } from "../storage/remote/decode-write-request.ts";
import { encodeLabels, WriteRequestEncoder } from "../storage/remote/write-request.ts";
import { Tsdb } from "../storage/tsdb/index.ts";
import { RemoteWriteReceiver } from "../core/web/remote-write.ts";
import { procStat } from "./support/proc.ts";
import { timeNs } from "./timing.ts";

if (process.argv[2] === "--receiver") {
  // The receiver process: decode, record delays (ms histogram), answer 204.
  const hist = new Uint32Array(120_001);
  let samples = 0;
  let requests = 0;
  let down = false;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/stats") {
        const q = (p: number) => {
          let acc = 0;
          for (let i = 0; i < hist.length; i++) {
            acc += hist[i]!;
            if (acc >= p * samples) return i;
          }
          return hist.length - 1;
        };
        return Response.json({ samples, requests, p50: q(0.5), p99: q(0.99), max: q(1) });
      }
      if (url.pathname === "/down" || url.pathname === "/up") {
        down = url.pathname === "/down";
        return new Response(null, { status: 204 });
      }
      if (down) {
        await req.arrayBuffer();
        return new Response("down for the benchmark", { status: 503 });
      }
      if (url.pathname === "/reset") {
        hist.fill(0);
        samples = 0;
        requests = 0;
        return new Response(null, { status: 204 });
      }
      const d = decodeWriteRequest(snappy.uncompress(new Uint8Array(await req.arrayBuffer())));
      const now = Date.now();
      for (let i = 0; i < d.count; i++) hist[Math.min(hist.length - 1, Math.max(0, now - d.ts[i]!))]!++;
      samples += d.count;
      requests++;
      return new Response(null, { status: 204 });
    },
  });
  process.stdout.write(`${server.port}\n`);
  await new Promise(() => {});
}

const rate = Number(process.argv[2] ?? 100_000);
const seconds = Number(process.argv[3] ?? 30);
const perCommit = Number(process.argv[4] ?? 1000);
const outage = Number(process.argv[5] ?? 20);
const commitsPerSecond = rate / perCommit;
const targets = commitsPerSecond; // each target scraped once a second

// ---- micro: the queue's encode path on one full batch ----
{
  const n = 2000;
  const labels = Array.from({ length: n }, (_, i) => encodeLabels(Labels.from({ __name__: `bench_metric_${i % 200}_total`, instance: `10.0.${i % 250}.1:9100`, job: "bench", series: String(i) })));
  const ts = Float64Array.from({ length: n }, () => 1_763_800_000_000);
  const vs = Float64Array.from({ length: n }, (_, i) => i * 1.5);
  const st = new Uint8Array(n);
  const idx = Uint32Array.from({ length: n }, (_, i) => i);
  const enc = new WriteRequestEncoder();
  let raw = 0;
  let wire = 0;
  const encode = () => {
    enc.reset();
    for (let i = 0; i < n; i++) enc.addSeries(labels[i]!, ts, vs, st, idx, i, i + 1);
    raw = enc.length;
  };
  const encNs = timeNs(encode, 21);
  const zNs = timeNs(() => void (wire = snappy.compress(enc.bytes()).length), 21);
  console.log(`micro (2,000-sample batch, one sample per series): encode ${(encNs / n).toFixed(0)} ns/sample, snappy ${(zNs / n).toFixed(0)} ns/sample; ${(raw / n).toFixed(1)} B/sample raw, ${(wire / n).toFixed(1)} B/sample on the wire`);
}

// ---- micro: gleaner as the receiver ----
{
  const n = 2000;
  const series = 100_000;
  const rlog = createLogger({ level: "error", format: "logfmt" });
  const rdb = await Tsdb.open({ dir: mkdtempSync(join(tmpdir(), "gleaner-rw-recv-")), retentionMs: 0, retentionBytes: 0, registry: new Registry(), log: rlog });
  const rcv = new RemoteWriteReceiver(rlog);
  const labels = Array.from({ length: series }, (_, i) => encodeLabels(Labels.from({ __name__: `bench_metric_${i % 200}_total`, instance: `10.0.${i % 250}.1:9100`, job: "bench", series: String(i) })));
  const enc = new WriteRequestEncoder();
  const one = Uint32Array.of(0);
  const request = (k: number, t: number) => {
    enc.reset();
    for (let i = 0; i < n; i++) enc.addSeries(labels[(k * n + i) % series]!, Float64Array.of(t), Float64Array.of(k + i), new Uint8Array(1), one, 0, 1);
    return snappy.compress(enc.bytes());
  };
  const t0 = Date.now() - 60_000;
  for (let k = 0; k < series / n; k++) await rcv.receive(request(k, t0), rdb); // series created
  const bodies = Array.from({ length: series / n }, (_, k) => request(k, t0 + 15_000));
  const c0 = procStat("self").cpu;
  const w0 = performance.now();
  for (const b of bodies) {
    const res = await rcv.receive(b, rdb);
    if (res.status !== 204) throw new Error(`receiver: ${res.status} ${await res.text()}`);
  }
  const wall = performance.now() - w0;
  const cpu = procStat("self").cpu - c0;
  console.log(`micro (receiver, 100k known series, one sample per TimeSeries, 2,000 per request, TSDB with fsync): ${((wall * 1000) / series).toFixed(2)} µs/sample wall, ${((cpu * 1e6) / series).toFixed(2)} µs/sample CPU`);
  await rdb.close();
}

// ---- the receiver ----
const receiver = Bun.spawn([process.execPath, import.meta.path, "--receiver"], { stdout: "pipe", stderr: "inherit" });
process.on("exit", () => receiver.kill());
const reader = receiver.stdout.getReader();
const first = await reader.read();
const rxPort = Number(new TextDecoder().decode(first.value).trim());
const rxUrl = `http://127.0.0.1:${rxPort}`;

// ---- the TSDB and the load ----
const dir = mkdtempSync(join(tmpdir(), "gleaner-rw-bench-"));
const log = createLogger({ level: "error", format: "logfmt" });
const registry = new Registry();
const db = await Tsdb.open({ dir, retentionMs: 0, retentionBytes: 0, registry, log, flushIntervalMs: 10_000 });
const refs: Uint32Array[] = [];
const labelsOf = (t: number, i: number) => Labels.from({ __name__: `bench_metric_${i % 200}_total`, instance: `10.0.${t >> 8}.${t & 255}:9100`, job: "bench", series: String(i) });

let stop = false;
let committed = 0;
async function load(untilMs: number): Promise<void> {
  const gap = 1000 / commitsPerSecond;
  let next = performance.now();
  let target = 0;
  const inflight: Array<Promise<void>> = [];
  while (!stop && Date.now() < untilMs) {
    const t = Date.now();
    const a = db.appender();
    let r = refs[target];
    if (r === undefined) {
      r = new Uint32Array(perCommit);
      for (let i = 0; i < perCommit; i++) r[i] = a.append(0, labelsOf(target, i), t, Math.random() * 1000);
      refs[target] = r;
    } else {
      for (let i = 0; i < perCommit; i++) a.append(r[i]!, null, t, (t / 1000 + i) % 1e6);
    }
    inflight.push(a.commit());
    if (inflight.length > 64) await inflight.shift();
    committed += perCommit;
    target = (target + 1) % targets;
    next += gap;
    const wait = next - performance.now();
    if (wait > 0) await Bun.sleep(wait);
  }
  await Promise.all(inflight);
}

async function phase(name: string, ms: number): Promise<{ cpu: number; samples: number }> {
  const c0 = procStat("self").cpu;
  const s0 = committed;
  const t0 = performance.now();
  await load(Date.now() + ms);
  const cpu = procStat("self").cpu - c0;
  const samples = committed - s0;
  const wall = (performance.now() - t0) / 1000;
  console.log(`${name}: ${samples.toLocaleString()} samples in ${wall.toFixed(1)} s (${Math.round(samples / wall).toLocaleString()}/s), CPU ${cpu.toFixed(2)} s = ${((cpu / samples) * 1e6).toFixed(2)} µs/sample, ${((cpu / wall) * 100).toFixed(0)} % of a core`);
  return { cpu, samples };
}

// Warm-up: create every series, let the JIT settle.
await phase("warm-up (series created)", Math.max(5_000, (targets / commitsPerSecond) * 1000 + 3_000));
const a = await phase("A: TSDB only", seconds * 1000);

const remote = new RemoteWriteStorage({ source: db, dir: join(dir, "remote"), registry, log });
await remote.applyConfig(parseConfig(`remote_write:\n  - url: ${rxUrl}/api/v1/write\n    name: bench\n`, "bench.yml"));
await phase("B warm-up", 5_000);
await fetch(`${rxUrl}/reset`, { method: "POST" });
const metric = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "m").exec(registry.expose())?.[1] ?? "0");
const bytes0 = metric("prometheus_remote_storage_bytes_total");
const sent0 = metric("prometheus_remote_storage_samples_total");
const b = await phase("B: TSDB + remote write", seconds * 1000);
// Let the last batches arrive (batch_send_deadline is 5 s).
for (let i = 0; i < 100 && remote.queues[0]!.pending > 0; i++) await Bun.sleep(100);
await Bun.sleep(200);
const stats = (await (await fetch(`${rxUrl}/stats`)).json()) as { samples: number; requests: number; p50: number; p99: number; max: number };
const bytes = metric("prometheus_remote_storage_bytes_total") - bytes0;
const sent = metric("prometheus_remote_storage_samples_total") - sent0;
console.log("");
console.log(`remote write CPU: ${(((b.cpu / b.samples) - (a.cpu / a.samples)) * 1e6).toFixed(2)} µs/sample (B − A)`);
console.log(`on the wire: ${(bytes / sent).toFixed(2)} B/sample (snappy-compressed protobuf; ${sent.toLocaleString()} samples in ${stats.requests.toLocaleString()} requests, ${Math.round(sent / Math.max(1, stats.requests))} per request)`);
console.log(`commit → receiver: p50 ${stats.p50} ms, p99 ${stats.p99} ms, max ${stats.max} ms (${stats.samples.toLocaleString()} samples received)`);
console.log(`shards at the end: ${remote.queues[0]!.shardCount}`);

// ---- C: an outage, then catch-up ----
const q = remote.queues[0]!;
const rssBefore = procStat("self").rss;
await fetch(`${rxUrl}/down`, { method: "POST" });
const downAt = committed;
await phase(`C: receiver down for ${outage} s`, outage * 1000);
const backlog = committed - downAt;
const rssDown = procStat("self").rss;
console.log(`during the outage: ${backlog.toLocaleString()} samples behind, ${q.pending.toLocaleString()} held in memory, RSS ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssDown / 2 ** 20).toFixed(0)} MiB`);
await fetch(`${rxUrl}/up`, { method: "POST" });
const upAt = performance.now();
let caughtUp = 0;
const catchUp = (async () => {
  for (;;) {
    const d = db.wal.durable;
    // Caught up: the send position within a second's worth of commits of the WAL's end.
    if (q.acked.segment === d.segment && d.offset - q.acked.offset < 2_000_000) {
      caughtUp = performance.now() - upAt;
      stop = true;
      return;
    }
    await Bun.sleep(20);
  }
})();
await Promise.race([load(Date.now() + 300_000), catchUp]);
stop = true;
await catchUp;
console.log(`catch-up: ${backlog.toLocaleString()} samples in ${(caughtUp / 1000).toFixed(1)} s (including the retry sleep under way, up to max_backoff = 5 s) while ingest went on = ${Math.round(backlog / (caughtUp / 1000)).toLocaleString()} samples/s drained on top of the 100k/s; shards ${q.shardCount}`);
await remote.close();
await db.close();
receiver.kill();
