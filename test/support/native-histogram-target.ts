/**
 * A loopback scrape target that serves native histograms in the Prometheus protobuf
 * exposition (io.prometheus.client.MetricFamily, varint-delimited), written from the
 * published metrics.proto: integer histograms (counts as deltas) and float histograms
 * (absolute counts), several exponential schemas, negative buckets, a zero bucket, gaps in
 * the bucket layout. The state only moves when the test calls advance(), so what a scraper
 * stored can be compared with what was served.
 *
 * @example
 * const target = startNativeHistogramTarget();
 * target.advance(); // 1,000 more observations per histogram
 * await fetch(target.url); // what a scraper gets
 * target.stop();
 */
import { ProtoWriter } from "../../core/web/federate.ts";

/** A histogram as the target holds it: bucket index → count, per sign. */
export interface ServedHistogram {
  name: string;
  labels: Record<string, string>;
  float: boolean;
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  sum: number;
  positive: Map<number, number>;
  negative: Map<number, number>;
}

/** One bucket as Prometheus's HTTP API lists it: boundary rule, lower, upper, count. */
export type ApiBucket = [number, number, number, number];

/** The histograms the target serves; each gets its own observations on advance(). */
const SHAPES: ReadonlyArray<{ name: string; labels: Record<string, string>; float: boolean; schema: number; zeroThreshold: number; spread: number; negative: number }> = [
  { name: "nh_request_seconds", labels: { path: "/api" }, float: false, schema: 3, zeroThreshold: 1e-3, spread: 4, negative: 0 },
  { name: "nh_request_seconds", labels: { path: "/static" }, float: false, schema: 3, zeroThreshold: 1e-3, spread: 1, negative: 0 },
  { name: "nh_temperature_delta", labels: {}, float: false, schema: 0, zeroThreshold: 0.01, spread: 2, negative: 0.4 },
  { name: "nh_payload_bytes", labels: {}, float: true, schema: -2, zeroThreshold: 0, spread: 12, negative: 0 },
  { name: "nh_fine_ratio", labels: {}, float: true, schema: 8, zeroThreshold: 1e-9, spread: 0.3, negative: 0.2 },
];

/** The index of the exponential bucket (schema `schema`) holding |v| > 0: bucket i is (2^((i−1)·2^−s), 2^(i·2^−s)]. */
export function bucketIndex(v: number, schema: number): number {
  const x = Math.log2(Math.abs(v)) * 2 ** schema;
  let i = Math.ceil(x);
  // Guard the boundaries against rounding in log2: upper bounds are inclusive.
  if (upperBound(i - 1, schema) >= Math.abs(v)) i--;
  else if (upperBound(i, schema) < Math.abs(v)) i++;
  return i + 0; // never −0
}

/** The upper bound of bucket `i` of schema `schema`. */
export function upperBound(i: number, schema: number): number {
  return 2 ** (i * 2 ** -schema);
}

/** The buckets of `h` as Prometheus's API lists them: negative (most negative first), zero, positive; empty ones left out. */
export function apiBuckets(h: ServedHistogram): ApiBucket[] {
  const out: ApiBucket[] = [];
  for (const i of [...h.negative.keys()].sort((a, b) => b - a)) {
    const n = h.negative.get(i)!;
    if (n > 0) out.push([1, -upperBound(i, h.schema), -upperBound(i - 1, h.schema), n]);
  }
  if (h.zeroCount > 0) out.push([3, -h.zeroThreshold, h.zeroThreshold, h.zeroCount]);
  for (const i of [...h.positive.keys()].sort((a, b) => a - b)) {
    const n = h.positive.get(i)!;
    if (n > 0) out.push([0, upperBound(i - 1, h.schema), upperBound(i, h.schema), n]);
  }
  return out;
}

/** Federation's protobuf writer, with the integer encodings histograms need. */
class Writer extends ProtoWriter {
  uint(field: number, n: number): this {
    return this.tag(field, 0).varint(n);
  }
  sint(field: number, n: number): this {
    // Zigzag.
    return this.tag(field, 0).varint(n >= 0 ? 2n * BigInt(n) : -2n * BigInt(n) - 1n);
  }
}

/** Spans (offset from the previous span's end, length) and the counts they cover, for sorted bucket indexes. */
function layout(buckets: Map<number, number>): { spans: Array<[number, number]>; counts: number[] } {
  const idx = [...buckets.keys()].sort((a, b) => a - b);
  const spans: Array<[number, number]> = [];
  const counts: number[] = [];
  let next = 0;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    if (k > 0 && i === idx[k - 1]! + 1) spans[spans.length - 1]![1]++;
    else spans.push([k === 0 ? i : i - next, 1]);
    next = i + 1;
    counts.push(buckets.get(i)!);
  }
  return { spans, counts };
}

/** The Histogram message of `h` (metrics.proto field numbers). */
function encodeHistogram(h: ServedHistogram): number[] {
  const w = new Writer();
  if (h.float) w.double(4, h.count);
  else w.uint(1, h.count);
  w.double(2, h.sum);
  w.sint(5, h.schema);
  w.double(6, h.zeroThreshold);
  if (h.float) w.double(8, h.zeroCount);
  else w.uint(7, h.zeroCount);
  // metrics.proto: negative_span/delta/count are fields 9–11, positive ones 12–14.
  for (const [buckets, spanField, deltaField, countField] of [
    [h.negative, 9, 10, 11],
    [h.positive, 12, 13, 14],
  ] as const) {
    const { spans, counts } = layout(buckets);
    for (const [offset, length] of spans) w.message(spanField, new Writer().sint(1, offset).uint(2, length).bytes);
    if (h.float) for (const c of counts) w.double(countField, c);
    else {
      let prev = 0;
      for (const c of counts) {
        w.sint(deltaField, c - prev);
        prev = c;
      }
    }
  }
  return w.bytes;
}

/** The delimited MetricFamily messages of `hs` (one family per name, in first-seen order). */
export function encodeExposition(hs: readonly ServedHistogram[]): Uint8Array {
  const families = new Map<string, ServedHistogram[]>();
  for (const h of hs) families.set(h.name, [...(families.get(h.name) ?? []), h]);
  const out: number[] = [];
  for (const [name, list] of families) {
    const f = new Writer().string(1, name).string(2, `Native histogram ${name}.`).uint(3, 4);
    for (const h of list) {
      const m = new Writer();
      for (const [k, v] of Object.entries(h.labels)) m.message(1, new Writer().string(1, k).string(2, v).bytes);
      m.message(7, encodeHistogram(h));
      f.message(4, m.bytes);
    }
    out.push(...new Writer().varint(f.bytes.length).bytes, ...f.bytes);
  }
  return Uint8Array.from(out);
}

export interface NativeHistogramTarget {
  url: string;
  /** The histograms as they are served now. */
  readonly histograms: readonly ServedHistogram[];
  /** Scrapes served so far. */
  readonly scrapes: number;
  /** Adds `n` observations to every histogram (deterministic, seeded). */
  advance(n?: number): void;
  stop(): void;
}

export const PROTOBUF_CONTENT_TYPE = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

export function startNativeHistogramTarget(seed = 7): NativeHistogramTarget {
  let state = seed >>> 0 || 1;
  const random = () => {
    // xorshift32: the same observations on every run.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  const histograms: ServedHistogram[] = SHAPES.map((s) => ({ ...s, zeroCount: 0, count: 0, sum: 0, positive: new Map(), negative: new Map() }));
  let scrapes = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      scrapes++;
      return new Response(encodeExposition(histograms), { headers: { "Content-Type": PROTOBUF_CONTENT_TYPE } });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/metrics`,
    histograms,
    get scrapes() {
      return scrapes;
    },
    advance(n = 1000) {
      for (const h of histograms) {
        const shape = SHAPES[histograms.indexOf(h)]!;
        for (let k = 0; k < n; k++) {
          // Log-normal-ish magnitudes; some exactly zero, some negative.
          const zero = random() < 0.02;
          const magnitude = zero ? 0 : Math.exp((random() + random() + random() - 1.5) * shape.spread);
          const v = random() < shape.negative ? -magnitude : magnitude;
          // Float histograms get fractional weights, as a float histogram from a rate would have.
          const weight = h.float ? 0.5 + Math.floor(random() * 4) / 4 : 1;
          h.count += weight;
          h.sum += v * weight;
          if (Math.abs(v) <= h.zeroThreshold) h.zeroCount += weight;
          else {
            const buckets = v > 0 ? h.positive : h.negative;
            const i = bucketIndex(v, h.schema);
            buckets.set(i, (buckets.get(i) ?? 0) + weight);
          }
        }
      }
    },
    stop() {
      server.stop(true);
    },
  };
}
