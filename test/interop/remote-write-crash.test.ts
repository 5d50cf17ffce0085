// gleaner killed with SIGKILL in the middle of a receiver outage (issue 8): the real process
// scrapes a synthetic target and remote-writes to a loopback receiver we control. The
// receiver goes down, gleaner is killed -9 while it cannot send, restarted, the receiver comes
// back. Afterwards the receiver must hold exactly what gleaner's TSDB committed — every
// sample, stale markers included — each series in order once the copies re-sent after the
// kill (batches acknowledged but whose position was not yet saved) are set aside.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import * as snappy from "snappyjs";
import { join } from "node:path";
import { createLogger } from "../../core/log/logger.ts";
import { Registry } from "../../core/metrics/registry.ts";
import { FakeReceiver } from "../../storage/remote/fake-receiver.ts";
import { until } from "../../storage/remote/test-harness.ts";
import { Tsdb } from "../../storage/tsdb/index.ts";
import { sourceCommand, startGleaner, tempDir } from "../e2e/harness.ts";

let target: ReturnType<typeof Bun.serve>;
beforeAll(() => {
  let n = 0;
  target = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => {
      n++;
      return new Response(`# TYPE c counter\nc_total{k="a"} ${n}\nc_total{k="b"} ${n * 2}\ng ${Math.random()}\n${n % 3 === 0 ? "" : `flap ${n}\n`}`);
    },
  });
});
afterAll(() => target.stop(true));

const config = (url: string) => `global:
  scrape_interval: 100ms
  scrape_timeout: 80ms
scrape_configs:
  - job_name: synth
    static_configs:
      - targets: ['127.0.0.1:${target.port}']
remote_write:
  - url: ${url}
    queue_config: { min_backoff: 10ms, max_backoff: 100ms, batch_send_deadline: 50ms, max_samples_per_send: 20 }
`;
const ARGS = ["--config.file=gleaner.yml", "--storage.tsdb.path=data", "--storage.remote.flush-deadline=5s"];

test("after kill -9 mid-outage and a restart, the receiver holds every committed sample, in order, re-sent copies aside", async () => {
  const rx = new FakeReceiver().start();
  const port = rx.port;
  const dir = tempDir("gleaner-rw-crash-");
  writeFileSync(join(dir, "gleaner.yml"), config(rx.url));
  let { g } = await startGleaner(sourceCommand(), ARGS, dir);
  try {
    await until(() => rx.stored > 50, 10_000, "samples before the outage");
    await rx.stop();
    await Bun.sleep(800);
    g.proc.kill("SIGKILL");
    await g.exit();
    ({ g } = await startGleaner(sourceCommand(), ARGS, dir));
    await Bun.sleep(800);
    rx.start(port);
    await Bun.sleep(1_000);
    g.proc.kill("SIGTERM"); // a clean stop drains the queue up to the WAL's end
    expect(await g.exit()).toBe(0);
  } finally {
    if (g.proc.exitCode === null) g.proc.kill("SIGKILL");
    await rx.stop();
  }
  await expectExactly(rx, dir, 40);
}, 30_000);

/** The receiver holds exactly the TSDB's committed samples; at most `resentMax` arrived twice. */
async function expectExactly(rx: FakeReceiver, dir: string, resentMax: number): Promise<void> {
  const quiet = createLogger({ level: "error", format: "logfmt", write: () => {} });
  const db = await Tsdb.open({ dir: join(dir, "data"), retentionMs: 0, retentionBytes: 0, registry: new Registry(), log: quiet });
  const committed = db.select([{ type: "=~", name: "__name__", value: ".+" }], -Infinity, Infinity);
  await db.close();
  expect(committed.find((s) => s.labels.get("__name__") === "flap")!.samples.some((s) => s.stale)).toBe(true);
  let resent = 0;
  const want = new Map(committed.map((s) => [[...s.labels].map(([n, v]) => `${n}=${v}`).join(","), s.samples.map((x) => [x.t, x.stale ? "stale" : x.v])]));
  expect([...rx.series.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [key, got] of rx.series) {
    // A re-sent copy arrives after newer samples; the first copy of each timestamp is in order.
    const first = got.filter(([t], i) => got.findIndex(([u]) => u === t) === i);
    resent += got.length - first.length;
    expect(first, key).toEqual(want.get(key)! as typeof first);
  }
  // Re-sent: at most what was acknowledged but not yet recorded as sent when the process died.
  expect(resent).toBeLessThanOrEqual(resentMax);
}

test("after kill -9 while batches are in flight, a restart re-sends at most those batches", async () => {
  const rx = new FakeReceiver().start();
  const dir = tempDir("gleaner-rw-crash-");
  writeFileSync(join(dir, "gleaner.yml"), config(rx.url));
  const started = await startGleaner(sourceCommand(), ARGS, dir);
  let { g } = started;
  const emptyWrite = { method: "POST", body: snappy.compress(new Uint8Array(0)) };
  try {
    // The receiver endpoint is off by default, on with --web.enable-remote-write-receiver.
    expect((await fetch(`${started.base}/api/v1/write`, emptyWrite)).status).toBe(404);
    await until(() => rx.stored > 100, 10_000, "samples flowing");
    g.proc.kill("SIGKILL");
    await g.exit();
    const again = await startGleaner(sourceCommand(), [...ARGS, "--web.enable-remote-write-receiver"], dir);
    g = again.g;
    expect((await fetch(`${again.base}/api/v1/write`, emptyWrite)).status).toBe(204);
    await Bun.sleep(800);
    g.proc.kill("SIGTERM");
    expect(await g.exit()).toBe(0);
  } finally {
    if (g.proc.exitCode === null) g.proc.kill("SIGKILL");
    await rx.stop();
  }
  // One shard, 20 samples a batch: the batch whose answer the kill cut off, and the next.
  await expectExactly(rx, dir, 40);
}, 30_000);
