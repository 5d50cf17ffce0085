// Remote write under faults (issue 8): a receiver that is down and comes back, 500s, 429 with
// Retry-After, a 400 for one batch, a slow receiver, and gleaner restarted mid-outage. The
// receiver is a loopback fake we script; gleaner's side is the real TSDB and queue. After
// recovery the receiver must hold every committed sample, in order, none twice (except a batch
// the protocol allowed to be retried). Backoff sleeps go through a recording clock that
// shortens them, so the test checks the sleeps asked for without waiting for them.
import { afterEach, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { realClock, type Clock } from "../../core/scrape/clock.ts";
import { FakeReceiver } from "../../storage/remote/fake-receiver.ts";
import { commitScrapes, openHarness, rwConfig, T0, until, type Harness } from "../../storage/remote/test-harness.ts";

let h: Harness | null = null;
let rx: FakeReceiver | null = null;
afterEach(async () => {
  await h?.close();
  await rx?.stop();
  h = null;
  rx = null;
});

/** Real time, but sleeps from 100 ms to a minute (backoffs) are recorded and shortened to 5 ms. */
class RecordingClock implements Clock {
  readonly sleeps: number[] = [];
  now(): number {
    return Date.now();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms >= 100 && ms < 60_000) {
      this.sleeps.push(ms);
      return realClock.sleep(5, signal);
    }
    return realClock.sleep(ms, signal);
  }
}

/** Every series holds samples 0..n-1 (at T0 + k·15s) exactly once, in order; `dupes` extra allowed. */
function expectAll(r: FakeReceiver, series: number, n: number, dupes = 0): void {
  expect(r.series.size).toBe(series);
  let extra = 0;
  for (const [key, samples] of r.series) {
    const ts = samples.map(([t]) => t);
    for (let i = 1; i < ts.length; i++) {
      if (ts[i]! < ts[i - 1]!) throw new Error(`${key}: sample ${i} at ${ts[i]} is before ${ts[i - 1]}`);
    }
    const unique = [...new Set(ts)];
    extra += ts.length - unique.length;
    expect(unique).toEqual(Array.from({ length: n }, (_, k) => T0 + k * 15_000));
  }
  expect(extra).toBeLessThanOrEqual(dupes);
}

const metric = (h: Harness, name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "m").exec(h.registry.expose())?.[1] ?? "0");

test("a receiver that is down and comes back gets every sample once, in order, while memory stays within capacity", async () => {
  rx = new FakeReceiver().start();
  const port = rx.port;
  await rx.stop();
  h = await openHarness();
  await h.remote.applyConfig(rwConfig(`http://127.0.0.1:${port}/api/v1/write`, { queue: { capacity: 100, max_samples_per_send: 50 } }));
  await commitScrapes(h.db, 50, 0, 40);
  await Bun.sleep(100);
  const q = h.remote.queues[0]!;
  // 2000 committed, the receiver down: at most one shard's capacity is held in memory.
  expect(q.pending).toBeLessThanOrEqual(100);
  expect(metric(h, "prometheus_remote_storage_samples_retried_total")).toBeGreaterThan(0);
  rx = new FakeReceiver().start(port);
  await until(() => rx!.stored >= 2000, 10_000, "2000 samples after the receiver came back");
  await Bun.sleep(50);
  expectAll(rx, 50, 40);
  expect(rx.stored).toBe(2000);
});

test("500s are retried with exponential backoff and Retry-Attempt headers until they succeed", async () => {
  const clock = new RecordingClock();
  rx = new FakeReceiver().start();
  rx.script = (n) => (n < 4 ? { status: 500 } : undefined);
  h = await openHarness({ clock });
  await h.remote.applyConfig(rwConfig(rx.url, { queue: { min_backoff: "100ms", max_backoff: "400ms" } }));
  await commitScrapes(h.db, 10, 0, 5);
  await until(() => rx!.stored === 50, 5000, "50 samples");
  expect(rx.requests.slice(0, 5).map((r) => r.headers.get("retry-attempt"))).toEqual([null, "1", "2", "3", "4"]);
  expect(clock.sleeps.slice(0, 4)).toEqual([100, 200, 400, 400]);
  expectAll(rx, 10, 5);
});

test("429 with Retry-After is retried after the time it asks for when retry_on_http_429 is set", async () => {
  const clock = new RecordingClock();
  rx = new FakeReceiver().start();
  rx.script = (n) => (n === 0 ? { status: 429, headers: { "Retry-After": "3" } } : undefined);
  h = await openHarness({ clock });
  await h.remote.applyConfig(rwConfig(rx.url, { queue: { retry_on_http_429: true, min_backoff: "100ms", max_backoff: "1s" } }));
  await commitScrapes(h.db, 10, 0, 3);
  await until(() => rx!.stored === 30, 5000, "30 samples");
  expect(clock.sleeps[0]).toBe(3000);
  expect(rx.requests.map((r) => r.status).slice(0, 2)).toEqual([429, 204]);
  expectAll(rx, 10, 3);
  expect(metric(h, "prometheus_remote_storage_samples_failed_total")).toBe(0);
});

test("without retry_on_http_429 a 429 drops the batch and counts it, as a 400 does; later batches arrive", async () => {
  for (const status of [429, 400]) {
    rx = new FakeReceiver().start();
    rx.script = (n) => (n === 0 ? { status } : undefined);
    h = await openHarness();
    await h.remote.applyConfig(rwConfig(rx.url, { queue: { batch_send_deadline: "5s", max_samples_per_send: 10 } }));
    await commitScrapes(h.db, 10, 0, 4); // one batch of 10 per scrape
    await until(() => rx!.stored === 30, 5000, "the 3 batches after the rejected one");
    expect(rx.requests.length).toBe(4);
    expect(metric(h, "prometheus_remote_storage_samples_failed_total")).toBe(10);
    for (const samples of rx.series.values()) expect(samples.map(([t]) => t)).toEqual([1, 2, 3].map((k) => T0 + k * 15_000));
    // The dropped batch counts as done: the send position moves past it.
    await until(() => h!.remote.queues[0]!.acked.offset === h!.db.wal.durable.offset, 2000, "the position past every batch");
    await h.close();
    await rx.stop();
    h = null;
  }
});

test("a receiver slower than remote_timeout has the batch retried; only that batch may arrive twice", async () => {
  rx = new FakeReceiver().start();
  rx.script = (n) => (n === 0 ? { status: 204, delayMs: 400 } : undefined);
  h = await openHarness();
  await h.remote.applyConfig(rwConfig(rx.url, { remoteTimeout: "100ms" }));
  await commitScrapes(h.db, 10, 0, 3);
  await until(() => rx!.requests.length >= 2 && rx!.stored >= 30, 5000, "the retried batch");
  await Bun.sleep(450); // the slow first answer stores its copy late
  expect(h.logs.join("\n")).toMatch(/Failed to send batch, retrying.*remote_timeout 100ms/);
  // The timed-out request was stored after its retry: drop that late copy, the rest is in order.
  for (const [k, v] of rx.series) rx.series.set(k, v.filter(([t], i) => i === v.findIndex(([u]) => u === t)));
  expectAll(rx, 10, 3);
  expect(rx.requests.filter((r) => r.status === 204).reduce((n, r) => n + r.samples, 0)).toBe(30 + rx.requests[0]!.samples);
});

test("gleaner restarted mid-outage resumes at its saved position: nothing is lost and nothing sent twice", async () => {
  rx = new FakeReceiver().start();
  const port = rx.port;
  h = await openHarness();
  const dir = h.dir;
  const config = rwConfig(rx.url, { queue: { max_samples_per_send: 20 } });
  await h.remote.applyConfig(config);
  await commitScrapes(h.db, 20, 0, 10);
  await until(() => rx!.stored === 200, 5000, "the first 200 samples");
  await rx.stop();
  await commitScrapes(h.db, 20, 10, 10); // the receiver is down
  await h.close(); // the flush deadline passes: the rest stays in the WAL
  h = await openHarness({ dir });
  await h.remote.applyConfig(config);
  await commitScrapes(h.db, 20, 20, 10);
  expect(rx.stored).toBe(200);
  const held = new FakeReceiver();
  held.series.clear();
  for (const [k, v] of rx.series) held.series.set(k, [...v]);
  rx = new FakeReceiver().start(port);
  for (const [k, v] of held.series) rx.series.set(k, v);
  await until(() => rx!.stored >= 600, 10_000, "all 600 samples after the restart and the outage");
  await Bun.sleep(50);
  expectAll(rx, 20, 30);
  expect(rx.stored).toBe(600);
});

const walSegments = (dir: string) => readdirSync(join(dir, "wal")).filter((f) => /^\d+$/.test(f)).map(Number).sort((a, b) => a - b);

test("the TSDB keeps the WAL segments a queue still needs, and lets them go once sent", async () => {
  rx = new FakeReceiver().start();
  const port = rx.port;
  await rx.stop();
  // Compact WAL records are small: 1 KiB segments make five scrapes span several.
  h = await openHarness({ walSegmentSize: 1024, now: () => T0 + 2 * 3_600_000 });
  await h.remote.applyConfig(rwConfig(`http://127.0.0.1:${port}/api/v1/write`));
  await commitScrapes(h.db, 5, 0, 250); // chunks cut: without the queue, old segments would go
  await h.db.flush();
  expect(walSegments(h.dir)[0]).toBe(0);
  expect(walSegments(h.dir).length).toBeGreaterThan(2);
  rx = new FakeReceiver().start(port);
  await until(() => rx!.stored === 1250, 10_000, "1250 samples");
  await until(() => h!.remote.queues[0]!.acked.segment === h!.db.wal.durable.segment, 5000, "the position to reach the end");
  await h.db.flush();
  expect(walSegments(h.dir)[0]).toBeGreaterThan(0);
  expectAll(rx, 5, 250);
});

test("stopped mid-outage before anything was acknowledged, the TSDB's last checkpoint keeps the unsent segments and a restart sends them", async () => {
  rx = new FakeReceiver().start();
  const port = rx.port;
  await rx.stop();
  const opts = { walSegmentSize: 4096, now: () => T0 + 2 * 3_600_000 };
  h = await openHarness(opts);
  const dir = h.dir;
  const config = rwConfig(`http://127.0.0.1:${port}/api/v1/write`);
  await h.remote.applyConfig(config);
  await commitScrapes(h.db, 5, 0, 250);
  await h.close(); // the remote queue stops first; the TSDB's closing flush checkpoints after
  expect(walSegments(dir)[0]).toBe(0);
  h = await openHarness({ ...opts, dir });
  await h.remote.applyConfig(config);
  rx = new FakeReceiver().start(port);
  await until(() => rx!.stored === 1250, 10_000, "1250 samples");
  await Bun.sleep(50);
  expectAll(rx, 5, 250);
  expect(rx.stored).toBe(1250);
});
