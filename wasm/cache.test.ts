import { beforeAll, describe, expect, test } from "bun:test";
import {
  CACHE_DROPPED,
  CACHE_INSERT_DUPLICATE,
  CACHE_INSERT_NEW,
  CACHE_INSERT_UPDATED,
  CACHE_MISS,
  ScrapeCache,
  hash64,
} from "./cache.ts";
import { createCore, type Core } from "./index.ts";
import { rng } from "../test/support/random.ts";

let core: Core;
beforeAll(async () => {
  core = await createCore();
});

const enc = new TextEncoder();
const key = (s: string): Uint8Array => enc.encode(s);


function seriesKey(i: number): string {
  return `http_requests_total{code="${200 + (i % 5)}",handler="/api/v1/item/${i}",instance="10.0.${i % 250}.${i % 7}:9100"}`;
}

/** Lays keys out as a scrape body in WASM memory with start/end offsets, as the parser does. */
class Body {
  buf = 0;
  starts = 0;
  ends = 0;
  refs = 0;
  dups = 0;
  readonly n: number;
  readonly #sizes: number[];
  constructor(keys: readonly Uint8Array[]) {
    const x = core.exports;
    this.n = keys.length;
    const total = keys.reduce((a, k) => a + k.length + 1, 0);
    this.#sizes = [Math.max(total, 1), this.n * 4 || 4];
    this.buf = x.alloc(this.#sizes[0]!);
    this.starts = x.alloc(this.#sizes[1]!);
    this.ends = x.alloc(this.#sizes[1]!);
    this.refs = x.alloc(this.#sizes[1]!);
    this.dups = x.alloc(this.#sizes[1]!);
    const v = core.views();
    let off = 0;
    keys.forEach((k, i) => {
      v.u8.set(k, this.buf + off);
      v.u32[(this.starts >>> 2) + i] = off;
      v.u32[(this.ends >>> 2) + i] = off + k.length;
      off += k.length + 1;
      v.u8[this.buf + off - 1] = 10; // '\n' between series, like a real body
    });
  }
  ptr(i: number): number {
    return this.buf + core.views().u32[(this.starts >>> 2) + i]!;
  }
  len(i: number): number {
    const v = core.views().u32;
    return v[(this.ends >>> 2) + i]! - v[(this.starts >>> 2) + i]!;
  }
  refsOut(): number[] {
    return [...core.views().i32.subarray(this.refs >>> 2, (this.refs >>> 2) + this.n)];
  }
  dupsOut(k: number): number[] {
    return [...core.views().u32.subarray(this.dups >>> 2, (this.dups >>> 2) + k)];
  }
  free(): void {
    const x = core.exports;
    x.free(this.buf, this.#sizes[0]!);
    for (const p of [this.starts, this.ends, this.refs, this.dups]) x.free(p, this.#sizes[1]!);
  }
}

describe("hash64", () => {
  test("hash64 gives the XXH64 reference values (libxxhash 0.8.1, seed 0)", () => {
    const vectors: [Uint8Array, bigint][] = [
      [key(""), 0xef46db3751d8e999n],
      [key("a"), 0xd24ec4f1a98c6e5bn],
      [key("abc"), 0x44bc2cf5ad770999n],
      [key("abcd"), 0xde0327b0d25d92ccn],
      [key("abcdefg"), 0x1860940e2902822dn],
      [key("abcdefgh"), 0x3ad351775b4634b7n],
      [key("up"), 0x23af5a217b078e8fn],
      [key('node_cpu_seconds_total{cpu="0",mode="idle"}'), 0xcdb01e9c354d7b17n],
      [key('http_requests_total{method="post",code="200"}'), 0xff04b88c581aad85n],
      [new Uint8Array(512).map((_, i) => i & 0xff), 0x7b3bfcaac0348ac0n],
      [key("x".repeat(31)), 0x60dd0d01083b99f0n],
      [key("x".repeat(32)), 0xe2df261fc2ec30ebn],
      [key("x".repeat(33)), 0xb3fa465f554208a6n],
    ];
    const p = core.exports.alloc(1024);
    for (const [bytes, want] of vectors) {
      core.views().u8.set(bytes, p + 3); // unaligned on purpose
      expect({ len: bytes.length, h: hash64(core, p + 3, bytes.length).toString(16) }).toEqual({ len: bytes.length, h: want.toString(16) });
    }
    core.exports.free(p, 1024);
  });
});

describe("ScrapeCache lookups", () => {
  test("an inserted key is found with its ref and an unknown key misses", () => {
    const c = new ScrapeCache(core);
    c.beginScrape();
    expect(c.lookupBytes(key("up"))).toBe(CACHE_MISS);
    expect(c.insertBytes(key("up"), 7)).toBe(CACHE_INSERT_NEW);
    expect(c.insertBytes(key('up{job="x"}'), 8)).toBe(CACHE_INSERT_NEW);
    c.beginScrape();
    expect(c.lookupBytes(key("up"))).toBe(7);
    expect(c.lookupBytes(key('up{job="x"}'))).toBe(8);
    expect(c.lookupBytes(key("u"))).toBe(CACHE_MISS);
    expect(c.lookupBytes(key("up "))).toBe(CACHE_MISS); // the exact bytes are the key
    expect(c.lookupBytes(key(""))).toBe(CACHE_MISS);
    expect(c.count).toBe(2);
    c.destroy();
  });

  test("keys that share a hash are told apart by a full byte compare", () => {
    const c = new ScrapeCache(core);
    c.testHooks({ forceHash: 0x12345678, predict: false }); // every key collides: same hash, same home slot
    c.beginScrape();
    const keys = Array.from({ length: 200 }, (_, i) => key(seriesKey(i)));
    keys.push(key("a"), key("ab"), key("abc"), key("abd"), key("")); // prefixes and equal lengths
    keys.forEach((k, i) => expect(c.insertBytes(k, i)).toBe(CACHE_INSERT_NEW));
    c.beginScrape();
    keys.forEach((k, i) => expect(c.lookupBytes(k)).toBe(i));
    expect(c.lookupBytes(key("abe"))).toBe(CACHE_MISS);
    expect(c.lookupBytes(key(seriesKey(200)))).toBe(CACHE_MISS);
    c.destroy();
  });

  test("a dropped entry is reported as dropped and never listed for a stale marker", () => {
    const c = new ScrapeCache(core);
    c.beginScrape();
    c.insertBytes(key("kept"), 1);
    c.insertBytes(key("dropped"), CACHE_DROPPED);
    c.beginScrape();
    expect(c.lookupBytes(key("kept"))).toBe(1);
    expect(c.lookupBytes(key("dropped"))).toBe(CACHE_DROPPED);
    c.beginScrape(); // neither seen in this scrape
    expect([...c.unseenRefs()]).toEqual([1]);
    c.destroy();
  });

  test("insert() updates the ref of an existing key, as when storage hands out a new ref", () => {
    const c = new ScrapeCache(core);
    c.beginScrape();
    c.insertBytes(key("a"), 1);
    c.beginScrape();
    expect(c.insertBytes(key("a"), 2)).toBe(CACHE_INSERT_UPDATED);
    expect(c.lookupBytes(key("a"))).toBe(2);
    expect(() => c.insertBytes(key("b"), 2 ** 31)).toThrow(RangeError);
    expect(() => c.insertBytes(key("b"), -1)).toThrow(RangeError);
    c.destroy();
  });
});

describe("ScrapeCache epochs", () => {
  test("listUnseen returns the refs seen last scrape and missing now, once", () => {
    const c = new ScrapeCache(core);
    c.beginScrape();
    for (let i = 0; i < 10; i++) c.insertBytes(key(seriesKey(i)), i);
    expect([...c.unseenRefs()]).toEqual([]); // first scrape: nothing was seen before
    c.beginScrape();
    for (let i = 0; i < 10; i++) if (i % 3 !== 0) c.lookupBytes(key(seriesKey(i)));
    expect([...c.unseenRefs()].sort((a, b) => a - b)).toEqual([0, 3, 6, 9]);
    c.beginScrape(); // say the scrape failed: nothing looked up
    expect([...c.unseenRefs()].sort((a, b) => a - b)).toEqual([1, 2, 4, 5, 7, 8]);
    c.beginScrape(); // failed again: no second marker for anything
    expect([...c.unseenRefs()]).toEqual([]);
    c.destroy();
  });

  test("a series looked up twice in one scrape is reported as a duplicate", () => {
    const c = new ScrapeCache(core);
    c.beginScrape();
    expect(c.insertBytes(key("a"), 1)).toBe(CACHE_INSERT_NEW);
    expect(c.insertBytes(key("a"), 1)).toBe(CACHE_INSERT_DUPLICATE); // two misses in one batch
    expect(c.lastDuplicates).toBe(1);
    c.beginScrape();
    expect(c.duplicates).toBe(0);
    expect(c.lookupBytes(key("a"))).toBe(1);
    expect(c.lastDuplicates).toBe(0);
    expect(c.lookupBytes(key("a"))).toBe(1);
    expect(c.lastDuplicates).toBe(1);
    expect(c.duplicates).toBe(1);
    expect(c.seen).toBe(1);
    c.destroy();
  });

  test("evict() deletes entries unseen for N scrapes and keeps the rest findable", () => {
    for (const forced of [null, 0xabcdef]) {
      const c = new ScrapeCache(core);
      if (forced !== null) c.testHooks({ forceHash: forced });
      c.beginScrape();
      const n = forced === null ? 3000 : 300;
      for (let i = 0; i < n; i++) c.insertBytes(key(seriesKey(i)), i);
      c.beginScrape();
      for (let i = 0; i < n; i++) if (i % 2 === 0) c.lookupBytes(key(seriesKey(i)));
      c.beginScrape();
      for (let i = 0; i < n; i++) if (i % 4 === 0) c.lookupBytes(key(seriesKey(i)));
      // Odd keys were last seen 2 scrapes ago, i%4==2 ones 1 scrape ago.
      expect(c.evict(3)).toBe(0);
      expect(c.evict(2)).toBe(n / 2);
      expect(c.count).toBe(n / 2);
      for (let i = 0; i < n; i++) expect(c.lookupBytes(key(seriesKey(i)))).toBe(i % 2 === 0 ? i : CACHE_MISS);
      expect(c.evict(1)).toBe(0); // every survivor was just looked up again
      c.destroy();
    }
  });

  test("heavy eviction compacts the key pages and keeps every live key", () => {
    const c = new ScrapeCache(core);
    c.beginScrape();
    const n = 5000; // ~110-byte keys: several 64 KiB pages
    for (let i = 0; i < n; i++) c.insertBytes(key(seriesKey(i)), i);
    const before = c.keyBytes;
    c.beginScrape();
    for (let i = 0; i < n; i += 10) c.lookupBytes(key(seriesKey(i)));
    expect(c.evict(1)).toBe(n - n / 10);
    expect(c.keyBytes).toBeLessThan(before / 5); // dead records were compacted away
    for (let i = 0; i < n; i++) expect(c.lookupBytes(key(seriesKey(i)))).toBe(i % 10 === 0 ? i : CACHE_MISS);
    c.destroy();
  });

  test("a key larger than a key page is stored and found", () => {
    const c = new ScrapeCache(core);
    c.beginScrape();
    const big = key(`big{v="${"x".repeat(100_000)}"}`);
    c.insertBytes(key("small"), 1);
    c.insertBytes(big, 2);
    c.insertBytes(key("small2"), 3);
    expect(c.lookupBytes(big)).toBe(2);
    expect(c.lookupBytes(key("small2"))).toBe(3);
    c.beginScrape();
    c.lookupBytes(key("small"));
    expect(c.evict(1)).toBe(2);
    expect(c.lookupBytes(key("small"))).toBe(1);
    c.destroy();
  });
});

describe("ScrapeCache growth and memory", () => {
  test("growth past the load factor keeps every entry", () => {
    const c = new ScrapeCache(core);
    const start = c.capacity;
    c.beginScrape();
    const n = 50_000;
    for (let i = 0; i < n; i++) c.insertBytes(key(`m{i="${i}"}`), i);
    expect(c.capacity).toBeGreaterThan(start);
    expect(c.count / c.capacity).toBeLessThanOrEqual(0.7);
    for (let i = 0; i < n; i++) expect(c.lookupBytes(key(`m{i="${i}"}`))).toBe(i);
    c.destroy();
  });

  test("a destroyed cache's memory is reused by the next cache", () => {
    const fill = (c: ScrapeCache) => {
      c.beginScrape();
      for (let i = 0; i < 20_000; i++) c.insertBytes(key(seriesKey(i)), i);
    };
    const first = new ScrapeCache(core);
    fill(first);
    const handle = first.handle;
    first.destroy();
    const bytesAfterFirst = core.exports.memory.buffer.byteLength;
    for (let round = 0; round < 5; round++) {
      const c = new ScrapeCache(core);
      if (round === 0) expect(c.handle).toBe(handle);
      fill(c);
      c.destroy();
    }
    expect(core.exports.memory.buffer.byteLength).toBe(bytesAfterFirst);
  });
});

describe("ScrapeCache batch lookup", () => {
  test("a batch lookup gives the same refs, misses and duplicates as single lookups", () => {
    const r = rng(42);
    const universe = Array.from({ length: 3000 }, (_, i) => key(seriesKey(i)));
    const single = new ScrapeCache(core);
    const batch = new ScrapeCache(core);
    for (const c of [single, batch]) {
      c.beginScrape();
      universe.forEach((k, i) => {
        if (i % 3 === 0) c.insertBytes(k, i);
        else if (i % 3 === 1) c.insertBytes(k, CACHE_DROPPED);
      });
      c.beginScrape();
    }
    // A scrape: a random mix with repeats (duplicates) and never-inserted keys.
    const order = Array.from({ length: 4000 }, () => Math.floor(r() * universe.length));
    const body = new Body(order.map((i) => universe[i]!));
    const misses = batch.lookupBatch(body.buf, body.starts, body.ends, body.n, body.refs, body.dups);
    const dupCount = batch.lastDuplicates;
    const want: number[] = [];
    const wantDups: number[] = [];
    for (let i = 0; i < body.n; i++) {
      want.push(single.lookup(body.ptr(i), body.len(i)));
      if (single.lastDuplicates === 1) wantDups.push(i);
    }
    expect(body.refsOut()).toEqual(want);
    expect(misses).toBe(want.filter((x) => x === CACHE_MISS).length);
    expect(body.dupsOut(dupCount)).toEqual(wantDups);
    expect(batch.seen).toBe(single.seen);
    expect(batch.duplicates).toBe(single.duplicates);
    expect([...batch.unseenRefs()].sort()).toEqual([...single.unseenRefs()].sort());
    body.free();
    single.destroy();
    batch.destroy();
  });

  test("a batch lookup works with colliding hashes, empty batches and batches shorter than the lookahead", () => {
    const c = new ScrapeCache(core);
    c.testHooks({ forceHash: 5, predict: false });
    c.beginScrape();
    for (let i = 0; i < 20; i++) c.insertBytes(key(seriesKey(i)), i);
    c.beginScrape();
    for (const n of [0, 1, 3, 20]) {
      const body = new Body(Array.from({ length: n }, (_, i) => key(seriesKey(i * 2))));
      const misses = c.lookupBatch(body.buf, body.starts, body.ends, body.n, body.refs);
      expect(body.refsOut()).toEqual(Array.from({ length: n }, (_, i) => (i * 2 < 20 ? i * 2 : CACHE_MISS)));
      expect(misses).toBe(Math.max(0, n - 10));
      body.free();
    }
    c.destroy();
  });
});

describe("ScrapeCache parser interface", () => {
  test("lookupSeries() takes absolute series addresses, as the parser emits them", () => {
    const c = new ScrapeCache(core);
    c.beginScrape();
    const keys = Array.from({ length: 50 }, (_, i) => key(seriesKey(i)));
    keys.forEach((k, i) => i % 2 === 0 && c.insertBytes(k, i));
    const body = new Body(keys);
    const v = core.views().u32;
    for (let i = 0; i < body.n; i++) {
      v[(body.starts >>> 2) + i] = v[(body.starts >>> 2) + i]! + body.buf;
      v[(body.ends >>> 2) + i] = v[(body.ends >>> 2) + i]! + body.buf;
    }
    c.beginScrape();
    expect(c.lookupSeries(body.starts, body.ends, body.n, body.refs)).toBe(25);
    expect(body.refsOut()).toEqual(keys.map((_, i) => (i % 2 === 0 ? i : CACHE_MISS)));
    body.free();
    c.destroy();
  });
});

describe("ScrapeCache scrape-order prediction", () => {
  test("a repeat scrape in any order finds every key with its ref", () => {
    const c = new ScrapeCache(core);
    const n = 2000;
    const names = Array.from({ length: n }, (_, i) => key(seriesKey(i)));
    c.beginScrape();
    names.forEach((k, i) => c.insertBytes(k, i));
    const r = rng(9);
    const orders = [
      names.map((_, i) => i),
      names.map((_, i) => n - 1 - i),
      names.map((_, i) => i).sort(() => r() - 0.5),
      names.map((_, i) => (i * 7) % n),
      names.map((_, i) => i),
    ];
    for (const order of orders) {
      c.beginScrape();
      const body = new Body(order.map((i) => names[i]!));
      expect(c.lookupBatch(body.buf, body.starts, body.ends, body.n, body.refs)).toBe(0);
      expect(body.refsOut()).toEqual(order);
      expect(c.seen).toBe(n);
      body.free();
    }
    c.destroy();
  });

  test("order links survive eviction and compaction of the records they point to", () => {
    const c = new ScrapeCache(core);
    const n = 4000; // ~110-byte keys: several pages
    const names = Array.from({ length: n }, (_, i) => key(seriesKey(i)));
    c.beginScrape();
    names.forEach((k, i) => c.insertBytes(k, i));
    c.beginScrape();
    names.forEach((k, i) => expect(c.lookupBytes(k)).toBe(i));
    // Next scrape sees every third series only: the links of the others now lead to
    // deleted records, and the compaction moves all survivors.
    c.beginScrape();
    for (let i = 0; i < n; i += 3) expect(c.lookupBytes(names[i]!)).toBe(i);
    const before = c.keyBytes;
    expect(c.evict(1)).toBe(n - Math.ceil(n / 3));
    expect(c.keyBytes).toBeLessThan(before / 2);
    for (let round = 0; round < 2; round++) {
      c.beginScrape();
      names.forEach((k, i) => {
        const got = c.lookupBytes(k);
        if (i % 3 === 0) expect(got).toBe(i);
        else if (round === 0) {
          expect(got).toBe(CACHE_MISS);
          c.insertBytes(k, i + n); // comes back with a new ref
        } else expect(got).toBe(i + n);
      });
    }
    names.forEach((k, i) => expect(c.lookupBytes(k)).toBe(i % 3 === 0 ? i : i + n));
    c.destroy();
  });
});

describe("ScrapeCache against a model", () => {
  const configs = [
    { name: "prediction on", hooks: {} },
    { name: "prediction off", hooks: { predict: false } },
    { name: "all keys colliding", hooks: { forceHash: 77 } },
  ] as const;
  for (const cfg of configs) {
    for (const mode of ["random", "stable order"] as const) {
      test(`random scrapes, inserts and evictions agree with a Map-based model (${cfg.name}, ${mode})`, () => {
        const r = rng(cfg.name.length * 31 + mode.length);
        const c = new ScrapeCache(core);
        c.testHooks(cfg.hooks);
        const model = new Map<string, { ref: number; seen: number }>();
        const colliding = "forceHash" in cfg.hooks;
        const names = Array.from({ length: colliding ? 150 : 2000 }, (_, i) => seriesKey(i));
        let compactions = 0;
        let lastKeyBytes = 0;
        for (let scrape = 0; scrape < 25; scrape++) {
          const epoch = c.beginScrape();
          const seenNow = new Set<string>();
          const picks =
            mode === "random"
              ? Array.from({ length: names.length / 2 }, () => names[Math.floor(r() * r() * names.length)]!)
              : names.filter(() => r() > 0.15).flatMap((nm) => (r() < 0.02 ? [nm, nm] : [nm]));
          for (const name of picks) {
            const m = model.get(name);
            const got = c.lookupBytes(key(name));
            const dup = seenNow.has(name);
            if (m === undefined) {
              expect(got).toBe(CACHE_MISS);
              const ref = r() < 0.1 ? CACHE_DROPPED : Math.floor(r() * 1e6);
              expect(c.insertBytes(key(name), ref)).toBe(CACHE_INSERT_NEW);
              model.set(name, { ref, seen: epoch });
            } else {
              expect(got).toBe(m.ref);
              expect(c.lastDuplicates).toBe(dup ? 1 : 0);
              m.seen = epoch;
            }
            seenNow.add(name);
          }
          expect(c.seen).toBe(seenNow.size);
          const wantStale = [...model.values()].filter((m) => m.seen === epoch - 1 && m.ref !== CACHE_DROPPED).map((m) => m.ref);
          expect([...c.unseenRefs()].sort((a, b) => a - b)).toEqual(wantStale.sort((a, b) => a - b));
          const age = 1 + Math.floor(r() * 3);
          let evicted = 0;
          for (const [name, m] of model) {
            if (epoch - m.seen >= age) {
              model.delete(name);
              evicted++;
            }
          }
          expect(c.evict(age)).toBe(evicted);
          expect(c.count).toBe(model.size);
          if (c.keyBytes < lastKeyBytes) compactions++;
          lastKeyBytes = c.keyBytes;
        }
        for (const name of names) expect(c.lookupBytes(key(name))).toBe(model.get(name)?.ref ?? CACHE_MISS);
        if (!colliding && mode === "stable order") expect(compactions).toBeGreaterThan(0);
        c.destroy();
      });
    }
  }
});

test("lookupParsed() resolves a parse result's series and flags repeats within the scrape", async () => {
  const { createCore } = await import("./index.ts");
  const { ExpositionParser, Format } = await import("./parser.ts");
  const c = await createCore();
  const parser = new ExpositionParser(c);
  const cache = new ScrapeCache(c);
  const r = parser.parse(new TextEncoder().encode('a 1\nb{x="1"} 2\na 3\n'), Format.Text);
  if (!r.ok) throw new Error(r.reason);
  cache.beginScrape();
  const first = cache.lookupParsed(r);
  expect([first.count, first.misses]).toEqual([3, 3]);
  expect([first.ref(0), first.ref(1), first.ref(2)]).toEqual([CACHE_MISS, CACHE_MISS, CACHE_MISS]);
  cache.insert(r.seriesStart[0]!, r.seriesEnd[0]! - r.seriesStart[0]!, 7);
  cache.insert(r.seriesStart[1]!, r.seriesEnd[1]! - r.seriesStart[1]!, 8);
  cache.beginScrape();
  const again = cache.lookupParsed(r);
  expect([again.ref(0), again.ref(1), again.ref(2), again.misses]).toEqual([7, 8, 7, 0]);
  expect([again.isDuplicate(0), again.isDuplicate(1), again.isDuplicate(2)]).toEqual([false, false, true]);
});

describe("front-coded keys", () => {
  const bucketKeys = (n: number) =>
    Array.from({ length: n }, (_, i) => `http_request_duration_seconds_bucket{namespace="prod",pod="api-f919d7c5-${String(i >> 4).padStart(5, "0")}",handler="/api/v1/users",le="${["0.005", "0.1", "1", "+Inf", "10", "2.5"][i % 6]}/${i & 15}${"x".repeat(i % 5 === 0 ? 40 : 0)}"}`);

  test("keys sharing prefixes with their neighbours take a fraction of their bytes, and every one is found in any order", () => {
    const keys = bucketKeys(20_000);
    const c = new ScrapeCache(core);
    c.beginScrape();
    keys.forEach((k, i) => expect(c.insertBytes(key(k), i)).toBe(CACHE_INSERT_NEW));
    const raw = keys.reduce((a, k) => a + k.length, 0);
    expect(c.keyBytes).toBeLessThan(raw * 0.5);
    // Scrape order (predicted), then random order without prediction (rebuilt from restarts).
    c.beginScrape();
    keys.forEach((k, i) => expect(c.lookupBytes(key(k))).toBe(i));
    c.testHooks({ predict: false });
    const r = rng(5);
    for (let j = 0; j < 20_000; j++) {
      const i = Math.floor(r() * keys.length);
      expect(c.lookupBytes(key(keys[i]!))).toBe(i);
    }
    // A key that differs from a stored one only in its shared prefix, or only in its tail, misses.
    expect(c.lookupBytes(key(keys[17]!.replace("prod", "prox")))).toBe(CACHE_MISS);
    expect(c.lookupBytes(key(keys[17]!.slice(0, -3) + 'zz"}'))).toBe(CACHE_MISS);
    c.destroy();
  });

  test("after evicting most keys, compaction front-codes the survivors anew and finds them all", () => {
    const keys = bucketKeys(6000);
    const c = new ScrapeCache(core);
    c.beginScrape();
    keys.forEach((k, i) => c.insertBytes(key(k), i));
    c.beginScrape();
    keys.forEach((k, i) => i % 7 === 0 && c.lookupBytes(key(k)));
    const before = c.keyBytes;
    c.evict(1);
    expect(c.keyBytes).toBeLessThan(before);
    expect(c.count).toBe(Math.ceil(6000 / 7));
    c.testHooks({ predict: false });
    keys.forEach((k, i) => expect(c.lookupBytes(key(k))).toBe(i % 7 === 0 ? i : CACHE_MISS));
    c.destroy();
  });
});
