// The native-histogram target (test/support/native-histogram-target.ts) checked against the
// reference: Debian's Prometheus 2.42 with --enable-feature=native-histograms scrapes it, and
// what its API answers — count, sum and every bucket with its boundaries — must be what the
// target served. This is what makes the target a fair judge when gleaner scrapes it too.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { apiBuckets, bucketIndex, encodeExposition, startNativeHistogramTarget, upperBound, type NativeHistogramTarget, type ServedHistogram } from "../support/native-histogram-target.ts";
import { missingPeers, PEERS, startPeer, type RunningPeer } from "../support/peers.ts";

const missing = await missingPeers(PEERS.prometheus);

interface ApiHistogram {
  count: string;
  sum: string;
  buckets?: Array<[number, string, string, string]>;
}

/**
 * Whether Prometheus 2.42 takes `h` for a native histogram: a zero threshold or integer zero
 * count above 0, or integer bucket deltas. 3.x (and gleaner) also count spans, so a float
 * histogram with a zero threshold of 0 is native there and classic in 2.42.
 */
const nativeIn242 = (h: ServedHistogram) => h.zeroThreshold > 0 || (!h.float && (h.zeroCount > 0 || h.positive.size + h.negative.size > 0));

const close = (a: number, b: number) => a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));

test("bucket indexes follow the schema's boundaries: bucket i is (2^((i-1)/2^s), 2^(i/2^s)], upper bound inclusive", () => {
  expect(bucketIndex(1, 0)).toBe(0);
  expect(bucketIndex(1.5, 0)).toBe(1);
  expect(bucketIndex(2, 0)).toBe(1);
  expect(bucketIndex(2.0000001, 0)).toBe(2);
  expect(bucketIndex(0.3, 0)).toBe(-1); // (0.25, 0.5]
  expect(bucketIndex(-3, 0)).toBe(2);
  expect(bucketIndex(16, -2)).toBe(1); // schema −2: base 16
  expect(bucketIndex(17, -2)).toBe(2);
  for (const s of [-4, -1, 0, 3, 8]) {
    for (let i = -20; i <= 20; i++) {
      expect(bucketIndex(upperBound(i, s), s)).toBe(i);
      expect(bucketIndex(upperBound(i, s) * (1 + 1e-12), s)).toBe(i + 1);
    }
  }
});

test("the exposition is varint-delimited MetricFamily messages, one per metric name", () => {
  const t = startNativeHistogramTarget();
  try {
    t.advance(10);
    const bytes = encodeExposition(t.histograms);
    const names = new Set(t.histograms.map((h) => h.name));
    let at = 0;
    let families = 0;
    while (at < bytes.length) {
      let len = 0;
      let shift = 0;
      for (;;) {
        const b = bytes[at++]!;
        len += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (b < 0x80) break;
      }
      expect(bytes[at]).toBe(0x0a); // field 1 (name), length-delimited
      at += len;
      families++;
    }
    expect(at).toBe(bytes.length);
    expect(families).toBe(names.size);
  } finally {
    t.stop();
  }
});

describe.skipIf(missing !== null)("Prometheus 2.42 scrapes the native-histogram target", () => {
  let target: NativeHistogramTarget;
  let prom: RunningPeer;

  beforeAll(async () => {
    target = startNativeHistogramTarget();
    target.advance();
    const host = new URL(target.url).host;
    prom = await startPeer(PEERS.prometheus, (p, d) => {
      writeFileSync(`${d}/prometheus.yml`, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: nh\n    static_configs:\n      - targets: ['${host}']\n`);
      return [`--config.file=${d}/prometheus.yml`, `--storage.tsdb.path=${d}/data`, `--web.listen-address=127.0.0.1:${p}`, "--enable-feature=native-histograms"];
    });
  });

  afterAll(async () => {
    await prom?.stop();
    target?.stop();
  });

  /** Prometheus's newest histogram of `h`'s series, once it has scraped the target's current state. */
  async function stored(h: ServedHistogram): Promise<ApiHistogram> {
    const selector = `${h.name}{${Object.entries(h.labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}}`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = (await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(selector)}`)).json()) as { data: { result: Array<{ histogram?: [number, ApiHistogram] }> } };
      const got = r.data.result[0]?.histogram?.[1];
      if (got !== undefined && close(Number(got.count), h.count)) return got;
      if (Date.now() > deadline) throw new Error(`Prometheus did not store ${selector} with count ${h.count}: ${JSON.stringify(r)}`);
      await Bun.sleep(200);
    }
  }

  test("count, sum and every bucket Prometheus stored are what the target served, integer and float, every schema", async () => {
    expect(target.histograms.filter(nativeIn242).map((h) => h.float)).toContain(true);
    for (let round = 0; round < 2; round++) {
      if (round > 0) target.advance(500);
      for (const h of target.histograms.filter(nativeIn242)) {
        const got = await stored(h);
        expect(close(Number(got.sum), h.sum)).toBe(true);
        const want = apiBuckets(h);
        const buckets = (got.buckets ?? []).map(([rule, lo, hi, n]) => [rule, Number(lo), Number(hi), Number(n)]);
        expect(buckets.length).toBe(want.length);
        for (let k = 0; k < want.length; k++) {
          const [rule, lo, hi, n] = buckets[k]!;
          const [wr, wlo, whi, wn] = want[k]!;
          expect({ bucket: k, rule, lo: close(lo!, wlo), hi: close(hi!, whi), n: close(n!, wn) }).toEqual({ bucket: k, rule: wr, lo: true, hi: true, n: true });
        }
      }
    }
    // The layout has what the target is meant to cover: negative buckets, a zero bucket, gaps.
    expect(target.histograms.some((h) => h.negative.size > 0)).toBe(true);
    expect(target.histograms.some((h) => h.zeroCount > 0)).toBe(true);
    expect(target.scrapes).toBeGreaterThan(1);
  }, 60_000);

  test("histogram_count and histogram_sum over the target agree with what it served", async () => {
    const h = target.histograms.find((x) => x.name === "nh_temperature_delta")!;
    await stored(h);
    const q = async (e: string) => Number(((await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(e)}`)).json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]!.value[1]);
    expect(close(await q("histogram_count(nh_temperature_delta)"), h.count)).toBe(true);
    expect(close(await q("histogram_sum(nh_temperature_delta)"), h.sum)).toBe(true);
  }, 30_000);

  test("a float histogram with a zero threshold of 0 is a classic histogram to Prometheus 2.42 (3.x looks at its spans too)", async () => {
    const h = target.histograms.find((x) => !nativeIn242(x))!;
    expect(h.positive.size).toBeGreaterThan(0);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = (await (await fetch(`${prom.url}/api/v1/query?query=${h.name}_count`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
      // Its integer sample_count (unset: 0); the float count is not read as a classic one.
      if (r.data.result.length === 1) break;
      if (Date.now() > deadline) throw new Error(`Prometheus did not store ${h.name}_count ${h.count}: ${JSON.stringify(r)}`);
      await Bun.sleep(200);
    }
    const native = (await (await fetch(`${prom.url}/api/v1/query?query=${h.name}`)).json()) as { data: { result: unknown[] } };
    expect(native.data.result).toEqual([]);
  }, 30_000);
});
