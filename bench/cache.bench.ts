/**
 * Scrape cache benchmark: 1M series in one target's cache.
 *
 *   node_modules/.bin/bun bench/cache.bench.ts [series]
 *
 * Keys: the sample lines of shared/testdata/real-exporters/node-exporter.prom with an extra
 * `shard="N"` label, replicated until there are 1M (≈ 60 B each), laid out as a scrape body
 * in WASM memory with start/end offsets, the way the parser hands them over. Measured:
 *   insert       — cacheInsert per key from JS (table grows from empty)
 *   batch hits   — beginScrape + one cacheLookupBatch over all keys in scrape order (the
 *                  order of the previous scrape, so the scrape-order prediction hits)
 *   batch, 1% churn — alternating between the full body and one with every 100th series
 *                  missing: each gap costs a hashed lookup and relearns the order
 *   batch hits, shuffled — the same over a shuffled order (every prediction misses: the
 *                  cost of the hash table itself)
 *   single hits  — one JS→WASM cacheLookup call per key, scrape order
 *   evict + listUnseen on a full scrape (nothing to do: the fast path)
 * Each figure is the median of 5 runs after a warm-up, timed with Bun.nanoseconds().
 */
import { resolve } from "node:path";
import { ScrapeCache } from "../wasm/cache.ts";
import { createCore } from "../wasm/index.ts";
import { timeNs } from "./timing.ts";
import { TESTDATA_DIR } from "../test/support/testdata.ts";

const N = Number(process.argv[2] ?? 1_000_000);
const file = resolve(TESTDATA_DIR, "real-exporters/node-exporter.prom");
const base = (await Bun.file(file).text())
  .split("\n")
  .filter((l) => l !== "" && !l.startsWith("#"))
  .map((l) => l.slice(0, l.lastIndexOf(" ")));

const rate = (n: number, ns: number) => `${(n / (ns / 1e9) / 1e6).toFixed(2)} M/s (${(ns / n).toFixed(0)} ns/key)`;

const core = await createCore();
const x = core.exports;
const enc = new TextEncoder();

// The "scrape body": keys separated by " 1\n", with starts/ends as the parser would emit them.
const keys: Uint8Array[] = [];
for (let i = 0; keys.length < N; i++) {
  const k = base[i % base.length]!;
  const shard = `shard="${Math.floor(i / base.length)}"`;
  const withLabel = k.includes("{") ? k.replace("{", `{${shard},`) : `${k}{${shard}}`;
  keys.push(enc.encode(withLabel));
}
const bodyLen = keys.reduce((a, k) => a + k.length + 3, 0);
const body = x.alloc(bodyLen);
const starts = x.alloc(N * 4);
const ends = x.alloc(N * 4);
const gapStarts = x.alloc(N * 4);
const gapEnds = x.alloc(N * 4);
let gapN = 0;
const shStarts = x.alloc(N * 4);
const shEnds = x.alloc(N * 4);
const refs = x.alloc(N * 4);
{
  const v = core.views();
  let off = 0;
  keys.forEach((k, i) => {
    v.u8.set(k, body + off);
    v.u32[(starts >>> 2) + i] = off;
    v.u32[(ends >>> 2) + i] = off + k.length;
    off += k.length;
    v.u8.set([32, 49, 10], body + off);
    off += 3;
  });
  for (let i = 0; i < N; i++) {
    if (i % 100 === 50) continue;
    v.u32[(gapStarts >>> 2) + gapN] = v.u32[(starts >>> 2) + i]!;
    v.u32[(gapEnds >>> 2) + gapN] = v.u32[(ends >>> 2) + i]!;
    gapN++;
  }
  // A shuffled copy of the offsets (Fisher–Yates with a fixed LCG).
  const perm = Uint32Array.from({ length: N }, (_, i) => i);
  let s = 12345;
  for (let i = N - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  for (let i = 0; i < N; i++) {
    v.u32[(shStarts >>> 2) + i] = v.u32[(starts >>> 2) + perm[i]!]!;
    v.u32[(shEnds >>> 2) + i] = v.u32[(ends >>> 2) + perm[i]!]!;
  }
}
const avgLen = (bodyLen / N - 3).toFixed(1);
console.log(`${N} keys, ${avgLen} bytes on average, from ${base.length} node-exporter series × shards`);

let cache = new ScrapeCache(core);
const insertNs = timeNs(() => {
  cache.destroy();
  cache = new ScrapeCache(core);
  cache.beginScrape();
  const v = core.views().u32;
  for (let i = 0; i < N; i++) {
    const st = v[(starts >>> 2) + i]!;
    cache.insert(body + st, v[(ends >>> 2) + i]! - st, i);
  }
}, 5);
console.log(`insert (from empty, growth included):   ${rate(N, insertNs)}`);
console.log(
  `memory: ${cache.capacity} slots × 8 B = ${((cache.capacity * 8) / 2 ** 20).toFixed(0)} MiB, records (24 B header + front-coded key) ${(cache.keyBytes / 2 ** 20).toFixed(0)} MiB: ${((cache.capacity * 8 + cache.keyBytes) / N).toFixed(0)} B per series`,
);

let misses = 0;
const hitNs = timeNs(() => {
  cache.beginScrape();
  misses += cache.lookupBatch(body, starts, ends, N, refs);
}, 5);
console.log(`batch lookup, hits in scrape order:      ${rate(N, hitNs)}`);
let flip = false;
const churnNs = timeNs(() => {
  cache.beginScrape();
  flip = !flip;
  misses += flip ? cache.lookupBatch(body, gapStarts, gapEnds, gapN, refs) : cache.lookupBatch(body, starts, ends, N, refs);
}, 5);
console.log(`batch lookup, scrape order, 1% churn:    ${rate((N + gapN) / 2, churnNs)}`);
const shNs = timeNs(() => {
  cache.beginScrape();
  misses += cache.lookupBatch(body, shStarts, shEnds, N, refs);
}, 5);
console.log(`batch lookup, hits in shuffled order:    ${rate(N, shNs)}`);
const singleNs = timeNs(() => {
  cache.beginScrape();
  const v = core.views().u32;
  for (let i = 0; i < N; i++) {
    const st = v[(starts >>> 2) + i]!;
    if (cache.lookup(body + st, v[(ends >>> 2) + i]! - st) < 0) misses++;
  }
}, 5);
console.log(`single lookup per key, scrape order:     ${rate(N, singleNs)}`);
const out = x.alloc(N * 4);
const tailNs = timeNs(() => {
  cache.listUnseen(out);
  cache.evict(1);
}, 5);
console.log(`listUnseen + evict(1) after a full scrape: ${(tailNs / 1e6).toFixed(3)} ms`);
cache.beginScrape();
cache.lookupBatch(body, starts, ends, N - 1000, refs);
const t0 = Bun.nanoseconds();
const stale = cache.listUnseen(out);
const t1 = Bun.nanoseconds();
const evicted = cache.evict(1);
const t2 = Bun.nanoseconds();
console.log(
  `listUnseen with 1000 gone: ${((t1 - t0) / 1e6).toFixed(2)} ms (${stale} refs); evict(1): ${((t2 - t1) / 1e6).toFixed(2)} ms (${evicted} entries)`,
);
if (misses !== 0) throw new Error(`${misses} unexpected misses`);
cache.destroy();
