import { beforeAll, describe, expect, test } from "bun:test";
import { createCore } from "./index.ts";
import {
  XOR_DUPLICATE,
  XOR_ERR_DUPLICATE_TIMESTAMP,
  XOR_ERR_FULL,
  XOR_ERR_OUT_OF_ORDER,
  XOR_MAX_SAMPLES,
  XOR_OK,
  XorCodec,
  type ChunkHandle,
} from "./xor.ts";
import { rng } from "../test/support/random.ts";

let xor: XorCodec;
beforeAll(async () => {
  xor = new XorCodec(await createCore());
});

const STALE = 0x7ff0000000000002n;
const NORMAL_NAN = 0x7ff8000000000001n; // what Prometheus's text parsers produce for "NaN"
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

function bitsOf(v: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  return dv.getBigUint64(0);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}


/** Encodes exact (i64, u64 bits) samples in one batch call; bits never become numbers. */
function encode(ts: readonly bigint[], bits: readonly bigint[]): ChunkHandle {
  const c = xor.create();
  const b = xor.batch(ts.length);
  for (let i = 0; i < ts.length; i++) b.setExact(i, c, ts[i]!, bits[i]!);
  const bad = b.append(ts.length);
  b.dispose();
  expect(bad).toBe(0);
  return c;
}

function expectRoundTrip(ts: readonly bigint[], bits: readonly bigint[], label: string): void {
  const c = encode(ts, bits);
  expect(xor.count(c)).toBe(ts.length);
  const d = xor.decodeBits(c);
  expect({ label, t: [...d.t] }).toEqual({ label, t: [...ts] });
  expect({ label, bits: [...d.bits] }).toEqual({ label, bits: [...bits] });
  // The iterator agrees with the bulk decoder, including the raw bits and the stale flag.
  const it = xor.iterator(c);
  let i = 0;
  while (it.next()) {
    expect(it.tBig).toBe(ts[i]!);
    const v = (BigInt(it.valueHi) << 32n) | BigInt(it.valueLo);
    expect(v).toBe(bits[i]!);
    expect(it.isStale).toBe(bits[i] === STALE);
    i++;
  }
  it.close();
  expect(i).toBe(ts.length);
  xor.free(c);
}

// ---- generators for the property tests ----------------------------------------------------

const SPECIAL_BITS = [
  STALE,
  NORMAL_NAN,
  0x7ff8000000000000n, // JS canonical NaN
  0xfff8000000000000n, // negative quiet NaN
  0x7ff0000000000001n, // signalling NaN, lowest payload
  0x7fffffffffffffffn, // all-ones payload
  0xfff0000000000002n, // "negative StaleNaN": not a stale marker
  bitsOf(Infinity),
  bitsOf(-Infinity),
  bitsOf(-0),
  0n,
  1n, // smallest subnormal
  bitsOf(Number.MAX_VALUE),
  bitsOf(-Number.MIN_VALUE),
  bitsOf(1),
  bitsOf(0.1),
];

function randomBits64(r: () => number): bigint {
  return (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
}

type Gen<T> = (r: () => number, n: number) => T[];

const valueGens: Record<string, Gen<bigint>> = {
  randomBits: (r, n) => Array.from({ length: n }, () => randomBits64(r)),
  counter: (r, n) => {
    let v = Math.floor(r() * 1e6);
    return Array.from({ length: n }, () => bitsOf((v += Math.floor(r() * 100))));
  },
  gauge: (r, n) => Array.from({ length: n }, () => bitsOf(Math.round((r() - 0.5) * 1e6) / 1e3)),
  specials: (r, n) => Array.from({ length: n }, () => SPECIAL_BITS[Math.floor(r() * SPECIAL_BITS.length)]!),
  constant: (r, n) => {
    const v = randomBits64(r);
    return Array.from({ length: n }, () => v);
  },
  staleRuns: (r, n) => Array.from({ length: n }, (_, i) => (i % 7 < 3 ? STALE : bitsOf(i % 2))),
  narrowThenWide: (r, n) =>
    Array.from({ length: n }, (_, i) => (i % 10 === 9 ? randomBits64(r) : bitsOf(1000 + (i % 3)))),
};

const timeGens: Record<string, Gen<bigint>> = {
  scrape15s: (r, n) => {
    let t = 1_700_000_000_000n + BigInt(Math.floor(r() * 1e6));
    return Array.from({ length: n }, () => (t += BigInt(15000 + Math.floor(r() * 41) - 20)));
  },
  hugeJumps: (r, n) => {
    let t = BigInt(Math.floor((r() - 0.5) * 2 ** 50));
    return Array.from({ length: n }, () => (t += BigInt(1 + Math.floor(r() * 2 ** (r() < 0.3 ? 45 : 16)))));
  },
  bucketEdges: (r, n) => {
    // Deltas-of-delta at each bucket's edges, both signs, the delta kept positive.
    const edges = [0n, 1n, -1n, 8191n, -8191n, 8192n, -8192n, 8193n, 65536n, -65535n, -65536n, 65537n, 524288n, -524287n, -524288n, 524289n, 2n ** 31n + 5n, -(2n ** 31n)];
    let t = 0n;
    let d = 3n * 2n ** 32n;
    return Array.from({ length: n }, () => {
      let nd = d + edges[Math.floor(r() * edges.length)]!;
      if (nd <= 0n) nd = d + 600_000n;
      d = nd;
      return (t += d);
    });
  },
  negativeStart: (r, n) => {
    let t = -1_000_000_000_000n;
    return Array.from({ length: n }, () => (t += BigInt(1 + Math.floor(r() * 30000))));
  },
};

describe("XOR codec round trips", () => {
  test("a StaleNaN survives an encode/decode round trip bit for bit", () => {
    const c = xor.create();
    expect(xor.append(c, 1000, 1.5)).toBe(XOR_OK);
    expect(xor.appendStale(c, 2000)).toBe(XOR_OK);
    expect(xor.append(c, 3000, 2.5)).toBe(XOR_OK);
    expect(xor.appendStale(c, 4000)).toBe(XOR_OK);
    const d = xor.decodeBits(c);
    expect([...d.bits]).toEqual([bitsOf(1.5), STALE, bitsOf(2.5), STALE]);
    const it = xor.iterator(c);
    const seen: [number, boolean, number, number][] = [];
    while (it.next()) seen.push([it.t, it.isStale, it.valueHi, it.valueLo]);
    it.close();
    expect(seen).toEqual([
      [1000, false, 0x3ff80000, 0],
      [2000, true, 0x7ff00000, 2],
      [3000, false, 0x40040000, 0],
      [4000, true, 0x7ff00000, 2],
    ]);
    xor.free(c);
  });

  test("NaN payloads, infinities and negative zero keep their exact bits", () => {
    const ts = SPECIAL_BITS.map((_, i) => BigInt(i * 15000));
    expectRoundTrip(ts, SPECIAL_BITS, "specials");
    expectRoundTrip(ts, [...SPECIAL_BITS].reverse(), "specials reversed");
  });

  test("appendBits() carries a NaN payload that a JS number would canonicalise", () => {
    const c = xor.create();
    expect(xor.appendBits(c, 0, 0x7ff80000, 1)).toBe(XOR_OK);
    expect(xor.appendBits(c, 1, 0xfff00000, 0xdead)).toBe(XOR_OK);
    expect([...xor.decodeBits(c).bits]).toEqual([NORMAL_NAN, 0xfff000000000deadn]);
    xor.free(c);
  });

  test("random series of every value and timestamp shape round-trip exactly", () => {
    const r = rng(0x9e3779b9);
    let series = 0;
    for (const [vn, vg] of Object.entries(valueGens)) {
      for (const [tn, tg] of Object.entries(timeGens)) {
        for (const n of [1, 2, 3, 120, 1 + Math.floor(r() * 250)]) {
          expectRoundTrip(tg(r, n), vg(r, n), `${vn}/${tn}/${n}`);
          series++;
        }
      }
    }
    expect(series).toBe(Object.keys(valueGens).length * Object.keys(timeGens).length * 5);
  });

  test("timestamps at the i64 extremes round-trip, including a delta of 2^64 - 1", () => {
    expectRoundTrip([I64_MIN, I64_MAX], [bitsOf(1), bitsOf(2)], "min→max");
    expectRoundTrip([I64_MIN, 0n, I64_MAX], [bitsOf(1), bitsOf(2), bitsOf(3)], "min→0→max");
    expectRoundTrip([I64_MIN, I64_MIN + 1n, I64_MAX], [0n, 0n, 0n], "dod near 2^64");
    expectRoundTrip([I64_MAX], [STALE], "single at max");
  });

  test("deltas above 2^31 ms and negative deltas-of-delta round-trip", () => {
    const ts = [0n, 2n ** 31n + 7n, 2n ** 32n + 100n, 2n ** 32n + 101n, 2n ** 40n, 2n ** 40n + 1n, 2n ** 40n + 2n];
    expectRoundTrip(ts, ts.map((_, i) => bitsOf(i)), "big jumps");
  });

  test("a constant series costs two bits per sample after the first two", () => {
    const c = xor.create();
    for (let i = 0; i < 120; i++) xor.append(c, 1_700_000_000_000 + i * 15000, 42);
    // 2 header + 6 varint + 8 value + 2 uvarint (15000) + 1 bit + 118 × 2 bits = 237 bits.
    expect(xor.bytes(c).length).toBe(2 + 6 + 8 + 2 + Math.ceil(237 / 8));
    expect(xor.count(c)).toBe(120);
    xor.free(c);
  });

  test("a single-sample chunk holds a varint timestamp and the raw value bits", () => {
    const c = xor.create();
    xor.append(c, -1, 0.5);
    // count 0x0001, zig-zag(-1) = 1, 0.5 = 0x3fe0000000000000, then the empty byte Go's
    // bstream.writeByte leaves after a byte-aligned write.
    expect(hex(xor.bytes(c))).toBe("0001013fe000000000000000");
    expect(xor.minTime(c)).toBe(-1);
    expect(xor.maxTime(c)).toBe(-1);
    xor.free(c);
  });
});

describe("XOR codec append rules", () => {
  test("an out-of-order sample is rejected and leaves the chunk unchanged", () => {
    const c = xor.create();
    xor.append(c, 1000, 1);
    xor.append(c, 2000, 2);
    const before = hex(xor.bytes(c));
    expect(xor.append(c, 1999, 3)).toBe(XOR_ERR_OUT_OF_ORDER);
    expect(xor.appendStale(c, 1)).toBe(XOR_ERR_OUT_OF_ORDER);
    expect(hex(xor.bytes(c))).toBe(before);
    expect(xor.count(c)).toBe(2);
    expect(xor.append(c, 3000, 3)).toBe(XOR_OK);
    expect([...xor.decodeBits(c).t]).toEqual([1000n, 2000n, 3000n]);
    xor.free(c);
  });

  test("an equal timestamp is a no-op duplicate with identical bits and an error otherwise", () => {
    const c = xor.create();
    xor.append(c, 1000, 1);
    expect(xor.append(c, 1000, 1)).toBe(XOR_DUPLICATE);
    expect(xor.append(c, 1000, 2)).toBe(XOR_ERR_DUPLICATE_TIMESTAMP);
    expect(xor.appendStale(c, 1000)).toBe(XOR_ERR_DUPLICATE_TIMESTAMP);
    expect(xor.count(c)).toBe(1);
    xor.free(c);
  });

  test("a chunk refuses the sample after its u16 count is full", () => {
    const c = xor.create();
    const b = xor.batch(XOR_MAX_SAMPLES + 1);
    for (let i = 0; i <= XOR_MAX_SAMPLES; i++) b.set(i, c, i * 1000, i & 3);
    expect(b.append(XOR_MAX_SAMPLES + 1)).toBe(1);
    expect(b.status(XOR_MAX_SAMPLES)).toBe(XOR_ERR_FULL);
    expect(xor.count(c)).toBe(XOR_MAX_SAMPLES);
    expect(xor.decodeBits(c).t.length).toBe(XOR_MAX_SAMPLES);
    b.dispose();
    xor.free(c);
  });

  test("a batch appends to interleaved chunks in order and reports each status", () => {
    const a = xor.create();
    const c = xor.create();
    const b = xor.batch(6);
    b.set(0, a, 1000, 1);
    b.set(1, c, 1000, 10);
    b.setStale(2, a, 2000);
    b.set(3, c, 500, 11); // out of order for c
    b.setBits(4, c, 2000, 0x7ff80000, 1);
    b.set(5, a, 2000, 3); // same t as the stale marker, other bits
    expect(b.append(6)).toBe(2);
    expect([0, 1, 2, 3, 4, 5].map((i) => b.status(i))).toEqual([XOR_OK, XOR_OK, XOR_OK, XOR_ERR_OUT_OF_ORDER, XOR_OK, XOR_ERR_DUPLICATE_TIMESTAMP]);
    expect([...xor.decodeBits(a).bits]).toEqual([bitsOf(1), STALE]);
    expect([...xor.decodeBits(c).bits]).toEqual([bitsOf(10), NORMAL_NAN]);
    b.dispose();
    xor.free(a);
    xor.free(c);
  });

  test("an iterator reads the samples present when it was created, even after the chunk grows", () => {
    const c = xor.create();
    xor.append(c, 0, 1);
    xor.append(c, 10, 2);
    const it = xor.iterator(c);
    for (let i = 2; i < 500; i++) xor.append(c, i * 10, Math.sqrt(i)); // moves the buffer
    let n = 0;
    while (it.next()) n++;
    expect(n).toBe(2);
    it.reset(c);
    n = 0;
    while (it.next()) n++;
    expect(n).toBe(500);
    it.close();
    xor.free(c);
  });

  test("freed chunks are reused by the allocator", () => {
    const first = xor.create();
    xor.free(first);
    expect(xor.create()).toBe(first);
    xor.free(first);
  });
});

// ---- Prometheus byte compatibility ----------------------------------------------------------

// Chunks written by Prometheus 2.42's own code: `promtool tsdb create-blocks-from openmetrics`
// (Debian prometheus 2.42.0+ds-5+deb12u1) over the OpenMetrics text that promSeries() below
// prints, then read out of the block's chunks/000001 (segment header, then per chunk:
// uvarint length, encoding byte 1 = XOR, data, CRC32). These are the data bytes.
const PROM_CHUNKS: Record<string, string> = {
  'a{case="dod"}':
    "001980a0abfef9623ff00000000000009875309bffd80015fffe03b001a000a000a001c3efe37e43c8800759d800ff928a234af886c5c2001bf955b87f0be3cd67780028000000000000000bfffa0020000000000007400023ff0000000000001d0001800080000000000038400060053000000000000ef000080000800000000002fffa0045200000000000e80000740000cff4b333333333335e000000000010000300380000000000007fffffffffffc00004003555555555555d7ffb3f8d97f2fdc38536780000000000493e0501b839ad916872b1fffffffffffedb081402880000000000009fed40000000000000",
  'b{case="counter"}':
    "008286a0abfef962408f4000000000009a75e027dfffeb2fe5c001c19a001205f7fdf0f1800381bc008400affd20037ff3067801281c5ffe400efff63f17ff1034bffd82c4001401e00321d90007038bfff832dff7c0c2000e7c1000b0168008818c001407effca0d3001103cbffa87d400340c6000e0c77ff301cbffc81e4004406afff63e4801c003c07affca0550015062800781a5ffbc056000e1c57fef03980085ffcc1aa002e05f7fef019bffed46fffe003200f5ffdc00e800680457fef01e200220095ff9c036800c803d7fe103de000a018c001c064800783b9000700c2ffda03ac002c01780068077000703eaffde02adfff401f800a80577feb0fbe002e02fdff8c014800480057ff7009e003e005dffd40f2bff8804d001501ce001a01e5ffdc00d800380217feb078afff202f4002c017800580777fff03fafffa02fdffc402d800c80117fff1ff9001a001a01cdffbc07980068013000700c2ffc200d5fffc0ea800f80497fe101d200460175ff9400f41e7800980270003001a001201dc001c00ebff18009001301b5001effcd00030062fffe068c002c019bffe8061000b0066002e02edffc4007bff987d3001500a2ffca03640074006bff3802f000500ce0026075c002401d800180537fe101820022013400341d3bffd80cd000b0042000601c5fffc0f7800180ba0",
  'c{case="single"}': "00018aa0abfef9623fe000000000000000",
  'd{case="constant"}': "000680a0abfef962401c00000000000098750000",
  'e{case="gauge"}':
    "000c80a0abfef96200000000000000009975c3ec08a4bc49ba5e355000621a4da2cd41afff601db936e97688fd4001e002039816f5d312ae1d000528871272bb95dffec01f9038f1a2d22f30007407af8a35ba5da232000a6d384f5b1689bffd803dcacf9f3b5459e000e80f8c1c851fb87634001c7f810e25e3d0",
};

/** The series behind PROM_CHUNKS, as OpenMetrics sample lines (value text, timestamp text). */
function promSeries(): Record<string, [string, string][]> {
  const T0 = 1_700_000_000_000;
  const text = (v: number): string =>
    v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : Number.isNaN(v) ? "NaN" : Object.is(v, -0) ? "-0" : String(v);
  const line = (t: number, v: number): [string, string] => [text(v), (t / 1000).toFixed(3)];
  const out: Record<string, [string, string][]> = {};
  {
    // Every delta-of-delta bucket with both edges (the delta stays positive).
    const dods = [0, 1, -1, 8192, -8191, 0, 8193, -8192, -1, 65536, -65535, 65537, -65536, -2, 524288, -524287, 524289, -524288, -3, 600000, -600000, 0, 0];
    const vals = [1, 1, 2.5, 2.5, -0, 0, 1e300, -1e-300, Infinity, -Infinity, NaN, 3, 3.25, 100, 100.5, 7, 7, 0.1, 0.2, 0.30000000000000004, 12345.678, -5, 42, 42, 1];
    let t = T0;
    let d = 15000;
    const s = [line(t, vals[0]!), line((t += d), vals[1]!)];
    dods.forEach((dd, i) => {
      d += dd;
      s.push(line((t += d), vals[i + 2]!));
    });
    out['a{case="dod"}'] = s;
  }
  {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const s: [string, string][] = [];
    let t = T0 + 3;
    let c = 1000;
    for (let i = 0; i < 130; i++) {
      s.push(line(t, c));
      t += 15000 + Math.floor(rnd() * 21) - 10;
      c += Math.floor(rnd() * 50);
    }
    out['b{case="counter"}'] = s;
  }
  out['c{case="single"}'] = [line(T0 + 5, 0.5)];
  out['d{case="constant"}'] = Array.from({ length: 6 }, (_, i) => line(T0 + i * 15000, 7));
  out['e{case="gauge"}'] = Array.from({ length: 12 }, (_, i) => line(T0 + i * 15000 + (i % 3), Math.round(Math.sin(i) * 1e6) / 1e3));
  return out;
}

/** What Prometheus's OpenMetrics parser stores: NaN → NormalNaN; timestamp = trunc(s × 1000). */
function parsed(lines: [string, string][]): { t: bigint[]; bits: bigint[] } {
  return {
    t: lines.map(([, ts]) => BigInt(Math.trunc(Number(ts) * 1000))),
    bits: lines.map(([v]) => (v === "NaN" ? NORMAL_NAN : bitsOf(Number(v.replace("+Inf", "Infinity").replace("-Inf", "-Infinity"))))),
  };
}

describe("Prometheus XOR byte compatibility", () => {
  test("chunks written by Prometheus decode to the samples it was given", () => {
    const series = promSeries();
    for (const [name, hexBytes] of Object.entries(PROM_CHUNKS)) {
      const c = xor.fromBytes(Buffer.from(hexBytes, "hex"));
      const want = parsed(series[name]!);
      const got = xor.decodeBits(c);
      expect({ name, t: [...got.t] }).toEqual({ name, t: want.t });
      expect({ name, bits: [...got.bits] }).toEqual({ name, bits: want.bits });
      xor.free(c);
    }
  });

  test("encoding the same samples gives Prometheus's bytes exactly", () => {
    const series = promSeries();
    for (const [name, hexBytes] of Object.entries(PROM_CHUNKS)) {
      const want = parsed(series[name]!);
      const c = encode(want.t, want.bits);
      expect({ name, bytes: hex(xor.bytes(c)) }).toEqual({ name, bytes: hexBytes });
      xor.free(c);
    }
  });

  test("a constant series matches the bytes derived by hand from the encoding rules", () => {
    // d{case="constant"}: six samples of 7 every 15 s from t0 = 1 700 000 000 000 ms.
    //   00 06                    sample count, big-endian u16
    //   80 a0 ab fe f9 62        varint(t0): zig-zag 2·t0 = 3 400 000 000 000 = 0x3179fcad000,
    //                            7-bit groups low first 00 20 2b 7e 79 62, 0x80 on all but the last
    //   40 1c 00 00 00 00 00 00  7.0 as raw bits
    //   98 75                    uvarint(15000): 15000 = 0x3a98 → 0x98 (0x18|0x80), 0x75
    //   then bits: '0' (value unchanged), 4 × ('0' dod = 0, '0' value unchanged) = 9 bits → 00 00
    const c = xor.create();
    for (let i = 0; i < 6; i++) xor.append(c, 1_700_000_000_000 + i * 15000, 7);
    expect(hex(xor.bytes(c))).toBe("0006" + "80a0abfef962" + "401c000000000000" + "9875" + "0000");
    expect(hex(xor.bytes(c))).toBe(PROM_CHUNKS['d{case="constant"}']!);
    xor.free(c);
  });

  test("appending to a chunk loaded from bytes continues as if it had been built here", () => {
    const series = promSeries();
    const want = parsed(series['b{case="counter"}']!);
    const half = 67;
    const first = encode(want.t.slice(0, half), want.bits.slice(0, half));
    const c = xor.fromBytes(xor.bytes(first));
    const b = xor.batch(want.t.length - half);
    for (let i = half; i < want.t.length; i++) b.setExact(i - half, c, want.t[i]!, want.bits[i]!);
    expect(b.append(want.t.length - half)).toBe(0);
    expect(hex(xor.bytes(c))).toBe(PROM_CHUNKS['b{case="counter"}']!);
    b.dispose();
    xor.free(first);
    xor.free(c);
  });

  test("a value that reuses the not-yet-set window decodes as 64 significant bits", () => {
    // Prometheus's appender, re-opened on a chunk whose values never changed, starts from
    // leading = trailing = 0 and may write '10' + 64 bits; its reader starts from 0/0 too.
    const bits: string[] = [];
    const put = (v: bigint, n: number) => bits.push(v.toString(2).padStart(n, "0").slice(-n));
    put(2n, 16); // count
    put(0x00n, 8); // varint(0)
    put(bitsOf(1), 64);
    put(0xe807n, 16); // uvarint(1000)
    put(0b10n, 2); // value: reuse the window
    put(bitsOf(1) ^ bitsOf(2), 64);
    const s = bits.join("").padEnd(Math.ceil(bits.join("").length / 8) * 8, "0");
    const bytes = Uint8Array.from(s.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
    const c = xor.fromBytes(bytes);
    expect([...xor.decodeBits(c).t]).toEqual([0n, 1000n]);
    expect([...xor.decodeBits(c).bits]).toEqual([bitsOf(1), bitsOf(2)]);
    expect(xor.append(c, 2000, 3)).toBe(XOR_OK);
    expect([...xor.decodeBits(c).bits]).toEqual([bitsOf(1), bitsOf(2), bitsOf(3)]);
    xor.free(c);
  });

  test("truncated or malformed chunk bytes are refused", () => {
    const good = Buffer.from(PROM_CHUNKS['a{case="dod"}']!, "hex");
    expect(() => xor.fromBytes(good.subarray(0, good.length - 20))).toThrow(SyntaxError);
    expect(() => xor.fromBytes(new Uint8Array([0x00]))).toThrow(SyntaxError);
    expect(() => xor.fromBytes(Buffer.from("0001ffffffffffffffffffff01", "hex"))).toThrow(SyntaxError);
    const empty = xor.fromBytes(new Uint8Array([0, 0]));
    expect(xor.count(empty)).toBe(0);
    xor.free(empty);
  });
});

describe("Prometheus XOR byte compatibility on random series", () => {
  interface Fixture {
    about: string;
    series: Record<string, [string, string][]>;
    chunks: Record<string, string[]>;
  }
  let fx: Fixture;
  beforeAll(async () => {
    fx = (await Bun.file(new URL("./testdata/xor-prometheus.json", import.meta.url)).json()) as Fixture;
  });

  test("every promtool-written chunk decodes to its series and re-encodes to the same bytes", () => {
    let chunks = 0;
    for (const [name, lines] of Object.entries(fx.series)) {
      const want = parsed(lines);
      let at = 0;
      for (const hexBytes of fx.chunks[name]!) {
        const c = xor.fromBytes(Buffer.from(hexBytes, "hex"));
        const got = xor.decodeBits(c);
        const n = got.t.length;
        expect({ name, at, t: [...got.t] }).toEqual({ name, at, t: want.t.slice(at, at + n) });
        expect({ name, at, bits: [...got.bits] }).toEqual({ name, at, bits: want.bits.slice(at, at + n) });
        expect({ name, at, bytes: hex(xor.bytes(c)) }).toEqual({ name, at, bytes: hexBytes });
        const again = encode(want.t.slice(at, at + n), want.bits.slice(at, at + n));
        expect({ name, at, bytes: hex(xor.bytes(again)) }).toEqual({ name, at, bytes: hexBytes });
        xor.free(again);
        xor.free(c);
        at += n;
        chunks++;
      }
      expect(at).toBe(want.t.length);
    }
    expect(chunks).toBeGreaterThanOrEqual(63);
  });
});

describe("XOR chunk snapshots", () => {
  /** Chunks of 0..n samples with mixed values; `open` more samples follow in `rest`. */
  function chunks(n: number, r: () => number): ChunkHandle[] {
    const out: ChunkHandle[] = [];
    for (let k = 0; k < n; k++) {
      const c = xor.create();
      for (let i = 0; i < k % 130; i++) {
        const t = 1_700_000_000_000 + i * 15_000 + Math.floor(r() * 50);
        if (i % 17 === 16) xor.appendStale(c, t);
        else xor.append(c, t, i % 3 === 0 ? Math.floor(r() * 1e6) : r() * 100);
      }
      out.push(c);
    }
    return out;
  }

  test("restored chunks hold the same bytes and append exactly as the originals would", () => {
    const r = rng(7);
    const orig = chunks(300, r);
    const pieces: Uint8Array[] = [];
    xor.snapshot(Uint32Array.from(orig), (p) => pieces.push(p), 4096);
    expect(pieces.length).toBeGreaterThan(1);
    const all = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of pieces) {
      all.set(p, at);
      at += p.length;
    }
    const back = xor.restore(all, orig.length);
    for (let k = 0; k < orig.length; k++) {
      const a = orig[k]!;
      const b = back[k]!;
      expect(xor.bytes(b)).toEqual(xor.bytes(a));
      expect([xor.count(b), xor.minTime(b), xor.maxTime(b)]).toEqual([xor.count(a), xor.minTime(a), xor.maxTime(a)]);
      // The appender state came along: both continue to the same bytes.
      for (let i = 0; i < 5; i++) {
        const t = 1_800_000_000_000 + i * 15_000;
        const v = i * 1.25;
        expect(xor.append(b, t, v)).toBe(xor.append(a, t, v));
      }
      expect(xor.bytes(b)).toEqual(xor.bytes(a));
      xor.free(a);
      xor.free(b);
    }
  });

  test("a damaged or truncated snapshot record is refused, naming the chunk", () => {
    const orig = chunks(10, rng(3));
    const pieces: Uint8Array[] = [];
    xor.snapshot(Uint32Array.from(orig), (p) => pieces.push(p));
    const rec = pieces[0]!;
    for (const c of orig) xor.free(c);
    // Record 4's count no longer agrees with its data's count header.
    let at = 0;
    for (let i = 0; i < 4; i++) at += 4 + 48 + new DataView(rec.buffer).getUint32(at, true);
    const bad = rec.slice();
    bad[at + 4 + 12] = 99;
    expect(() => xor.restore(bad, 10)).toThrow("Cannot restore chunk 5 of 10");
    expect(() => xor.restore(rec.subarray(0, rec.length - 3), 10)).toThrow("end early");
    const ok = xor.restore(rec, 10);
    expect(ok.length).toBe(10);
    for (const c of ok) xor.free(c);
  });
});
