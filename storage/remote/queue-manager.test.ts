import { afterEach, expect, test } from "bun:test";
import { realClock } from "../../core/scrape/clock.ts";
import { FakeReceiver } from "./fake-receiver.ts";
import { commitScrapes, openHarness, rwConfig, T0, until, type Harness } from "./test-harness.ts";

let h: Harness | null = null;
let rx: FakeReceiver | null = null;
afterEach(async () => {
  await h?.close();
  await rx?.stop();
  h = null;
  rx = null;
});

test("every committed sample reaches the receiver once, in time order per series, with Prometheus's headers", async () => {
  rx = new FakeReceiver().start();
  h = await openHarness();
  await h.remote.applyConfig(rwConfig(rx.url));
  await commitScrapes(h.db, 20, 0, 30, 29);
  await until(() => rx!.stored === 600, 5000, "600 samples");
  expect(rx.series.size).toBe(20);
  for (const [key, samples] of rx.series) {
    expect(key).toMatch(/^__name__=m,i=\d+$/);
    expect(samples.map(([t]) => t)).toEqual(Array.from({ length: 30 }, (_, k) => T0 + k * 15_000));
    expect(samples.at(-1)![1]).toBe("stale");
    expect(samples[3]![1]).toBe(3);
  }
  const hd = rx.requests[0]!.headers;
  expect(hd.get("content-encoding")).toBe("snappy");
  expect(hd.get("content-type")).toBe("application/x-protobuf");
  expect(hd.get("x-prometheus-remote-write-version")).toBe("0.1.0");
  expect(hd.get("user-agent")).toMatch(/^gleaner\//);
  await until(() => h!.remote.queues[0]!.pending === 0, 2000, "the last acknowledgement");
  const exposed = h.registry.expose();
  expect(exposed).toMatch(/prometheus_remote_storage_samples_total\{remote_name="[0-9a-f]{6}",url="http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write"\} 600/);
  const last = (T0 + 29 * 15_000) / 1000;
  expect(exposed).toContain(`prometheus_remote_storage_highest_timestamp_in_seconds ${last}`);
  expect(exposed).toMatch(new RegExp(`prometheus_remote_storage_queue_highest_sent_timestamp_seconds\\{[^}]*\\} ${last}`));
  const bytes = Number(/prometheus_remote_storage_bytes_total\{[^}]*\} (\d+)/.exec(exposed)![1]);
  expect(bytes).toBe(rx.requests.reduce((n, r) => n + r.bytes, 0));
});

test("with several shards, and across a reshard while samples flow, every series stays in order with nothing lost", async () => {
  rx = new FakeReceiver().start();
  h = await openHarness();
  await h.remote.applyConfig(rwConfig(rx.url, { queue: { min_shards: 4, max_shards: 8, max_samples_per_send: 7 } }));
  const q = h.remote.queues[0]!;
  expect(q.shardCount).toBe(4);
  await commitScrapes(h.db, 30, 0, 20);
  const resharding = q.reshard(7);
  await commitScrapes(h.db, 30, 20, 20);
  await resharding;
  expect(q.shardCount).toBe(7);
  await until(() => rx!.stored === 1200, 5000, "1200 samples");
  for (const samples of rx.series.values()) expect(samples.map(([t]) => t)).toEqual(Array.from({ length: 40 }, (_, k) => T0 + k * 15_000));
  expect(h.registry.expose()).toMatch(/prometheus_remote_storage_shards\{[^}]*\} 7/);
});

test("external labels are added where a series lacks them, then write_relabel_configs run; dropped series are counted", async () => {
  rx = new FakeReceiver().start();
  h = await openHarness();
  const extra = "    write_relabel_configs:\n      - source_labels: [i]\n        regex: '[0-4]'\n        action: keep\n      - target_label: via\n        replacement: rw\n";
  await h.remote.applyConfig(rwConfig(rx.url, { extra, global: "  external_labels: { region: eu, i: ignored }\n" }));
  await commitScrapes(h.db, 10, 0, 2);
  await until(() => rx!.stored === 10, 5000, "10 samples");
  expect([...rx.series.keys()].sort()).toEqual([0, 1, 2, 3, 4].map((i) => `__name__=m,i=${i},region=eu,via=rw`));
  expect(h.registry.expose()).toMatch(/prometheus_remote_storage_samples_dropped_total\{[^}]*\} 10/);
});

test("the send position is saved after each acknowledged batch and ends at the WAL's durable end", async () => {
  rx = new FakeReceiver().start();
  h = await openHarness();
  await h.remote.applyConfig(rwConfig(rx.url));
  await commitScrapes(h.db, 5, 0, 10);
  await until(() => rx!.stored === 50, 5000, "50 samples");
  const end = h.db.wal.durable;
  await until(() => h!.remote.queues[0]!.acked.offset === end.offset, 2000, "the position");
  await h.remote.close();
  const files = await Array.fromAsync(new Bun.Glob("remote/*/position").scan(h.dir));
  expect(files).toHaveLength(1);
  expect((await Bun.file(`${h.dir}/${files[0]}`).text()).trimEnd()).toBe(`segment ${end.segment} offset ${end.offset}`);
});

test("a config reload keeps an unchanged queue running and restarts a changed one where it left off", async () => {
  rx = new FakeReceiver().start();
  h = await openHarness();
  await h.remote.applyConfig(rwConfig(rx.url));
  const first = h.remote.queues[0]!;
  await h.remote.applyConfig(rwConfig(rx.url));
  expect(h.remote.queues[0]).toBe(first);
  await commitScrapes(h.db, 5, 0, 5);
  await h.remote.applyConfig(rwConfig(rx.url, { queue: { max_samples_per_send: 3 } }));
  expect(h.remote.queues[0]).not.toBe(first);
  await commitScrapes(h.db, 5, 5, 5);
  await until(() => rx!.stored >= 50, 5000, "50 samples");
  await Bun.sleep(50);
  expect(rx.stored).toBe(50);
  await h.remote.applyConfig({ ...rwConfig(rx.url), remote_write: [] });
  expect(h.remote.queues).toHaveLength(0);
});

test("a saved position past the end of the WAL (a replaced WAL) starts at the end instead of waiting", async () => {
  rx = new FakeReceiver().start();
  h = await openHarness();
  await h.remote.applyConfig(rwConfig(rx.url));
  await h.remote.close();
  // Queues without a name keep their position under remote/url-<sha256(url)>.
  const key = new Bun.CryptoHasher("sha256").update(rx.url).digest("hex").slice(0, 16);
  await Bun.write(`${h.dir}/remote/url-${key}/position`, "segment 7 offset 123\n");
  await h.remote.applyConfig(rwConfig(rx.url));
  await commitScrapes(h.db, 5, 0, 2);
  await until(() => rx!.stored === 10, 5000, "10 samples");
  expect(h.logs.join("\n")).toContain("The saved send position is past the end of the WAL; starting at its end");
});

test("a receiver too slow for one shard makes the queue add shards (measured throughput, as Prometheus)", async () => {
  rx = new FakeReceiver().start();
  rx.script = () => ({ status: 204, delayMs: 20 });
  h = await openHarness({ reshardIntervalMs: 250 });
  await h.remote.applyConfig(rwConfig(rx.url, { queue: { max_samples_per_send: 10, max_shards: 16 } }));
  const q = h.remote.queues[0]!;
  // ~2,000 samples/s at 10 per 20 ms request: one shard manages 500/s.
  for (let k = 0; k < 200 && q.shardCount === 1; k++) {
    await commitScrapes(h.db, 20, k, 1);
    await Bun.sleep(10);
  }
  expect(q.shardCount).toBeGreaterThan(1);
  expect(h.logs.join("\n")).toContain("Remote storage resharding");
});

test("basic_auth and custom headers from the remote_write entry are sent with every request", async () => {
  rx = new FakeReceiver().start();
  h = await openHarness();
  await h.remote.applyConfig(rwConfig(rx.url, { extra: "    basic_auth: { username: gleaner, password: s3cret }\n    headers: { X-Scope-OrgID: tenant-1 }\n" }));
  await commitScrapes(h.db, 2, 0, 1);
  await until(() => rx!.stored === 2, 5000, "2 samples");
  const hd = rx.requests[0]!.headers;
  expect(hd.get("authorization")).toBe(`Basic ${btoa("gleaner:s3cret")}`);
  expect(hd.get("x-scope-orgid")).toBe("tenant-1");
});

test("the targets' metadata is sent every metadata_config.send_interval, deduplicated; not at all with send: false", async () => {
  const families = [
    { metric: "http_requests", type: "counter", help: "Requests.", unit: "" },
    { metric: "http_requests", type: "counter", help: "Requests.", unit: "" }, // a second target exposing the same
    { metric: "temp", type: "gauge", help: "Temperature.", unit: "celsius" },
  ];
  rx = new FakeReceiver().start();
  h = await openHarness({ metadata: () => families });
  await h.remote.applyConfig(rwConfig(rx.url, { extra: "    metadata_config: { send_interval: 30ms }\n" }));
  await until(() => rx!.metadata.length >= 2, 5000, "a metadata request");
  expect(rx.metadata.slice(0, 2)).toEqual([
    { type: 1, metric: "http_requests", help: "Requests.", unit: "" },
    { type: 2, metric: "temp", help: "Temperature.", unit: "celsius" },
  ]);
  expect(h.registry.expose()).toMatch(/prometheus_remote_storage_metadata_total\{[^}]*\} [1-9]/);
  await h.remote.applyConfig(rwConfig(rx.url, { extra: "    metadata_config: { send: false, send_interval: 10ms }\n" }));
  const before = rx.requests.length;
  await Bun.sleep(100);
  expect(rx.requests.length).toBe(before);
});

test("sample_age_limit drops samples that are too old when sent, or that grew too old while retrying", async () => {
  // Real time for the batching, shifted so that the samples' timestamps (T0 + k·15s) are recent.
  const clock = { offset: T0 + 30 * 60_000 - 60_000 - Date.now(), now() { return Date.now() + this.offset; }, sleep: (ms: number, signal?: AbortSignal) => realClock.sleep(Math.min(ms, 20), signal) };
  rx = new FakeReceiver().start();
  rx.script = (n) => {
    if (n !== 0) return undefined;
    clock.offset += 115_000; // time passes before the retry: the cutoff moves to T0 + 55 s
    return { status: 500 };
  };
  h = await openHarness({ clock });
  await h.remote.applyConfig(rwConfig(rx.url, { queue: { sample_age_limit: "30m", batch_send_deadline: "50ms" } }));
  await commitScrapes(h.db, 2, 0, 10);
  await until(() => h!.remote.queues[0]!.acked.offset === h!.db.wal.durable.offset, 5000, "every batch done");
  for (const samples of rx.series.values()) expect(samples.map(([t]) => (t - T0) / 15_000)).toEqual([4, 5, 6, 7, 8, 9]);
  expect(h.registry.expose()).toMatch(/prometheus_remote_storage_samples_dropped_total\{[^}]*\} 8/);
});
