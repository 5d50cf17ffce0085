import { afterEach, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../core/log/logger.ts";
import { Labels } from "../../core/model/labels.ts";
import type { Tsdb } from "../tsdb/index.ts";
import { Wal, type WalExemplar } from "../tsdb/wal/index.ts";
import { FakeReceiver } from "./fake-receiver.ts";
import { openHarness, rwConfig, T0, until, type Harness } from "./test-harness.ts";
import { WalWatcher } from "./wal-watcher.ts";

let hs: Harness[] = [];
let rxs: FakeReceiver[] = [];
afterEach(async () => {
  for (const h of hs) await h.close();
  for (const rx of rxs) await rx.stop();
  hs = [];
  rxs = [];
});

async function harness(): Promise<Harness> {
  const h = await openHarness({ maxExemplars: 1000 });
  hs.push(h);
  return h;
}

function receiver(): FakeReceiver {
  const rx = new FakeReceiver().start();
  rxs.push(rx);
  return rx;
}

/** Commits scrape k of `series` series (value k at T0 + k·15s), each with an exemplar (trace "k-i") when `withExemplars`. */
async function scrape(db: Tsdb, series: number, k: number, withExemplars = true): Promise<void> {
  const a = db.appender();
  for (let i = 0; i < series; i++) {
    const t = T0 + k * 15_000;
    const ref = a.append(0, Labels.from({ __name__: "m", i: String(i) }), t, k);
    if (withExemplars) expect(a.appendExemplar(ref, { labels: Labels.from({ trace_id: `${k}-${i}`, span: "ü→🙂" }), value: k + 0.5, timestamp: t - 1 })).toBeNull();
  }
  await a.commit();
}

const metric = (h: Harness, name: string) => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(h.registry.expose());
  return m === null ? null : Number(m[1]);
};

test("with send_exemplars each exemplar reaches the receiver once, in order, under the series labels after external labels and relabeling", async () => {
  const rx = receiver();
  const h = await harness();
  const extra = "    send_exemplars: true\n    write_relabel_configs:\n      - source_labels: [i]\n        regex: '1'\n        action: drop\n";
  await h.remote.applyConfig(rwConfig(rx.url, { extra, global: "  external_labels: { cluster: c }\n" }));
  for (let k = 0; k < 4; k++) await scrape(h.db, 3, k);
  await until(() => rx.storedExemplars === 8 && rx.stored === 8, 5000, "8 samples and 8 exemplars");
  expect([...rx.exemplars.keys()].sort()).toEqual(["__name__=m,cluster=c,i=0", "__name__=m,cluster=c,i=2"]);
  for (const i of [0, 2]) {
    expect(rx.exemplars.get(`__name__=m,cluster=c,i=${i}`)).toEqual([0, 1, 2, 3].map((k) => [T0 + k * 15_000 - 1, k + 0.5, `span=ü→🙂,trace_id=${k}-${i}`]));
  }
  // Every exemplar TimeSeries carries exemplars only.
  for (const r of rx.requests) expect(r.samples + r.exemplars).toBeGreaterThan(0);
  await until(() => h.remote.queues[0]!.pending === 0, 2000, "the last acknowledgement");
  expect(metric(h, "prometheus_remote_storage_exemplars_total")).toBe(8);
  expect(metric(h, "prometheus_remote_storage_exemplars_dropped_total")).toBe(4);
  expect(metric(h, "prometheus_remote_storage_exemplars_in_total")).toBe(12);
  expect(metric(h, "prometheus_remote_storage_exemplars_pending")).toBe(0);
  expect(metric(h, "prometheus_remote_storage_samples_total")).toBe(8);
  expect(metric(h, "prometheus_remote_storage_samples_pending")).toBe(0);
});

test("without send_exemplars no exemplar is sent: the requests are byte for byte those of the same samples without exemplars", async () => {
  const bodies: Uint8Array[] = [];
  for (const withExemplars of [true, false]) {
    const rx = receiver();
    const h = await harness();
    await h.remote.applyConfig(rwConfig(rx.url, { queue: { max_samples_per_send: 5, batch_send_deadline: "10s" } }));
    await scrape(h.db, 5, 0, withExemplars);
    await until(() => rx.requests.length === 1, 5000, "one request");
    expect(rx.requests[0]!.exemplars).toBe(0);
    bodies.push(rx.requests[0]!.raw);
    expect(metric(h, "prometheus_remote_storage_exemplars_total")).toBeNull();
    expect(metric(h, "prometheus_remote_storage_exemplars_dropped_total")).toBeNull();
  }
  expect(Buffer.from(bodies[0]!).equals(Buffer.from(bodies[1]!))).toBe(true);
});

test("exemplars count towards max_samples_per_send, raised by 10% with send_exemplars as in Prometheus", async () => {
  const rx = receiver();
  const h = await harness();
  // 10 samples and 1 exemplar fill a batch of 10 + 10%: sent at once, long before the 10 s deadline.
  await h.remote.applyConfig(rwConfig(rx.url, { extra: "    send_exemplars: true\n", queue: { max_samples_per_send: 10, batch_send_deadline: "10s" } }));
  const a = h.db.appender();
  let ref = 0;
  for (let i = 0; i < 10; i++) ref = a.append(0, Labels.from({ __name__: "m", i: String(i) }), T0, i);
  a.appendExemplar(ref, { labels: Labels.from({ trace_id: "x" }), value: 1, timestamp: T0 });
  await a.commit();
  await until(() => rx.requests.length === 1, 5000, "one full batch");
  expect([rx.requests[0]!.samples, rx.requests[0]!.exemplars]).toEqual([10, 1]);
});

test("a receiver failing with 500s then recovering gets every exemplar exactly once; the retries are counted", async () => {
  const rx = receiver();
  rx.script = (n) => (n < 3 ? { status: 500 } : undefined);
  const h = await harness();
  await h.remote.applyConfig(rwConfig(rx.url, { extra: "    send_exemplars: true\n" }));
  for (let k = 0; k < 5; k++) await scrape(h.db, 4, k);
  await until(() => rx.storedExemplars >= 20, 5000, "20 exemplars");
  await until(() => h.remote.queues[0]!.pending === 0, 2000, "the last acknowledgement");
  for (const list of rx.exemplars.values()) expect(list.map(([t]) => t)).toEqual([0, 1, 2, 3, 4].map((k) => T0 + k * 15_000 - 1));
  expect(rx.storedExemplars).toBe(20);
  expect(metric(h, "prometheus_remote_storage_exemplars_retried_total")).toBeGreaterThan(0);
  expect(metric(h, "prometheus_remote_storage_exemplars_total")).toBe(20 + metric(h, "prometheus_remote_storage_exemplars_retried_total")!);
});

test("sample_age_limit drops exemplars that are too old, counted as dropped exemplars", async () => {
  const rx = receiver();
  const h = await harness();
  await h.remote.applyConfig(rwConfig(rx.url, { extra: "    send_exemplars: true\n", queue: { sample_age_limit: "30m" } }));
  // The queue's clock is real time (before T0): the exemplar from 2 h ago is too old, the rest is not.
  const a = h.db.appender();
  const old = Date.now() - 2 * 3_600_000;
  const ref = a.append(0, Labels.from({ __name__: "m" }), T0, 1);
  expect(a.appendExemplar(ref, { labels: Labels.from({ trace_id: "old" }), value: 1, timestamp: old })).toBeNull();
  expect(a.appendExemplar(ref, { labels: Labels.from({ trace_id: "new" }), value: 2, timestamp: T0 })).toBeNull();
  await a.commit();
  await until(() => h.remote.queues[0]!.acked.offset === h.db.wal.durable.offset, 5000, "the batch done");
  expect([...rx.exemplars.values()]).toEqual([[[T0, 2, "trace_id=new"]]]);
  expect(rx.stored).toBe(1);
  expect(metric(h, "prometheus_remote_storage_exemplars_dropped_total")).toBe(1);
});

test("the WAL watcher hands over the exemplars of segment records, never those a checkpoint holds", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-ww-ex-"));
  const wal = await Wal.open({ dir, segmentSize: 256 });
  await wal.replay({ series: () => {}, samples: () => {} });
  const one = (ref: number, t: number) => ({ count: 1, refs: Uint32Array.of(ref), ts: Float64Array.of(t), values: Float64Array.of(t), stale: Uint8Array.of(0) });
  const ex = (ref: number, t: number): WalExemplar => ({ ref, t, v: t, labels: Labels.from({ trace_id: `t${t}` }) });
  const a = { ref: 1, labels: Labels.from({ __name__: "a" }) };
  await wal.commit([a], { ...one(1, 1), exemplars: [ex(1, 1)] });
  for (let t = 2; wal.segment < 2; t++) await wal.commit([], { ...one(1, t), exemplars: [ex(1, t)] });
  // The TSDB's checkpoint up to segment 2 keeps the exemplars it holds in memory.
  await wal.checkpoint([a], 2, [ex(1, 1), ex(1, 2)]);
  await wal.commit([], { ...one(1, 1000), exemplars: [ex(1, 1000)] });
  const durable = wal.durable;
  await wal.close();
  const got: number[] = [];
  const watcher = new WalWatcher({
    wal: { dir, durable },
    log: createLogger({ level: "error", format: "logfmt", write: () => {} }),
    stopping: () => true,
    halted: () => false,
    sink: {
      series: () => {},
      reset: () => {},
      record: async (tx) => void got.push(...(tx.exemplars ?? []).map((e) => e.t)),
      truncated: () => {},
      ready: () => {},
    },
  });
  await watcher.run({ segment: 0, offset: 0 });
  // Segments 0 and 1 are gone (checkpointed): reading starts at segment 2, with only its own records.
  expect(got.at(-1)).toBe(1000);
  expect(got).not.toContain(1);
  expect(got).not.toContain(2);
});
