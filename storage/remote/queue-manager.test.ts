import { afterEach, expect, test } from "bun:test";
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
  expect(h.registry.expose()).toMatch(/prometheus_remote_storage_samples_total\{remote_name="[0-9a-f]{6}",url="http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write"\} 600/);
});
