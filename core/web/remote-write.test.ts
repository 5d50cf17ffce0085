import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as snappy from "snappyjs";
import { createLogger } from "../log/logger.ts";
import { Labels } from "../model/labels.ts";
import { MemoryStorage } from "../../storage/memory.ts";
import { Tsdb } from "../../storage/tsdb/index.ts";
import { Registry } from "../metrics/registry.ts";
import { encodeLabels, WriteRequestEncoder } from "../../storage/remote/write-request.ts";
import type { RemoteWriteReceiverOptions } from "./remote-write.ts";
import { testWebApp } from "../../test/support/web-app.ts";

const T0 = 1_800_000_000_000;

function app(storage: MemoryStorage | null, receiver = true) {
  const logs: string[] = [];
  const rw: RemoteWriteReceiverOptions = { storage: () => storage, log: createLogger({ level: "debug", format: "logfmt", write: (l) => logs.push(l) }) };
  const a = testWebApp({
    ...(receiver ? { remoteWriteReceiver: rw } : {}),
  });
  return { a, logs };
}

/** A snappy-compressed WriteRequest: one TimeSeries per entry. */
function request(entries: Array<{ labels: Record<string, string>; samples: Array<[number, number | "stale"]> }>): Uint8Array {
  const enc = new WriteRequestEncoder();
  enc.reset();
  for (const e of entries) {
    const n = e.samples.length;
    const ts = Float64Array.from(e.samples.map(([t]) => t));
    const vs = Float64Array.from(e.samples.map(([, v]) => (v === "stale" ? NaN : v)));
    const st = Uint8Array.from(e.samples.map(([, v]) => (v === "stale" ? 1 : 0)));
    enc.addSeries(encodeLabels(Labels.from(e.labels)), ts, vs, st, Uint32Array.from({ length: n }, (_, i) => i), 0, n);
  }
  return snappy.compress(enc.bytes().slice());
}

const post = (a: ReturnType<typeof app>["a"], body: Uint8Array | string) =>
  a.request("/api/v1/write", { method: "POST", body, headers: { "Content-Encoding": "snappy", "Content-Type": "application/x-protobuf" } });

test("a WriteRequest is stored and answered with 204; stale markers stay stale", async () => {
  const storage = new MemoryStorage(() => T0);
  const { a } = app(storage);
  const res = await post(a, request([
    { labels: { __name__: "up", job: "a" }, samples: [[T0 - 2000, 1], [T0 - 1000, "stale"]] },
    { labels: { __name__: "up", job: "a" }, samples: [[T0, 0]] },
    { labels: { __name__: "x", l: "ü" }, samples: [[T0, 2.5]] },
  ]));
  expect(res.status).toBe(204);
  const up = storage.select([{ type: "=", name: "__name__", value: "up" }], -Infinity, Infinity)[0]!;
  expect(up.samples.map((s) => [s.t, s.stale ? "stale" : s.v])).toEqual([[T0 - 2000, 1], [T0 - 1000, "stale"], [T0, 0]]);
  expect(storage.select([{ type: "=", name: "l", value: "ü" }], -Infinity, Infinity)[0]!.samples[0]!.v).toBe(2.5);
});

test("the endpoint is off unless --web.enable-remote-write-receiver", async () => {
  const { a } = app(new MemoryStorage(), false);
  expect((await post(a, request([]))).status).toBe(404);
});

test("a body that is not snappy is a 400 saying so", async () => {
  const { a, logs } = app(new MemoryStorage());
  const res = await post(a, "plain text, not snappy");
  expect(res.status).toBe(400);
  expect(await res.text()).toMatch(/^cannot decode the remote write request \(snappy-compressed protobuf WriteRequest expected\): snappy: /);
  expect(logs.join("\n")).toContain("Error decoding remote write request");
});

test("snappy around bytes that are not a WriteRequest is a 400 naming the byte", async () => {
  const { a } = app(new MemoryStorage());
  const res = await post(a, snappy.compress(Uint8Array.from([0x0a, 0x10, 0x0a])));
  expect(res.status).toBe(400);
  expect(await res.text()).toContain("field at byte 1 claims 16 bytes, only 1 left");
});

test("an out-of-order sample fails the whole request with a 400 and stores none of it", async () => {
  const storage = new MemoryStorage(() => T0);
  const { a } = app(storage);
  expect((await post(a, request([{ labels: { __name__: "m" }, samples: [[T0, 1]] }]))).status).toBe(204);
  const res = await post(a, request([
    { labels: { __name__: "n" }, samples: [[T0, 1]] },
    { labels: { __name__: "m" }, samples: [[T0 - 1000, 2]] },
  ]));
  expect(res.status).toBe(400);
  expect(await res.text()).toBe("out of order sample: series m at timestamp 1799999999000\n");
  expect(storage.select([{ type: "=", name: "__name__", value: "n" }], -Infinity, Infinity)).toEqual([]);
});

test("out of order within one request (the same series in two entries) is a 400 too", async () => {
  const { a } = app(new MemoryStorage(() => T0));
  const res = await post(a, request([
    { labels: { __name__: "m" }, samples: [[T0, 1]] },
    { labels: { __name__: "m" }, samples: [[T0 - 5, 2]] },
  ]));
  expect(res.status).toBe(400);
});

test("series with invalid labels are skipped and logged; the rest is stored", async () => {
  const storage = new MemoryStorage(() => T0);
  const { a, logs } = app(storage);
  const res = await post(a, request([
    { labels: { job: "no-name" }, samples: [[T0, 1]] },
    { labels: { __name__: "bad-name" }, samples: [[T0, 1]] },
    { labels: { __name__: "ok" }, samples: [[T0, 1]] },
  ]));
  expect(res.status).toBe(204);
  expect(storage.select([{ type: "=~", name: "__name__", value: ".+" }], -Infinity, Infinity).map((s) => s.labels.get("__name__"))).toEqual(["ok"]);
  expect(logs.join("\n")).toContain('reason="no metric name (__name__)"');
  expect(logs.join("\n")).toContain("invalid metric name");
});

test("before storage is open the endpoint answers 503", async () => {
  const { a } = app(null);
  expect((await post(a, request([]))).status).toBe(503);
});

test("series seen before are found by their label bytes; a ref the storage forgot is looked up again by labels", async () => {
  let inner = new MemoryStorage(() => T0);
  const proxy = { appender: () => inner.appender(), close: async () => {} };
  const logs: string[] = [];
  const a = testWebApp({
    remoteWriteReceiver: { storage: () => proxy, log: createLogger({ level: "debug", format: "logfmt", write: (l) => logs.push(l) }) },
  });
  const entry = (t: number) => [
    { labels: { __name__: "up", job: "a" }, samples: [[t, 1]] as Array<[number, number]> },
    { labels: { job: "x" }, samples: [[t, 1]] as Array<[number, number]> }, // invalid: no name
  ];
  expect((await post(a, request(entry(T0 - 2000)))).status).toBe(204);
  expect((await post(a, request(entry(T0 - 1000)))).status).toBe(204);
  expect(inner.select([{ type: "=", name: "__name__", value: "up" }], -Infinity, Infinity)[0]!.samples.map((s) => s.t)).toEqual([T0 - 2000, T0 - 1000]);
  expect(logs.filter((l) => l.includes("Invalid metric names")).length).toBe(1); // known bad bytes are skipped quietly
  inner = new MemoryStorage(() => T0); // the cached ref means nothing here
  expect((await post(a, request(entry(T0)))).status).toBe(204);
  expect(inner.select([{ type: "=", name: "__name__", value: "up" }], -Infinity, Infinity)[0]!.samples.map((s) => s.t)).toEqual([T0]);
});

test("the same series under differently ordered label bytes in one request is still kept in order", async () => {
  const storage = new MemoryStorage(() => T0);
  const { a } = app(storage);
  const enc = new WriteRequestEncoder();
  enc.reset();
  const put = (labelBytes: Uint8Array, t: number) => enc.addSeries(labelBytes, Float64Array.of(t), Float64Array.of(1), new Uint8Array(1), Uint32Array.of(0), 0, 1);
  const sorted = encodeLabels(Labels.from({ __name__: "m", job: "a" }));
  // The same labels, job first: other bytes, same series.
  const reversed = new Uint8Array([...encodeLabels(Labels.from({ job: "a" })), ...encodeLabels(Labels.from({ __name__: "m" }))]);
  put(sorted, T0);
  put(reversed, T0 - 1000);
  const res = await post(a, snappy.compress(enc.bytes().slice()));
  expect(res.status).toBe(400);
  expect(await res.text()).toStartWith("out of order sample: series m{job=\"a\"}");
  expect(storage.select([{ type: "=", name: "__name__", value: "m" }], -Infinity, Infinity)).toEqual([]);
});

// ---- exemplars ----

function exemplarDb(maxExemplars = 100): Promise<Tsdb> {
  const log = createLogger({ level: "error", format: "logfmt", write: () => {} });
  return Tsdb.open({ dir: mkdtempSync(join(tmpdir(), "gleaner-rw-ex-")), retentionMs: 0, retentionBytes: 0, registry: new Registry(), log, flushIntervalMs: 3_600_000, now: () => T0, maxExemplars });
}

type Db = Tsdb;

/** A receiver app over `db` (its own, empty series cache) that logs at debug into `logs`. */
function exemplarApp(db: Db, logs: string[]) {
  return testWebApp({
    remoteWriteReceiver: { storage: () => db, log: createLogger({ level: "debug", format: "logfmt", write: (l) => logs.push(l) }), seriesRef: (l) => db.head.refOf(l) },
  });
}

/** A WriteRequest of TimeSeries with samples and/or exemplars ([t, v, exemplar labels]). */
function exRequest(entries: Array<{ labels: Record<string, string>; samples?: Array<[number, number]>; exemplars?: Array<[number, number, Record<string, string>]> }>): Uint8Array {
  const enc = new WriteRequestEncoder();
  enc.reset();
  for (const e of entries) {
    const l = encodeLabels(Labels.from(e.labels));
    const s = e.samples ?? [];
    if (s.length > 0) enc.addSeries(l, Float64Array.from(s.map(([t]) => t)), Float64Array.from(s.map(([, v]) => v)), new Uint8Array(s.length), Uint32Array.from(s.keys()), 0, s.length);
    const x = e.exemplars ?? [];
    if (x.length > 0) enc.addExemplars(l, x.map(([, , el]) => encodeLabels(Labels.from(el))), x.map(([t]) => t), x.map(([, v]) => v), 0, x.length);
  }
  return snappy.compress(enc.bytes().slice());
}

const exemplarsOf = (db: Db, name: string) =>
  db.selectExemplars([[{ type: "=", name: "__name__", value: name }]], -Infinity, Infinity).flatMap((s) => s.exemplars.map((e) => [e.timestamp, e.value, e.labels.toString()]));

test("each series' exemplars are stored after its samples, also from TimeSeries with exemplars only of a series stored before", async () => {
  const db = await exemplarDb();
  const logs: string[] = [];
  try {
    const a = exemplarApp(db, logs);
    const res = await post(a, exRequest([
      { labels: { __name__: "a" }, samples: [[T0 - 1000, 1]] },
      { labels: { __name__: "a" }, exemplars: [[T0 - 1000, 0.5, { trace_id: "ä1" }], [T0 - 500, NaN, { trace_id: "a2" }]] },
      { labels: { __name__: "b" }, samples: [[T0 - 1000, 2]], exemplars: [[T0 - 1000, Infinity, { trace_id: "b1" }]] },
    ]));
    expect(res.status).toBe(204);
    expect(exemplarsOf(db, "a")).toEqual([[T0 - 1000, 0.5, '{trace_id="ä1"}'], [T0 - 500, NaN, '{trace_id="a2"}']]);
    expect(exemplarsOf(db, "b")).toEqual([[T0 - 1000, Infinity, '{trace_id="b1"}']]);
    // A new receiver (empty cache): exemplars only, of a stored series and of one never stored.
    const again = exemplarApp(db, logs);
    expect((await post(again, exRequest([{ labels: { __name__: "b" }, exemplars: [[T0, -1, { trace_id: "b2" }]] }, { labels: { __name__: "c" }, exemplars: [[T0, 1, { trace_id: "c1" }]] }]))).status).toBe(204);
    expect(exemplarsOf(db, "b").at(-1)).toEqual([T0, -1, '{trace_id="b2"}']);
    expect(exemplarsOf(db, "c")).toEqual([]);
    expect(logs.join("\n")).toContain('msg="Error while adding exemplar in AddExemplar" series=c');
  } finally {
    await db.close();
  }
});

test("exemplar rejections (out of order, labels too long, storage disabled) never fail the request", async () => {
  const db = await exemplarDb();
  const logs: string[] = [];
  try {
    const a = exemplarApp(db, logs);
    expect((await post(a, exRequest([{ labels: { __name__: "m" }, samples: [[T0 - 1000, 1]], exemplars: [[T0 - 1000, 1, { trace_id: "new" }]] }]))).status).toBe(204);
    const res = await post(a, exRequest([{ labels: { __name__: "m" }, samples: [[T0, 2]], exemplars: [[T0 - 5000, 1, { trace_id: "old" }], [T0, 2, { trace_id: "x".repeat(200) }]] }]));
    expect(res.status).toBe(204);
    expect(db.select([{ type: "=", name: "__name__", value: "m" }], -Infinity, Infinity)[0]!.samples.map((s) => s.t)).toEqual([T0 - 1000, T0]);
    expect(exemplarsOf(db, "m")).toEqual([[T0 - 1000, 1, '{trace_id="new"}']]);
    const text = logs.join("\n");
    expect(text).toContain('msg="Out of order exemplar"');
    expect(text).toMatch(/level=warn msg="Error on ingesting out-of-order exemplars" num_dropped=1/);
    expect(text).toContain("err=label_length");
  } finally {
    await db.close();
  }
  const off = await exemplarDb(0);
  try {
    const a = exemplarApp(off, []);
    expect((await post(a, exRequest([{ labels: { __name__: "m" }, samples: [[T0, 1]], exemplars: [[T0, 1, { trace_id: "t" }]] }]))).status).toBe(204);
    expect(off.select([{ type: "=", name: "__name__", value: "m" }], -Infinity, Infinity)).toHaveLength(1);
    expect(exemplarsOf(off, "m")).toEqual([]);
  } finally {
    await off.close();
  }
});

test("a request failed by an out-of-order sample stores none of its exemplars", async () => {
  const db = await exemplarDb();
  try {
    const a = exemplarApp(db, []);
    expect((await post(a, exRequest([{ labels: { __name__: "m" }, samples: [[T0, 1]] }]))).status).toBe(204);
    const res = await post(a, exRequest([
      { labels: { __name__: "n" }, samples: [[T0, 1]], exemplars: [[T0, 1, { trace_id: "n" }]] },
      { labels: { __name__: "m" }, samples: [[T0 - 1000, 1]] },
    ]));
    expect(res.status).toBe(400);
    expect(exemplarsOf(db, "n")).toEqual([]);
  } finally {
    await db.close();
  }
});
