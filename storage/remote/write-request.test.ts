import { expect, test } from "bun:test";
import * as snappy from "snappyjs";
import { Labels } from "../../core/model/labels.ts";
import { decodeWriteRequest } from "./decode-write-request.ts";
import { encodeLabels, encodeMetadataRequest, WriteRequestEncoder } from "./write-request.ts";

function encodeOne(labels: Labels, ts: number[], values: number[], stale: number[] = ts.map(() => 0)) {
  const enc = new WriteRequestEncoder();
  enc.reset();
  const idx = Uint32Array.from(ts.keys());
  enc.addSeries(encodeLabels(labels), Float64Array.from(ts), Float64Array.from(values), Uint8Array.from(stale), idx, 0, ts.length);
  return enc.bytes().slice();
}

test("a WriteRequest round-trips through the encoder and the decoder, labels and samples in order", () => {
  const enc = new WriteRequestEncoder();
  enc.reset();
  const ts = Float64Array.from([1_700_000_000_000, 1_700_000_015_000, 5, 0]);
  const values = Float64Array.from([1.5, -2, Infinity, 0]);
  const stale = new Uint8Array(4);
  enc.addSeries(encodeLabels(Labels.from({ __name__: "up", job: "node", instance: "a:9100" })), ts, values, stale, Uint32Array.from([0, 1]), 0, 2);
  enc.addSeries(encodeLabels(Labels.from({ __name__: "ünï", le: "+Inf" })), ts, values, stale, Uint32Array.from([2, 3]), 0, 2);
  const d = decodeWriteRequest(enc.bytes());
  expect(d.series.map((s) => s.labels)).toEqual([
    ["__name__", "up", "instance", "a:9100", "job", "node"],
    ["__name__", "ünï", "le", "+Inf"],
  ]);
  expect(d.count).toBe(4);
  expect([...d.ts.subarray(0, 4)]).toEqual([1_700_000_000_000, 1_700_000_015_000, 5, 0]);
  expect([...d.values.subarray(0, 4)]).toEqual([1.5, -2, Infinity, 0]);
  expect(d.series.map((s) => [s.start, s.end])).toEqual([[0, 2], [2, 4]]);
});

test("stale markers are written as exactly 0x7ff0000000000002 and only those bits decode as stale", () => {
  const bytes = encodeOne(Labels.from({ __name__: "m" }), [1, 2], [NaN, NaN], [1, 0]);
  const hex = Buffer.from(bytes).toString("hex");
  expect(hex).toContain("09020000000000f07f"); // field 1 (double), little-endian StaleNaN
  const d = decodeWriteRequest(bytes);
  expect([...d.stale.subarray(0, 2)]).toEqual([1, 0]);
  expect(Number.isNaN(d.values[1]!)).toBe(true);
});

test("negative and large timestamps survive as int64 varints", () => {
  const d = decodeWriteRequest(encodeOne(Labels.from({ __name__: "m" }), [-1, -1_700_000_000_000, 2 ** 52], [1, 2, 3]));
  expect([...d.ts.subarray(0, 3)]).toEqual([-1, -1_700_000_000_000, 2 ** 52]);
});

test("the encoder's bytes match protobuf's canonical layout for one sample", () => {
  const bytes = encodeOne(Labels.from({ __name__: "a" }), [1], [0]);
  // TimeSeries{ labels{ name:"__name__" value:"a" } samples{ value:0 timestamp:1 } }
  expect(Buffer.from(bytes).toString("hex")).toBe("0a1c" + "0a0d" + "0a085f5f6e616d655f5f" + "120161" + "120b" + "090000000000000000" + "1001");
});

test("snappy block compression round-trips a request", () => {
  const bytes = encodeOne(Labels.from({ __name__: "m", job: "x" }), Array.from({ length: 500 }, (_, i) => 1_700_000_000_000 + i * 15_000), Array.from({ length: 500 }, (_, i) => i));
  const z = snappy.compress(bytes);
  expect(z.length).toBeLessThan(bytes.length);
  expect(snappy.uncompress(z)).toEqual(bytes);
});

test("a truncated or malformed request is a SyntaxError naming the byte offset", () => {
  const bytes = encodeOne(Labels.from({ __name__: "m" }), [1, 2], [1, 2]);
  expect(() => decodeWriteRequest(bytes.subarray(0, bytes.length - 3))).toThrow(/claims \d+ bytes, only \d+ left/);
  expect(() => decodeWriteRequest(Uint8Array.from([0x0a, 0x80]))).toThrow(/truncated varint at byte 1/);
  expect(() => decodeWriteRequest(Uint8Array.from([0x0b]))).toThrow(/unsupported protobuf wire type 3 at byte 1/);
  expect(() => decodeWriteRequest(Uint8Array.from([0x0a, 0x04, 0x0a, 0x02, 0x0a, 0xff]))).toThrow(/truncated varint at byte 5/);
  expect(() => decodeWriteRequest(Uint8Array.from([0x0a, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0xff]))).toThrow(/invalid UTF-8 in the string at byte 6/);
});

test("unknown fields (metadata, exemplars, histograms) are skipped and counted", () => {
  const ts = encodeOne(Labels.from({ __name__: "m" }), [1], [1]);
  // metadata (field 3) before the series; an exemplar (field 3) inside it.
  const exemplar = Uint8Array.from([0x1a, 0x00]);
  const inner = new Uint8Array([...ts.subarray(2), ...exemplar]);
  const req = new Uint8Array([0x1a, 0x02, 0x08, 0x01, 0x0a, inner.length, ...inner]);
  const d = decodeWriteRequest(req);
  expect(d.count).toBe(1);
  expect(d.exemplars).toHaveLength(1);
});

test("timestamps at every varint length boundary encode to the length declared and decode exactly", () => {
  const ts = [0, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35 - 1, 2 ** 35, 2 ** 42 - 1, 2 ** 42, 2 ** 49 - 1, 2 ** 49, 2 ** 53 - 1, 1_763_800_000_123];
  const d = decodeWriteRequest(encodeOne(Labels.from({ __name__: "m" }), ts, ts.map(() => 1)));
  expect([...d.ts.subarray(0, d.count)]).toEqual(ts);
});

test("a metadata request carries each family's type, name, help and unit (MetricMetadata, field 3)", () => {
  const bytes = encodeMetadataRequest([
    { metric: "http_requests", type: "counter", help: "Requests.", unit: "" },
    { metric: "temp", type: "gauge", help: "Température.", unit: "celsius" },
    { metric: "x", type: "unknown", help: "", unit: "" },
  ]);
  const d = decodeWriteRequest(bytes);
  expect(d.count).toBe(0);
  expect(d.metadata).toEqual([
    { type: 1, metric: "http_requests", help: "Requests.", unit: "" },
    { type: 2, metric: "temp", help: "Température.", unit: "celsius" },
    { type: 0, metric: "x", help: "", unit: "" },
  ]);
});

test("exemplar TimeSeries (labels, then Exemplar field 3 only) round-trip: UTF-8 labels, NaN and ±Inf values, negative and large timestamps", () => {
  const enc = new WriteRequestEncoder();
  enc.reset();
  const series = encodeLabels(Labels.from({ __name__: "rpc_seconds_bucket", le: "0.5" }));
  const exLabels = [Labels.from({ trace_id: "4bf92f3577b34da6", span: "ü→🙂" }), Labels.EMPTY, Labels.from({ a: "x".repeat(200) }), Labels.from({ b: "1" })].map(encodeLabels);
  const ts = [1_700_000_000_123, -1, -1_700_000_000_000, 2 ** 53 - 1];
  const vs = [0.25, NaN, Infinity, -Infinity];
  enc.addSeries(series, Float64Array.of(1), Float64Array.of(3), Uint8Array.of(0), Uint32Array.of(0), 0, 1);
  enc.addExemplars(series, exLabels, ts, vs, 0, 4);
  enc.addExemplars(encodeLabels(Labels.from({ __name__: "other" })), exLabels, ts, vs, 3, 4);
  const d = decodeWriteRequest(enc.bytes());
  expect(d.series.map((s) => [s.labels, s.end - s.start, s.exStart, s.exEnd])).toEqual([
    [["__name__", "rpc_seconds_bucket", "le", "0.5"], 1, 0, 0],
    [["__name__", "rpc_seconds_bucket", "le", "0.5"], 0, 0, 4],
    [["__name__", "other"], 0, 4, 5],
  ]);
  expect(d.exemplars.map((e) => e.labels)).toEqual([["span", "ü→🙂", "trace_id", "4bf92f3577b34da6"], [], ["a", "x".repeat(200)], ["b", "1"], ["b", "1"]]);
  expect(d.exemplars.map((e) => e.timestamp)).toEqual([...ts, 2 ** 53 - 1]);
  expect(d.exemplars.map((e) => e.value)).toEqual([...vs, -Infinity]);
  // The label bytes of an exemplar TimeSeries are those of the samples' one (a receiver's cache key).
  expect(Buffer.from(enc.bytes().subarray(d.series[0]!.labelStart, d.series[0]!.labelEnd)).equals(Buffer.from(enc.bytes().subarray(d.series[1]!.labelStart, d.series[1]!.labelEnd)))).toBe(true);
});

test("a malformed exemplar is a SyntaxError naming the byte", () => {
  // TimeSeries { Exemplar { value: 3 bytes of a double } }
  expect(() => decodeWriteRequest(Uint8Array.from([0x0a, 0x06, 0x1a, 0x04, 0x11, 0x00, 0x00, 0x00]))).toThrow(/at byte 5/);
  expect(() => decodeWriteRequest(Uint8Array.from([0x0a, 0x04, 0x1a, 0x02, 0x0a, 0x05]))).toThrow(/claims 5 bytes/);
});
