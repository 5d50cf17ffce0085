/**
 * Typed bindings for the scrape cache in wasm/assembly/cache.ts: one per target, keyed by
 * the raw exposed series bytes, mapping to a series ref (below 2^31) or CACHE_DROPPED.
 *
 * The hot path is lookupBatch(): the parser leaves the scrape body in WASM memory with the
 * start/end offset of every series, and one call resolves them all into an i32 array of
 * refs (CACHE_MISS for misses) with no JS object per sample. JS then handles the misses
 * (labels, relabeling, storage) and insert()s the results. A series exposed in the same
 * place as last scrape is found by one byte compare against the predicted entry, without
 * hashing (see wasm/assembly/cache.ts).
 *
 * Per scrape: beginScrape(); lookups and inserts; listUnseen() for stale markers; after a
 * successful scrape evict(1), as Prometheus flushes entries the scrape did not see.
 *
 * @example
 * const cache = new ScrapeCache(await core());
 * cache.beginScrape();
 * const misses = cache.lookupBatch(bodyPtr, startsPtr, endsPtr, n, refsPtr);
 * // … resolve the misses, cache.insert(bodyPtr + start, end - start, ref) …
 * const stale = cache.unseenRefs(); // write StaleNaN for these
 * cache.evict(1);
 */
import {
  CACHE_H_DUPS,
  CACHE_H_EPOCH,
  CACHE_H_LAST_DUPS,
  CACHE_H_SEEN,
} from "./assembly/abi.ts";
import type { Core } from "./index.ts";

export {
  CACHE_DROPPED,
  CACHE_INSERT_DUPLICATE,
  CACHE_INSERT_NEW,
  CACHE_INSERT_UPDATED,
  CACHE_MISS,
} from "./assembly/abi.ts";

interface CacheExports {
  cacheNew(expected: number): number;
  cacheFree(c: number): void;
  cacheLookup(c: number, p: number, len: number): number;
  cacheInsert(c: number, p: number, len: number, ref: number): number;
  cacheLookupBatch(c: number, buf: number, starts: number, ends: number, n: number, refsOut: number, dupsOut: number): number;
  cacheBeginScrape(c: number): number;
  cacheListUnseen(c: number, out: number): number;
  cacheEvict(c: number, maxAge: number): number;
  cacheCount(c: number): number;
  cacheCapacity(c: number): number;
  cacheKeyBytes(c: number): number;
  cacheTestHooks(c: number, forceHash: number, h32: number, predict: number): void;
  hash64Into(p: number, len: number, out: number): void;
  alloc(size: number): number;
  free(ptr: number, size: number): void;
}

/** A growable scratch block in WASM memory. */
class Scratch {
  ptr = 0;
  size = 0;
  constructor(readonly x: CacheExports) {}
  ensure(n: number): number {
    if (n > this.size) {
      if (this.size > 0) this.x.free(this.ptr, this.size);
      this.size = Math.max(n, 64, this.size * 2);
      this.ptr = this.x.alloc(this.size);
    }
    return this.ptr;
  }
  release(): void {
    if (this.size > 0) this.x.free(this.ptr, this.size);
    this.size = 0;
  }
}

/**
 * The refs of one batch lookup, read through the core's current memory (inserts made while
 * walking the batch may grow memory). No object is created per sample.
 */
export class BatchLookup {
  #ptr = 0;
  #dups: Set<number> | null = null;
  #dupCount = 0;
  count = 0;
  /** Series not in the cache: CACHE_MISS refs. */
  misses = 0;

  constructor(private readonly core: Core) {}

  reset(ptr: number, count: number, misses: number, duplicates: number): void {
    this.#ptr = ptr;
    this.count = count;
    this.misses = misses;
    this.#dupCount = duplicates;
    this.#dups = null;
  }

  /** The ref of series i: a storage ref, CACHE_MISS or CACHE_DROPPED. */
  ref(i: number): number {
    return this.core.views().i32[(this.#ptr >>> 2) + i]!;
  }

  /** True when series i was already seen earlier in this scrape. */
  isDuplicate(i: number): boolean {
    if (this.#dupCount === 0) return false;
    if (this.#dups === null) {
      const base = (this.#ptr >>> 2) + this.count;
      this.#dups = new Set(this.core.views().i32.subarray(base, base + this.#dupCount));
    }
    return this.#dups.has(i);
  }
}

export class ScrapeCache {
  readonly #core: Core;
  readonly #x: CacheExports;
  readonly #keys: Scratch;
  readonly #out: Scratch;
  readonly #batchOut: Scratch;
  readonly #batch: BatchLookup;
  #c: number;

  /** Creates an empty cache sized for about `expected` series. May grow memory. */
  constructor(core: Core, expected = 0) {
    this.#core = core;
    this.#x = core.exports as unknown as CacheExports;
    this.#keys = new Scratch(this.#x);
    this.#out = new Scratch(this.#x);
    this.#batchOut = new Scratch(this.#x);
    this.#batch = new BatchLookup(core);
    this.#c = this.#x.cacheNew(expected);
  }

  /** The cache's pointer in WASM memory. */
  get handle(): number {
    return this.#c;
  }

  /** Starts a scrape (a new epoch); returns the epoch number. */
  beginScrape(): number {
    return this.#x.cacheBeginScrape(this.#c);
  }

  /** Looks up key bytes already in WASM memory: a ref, CACHE_DROPPED or CACHE_MISS. */
  lookup(ptr: number, len: number): number {
    return this.#x.cacheLookup(this.#c, ptr, len);
  }

  /** Inserts or updates key bytes in WASM memory; returns a CACHE_INSERT_* status. May grow memory. */
  insert(ptr: number, len: number, ref: number): number {
    if (!(ref >= 0 && ref < 2 ** 31) && ref !== -2) {
      throw new RangeError(`Cannot cache series ref ${ref}: refs are integers in [0, 2^31) or CACHE_DROPPED`);
    }
    return this.#x.cacheInsert(this.#c, ptr, len, ref);
  }

  /** lookup() for key bytes held in JS (copied into WASM memory first). */
  lookupBytes(key: Uint8Array): number {
    const p = this.#keys.ensure(key.length);
    this.#core.views().u8.set(key, p);
    return this.lookup(p, key.length);
  }

  /** insert() for key bytes held in JS. May grow memory. */
  insertBytes(key: Uint8Array, ref: number): number {
    const p = this.#keys.ensure(key.length);
    this.#core.views().u8.set(key, p);
    return this.insert(p, key.length, ref);
  }

  /**
   * Resolves n keys [buf + starts[i], buf + ends[i]) into refsOut[i] (i32 arrays at the
   * given pointers; starts/ends are u32). Indices of keys already seen in this scrape go to
   * dupsOut when it is not 0 (see lastDuplicates). Returns the number of misses.
   */
  lookupBatch(buf: number, startsPtr: number, endsPtr: number, n: number, refsOutPtr: number, dupsOutPtr = 0): number {
    return this.#x.cacheLookupBatch(this.#c, buf, startsPtr, endsPtr, n, refsOutPtr, dupsOutPtr);
  }

  /**
   * lookupBatch() over the parser's series ranges, which are absolute addresses
   * (wasm/parser.ts seriesStart/seriesEnd arrays: pass their byteOffsets).
   */
  lookupSeries(startsPtr: number, endsPtr: number, n: number, refsOutPtr: number, dupsOutPtr = 0): number {
    return this.#x.cacheLookupBatch(this.#c, 0, startsPtr, endsPtr, n, refsOutPtr, dupsOutPtr);
  }

  /**
   * Resolves every series of a parse result in one call (see BatchLookup). The result is
   * owned by the cache and reused: valid until the next lookupParsed().
   */
  lookupParsed(parsed: { count: number; seriesStart: Uint32Array; seriesEnd: Uint32Array }): BatchLookup {
    const n = parsed.count;
    const p = this.#batchOut.ensure(Math.max(n, 1) * 8);
    const misses = this.#x.cacheLookupBatch(this.#c, 0, parsed.seriesStart.byteOffset, parsed.seriesEnd.byteOffset, n, p, p + n * 4);
    this.#batch.reset(p, n, misses, this.lastDuplicates);
    return this.#batch;
  }

  /** Duplicates reported by the last lookup, insert or batch lookup. */
  get lastDuplicates(): number {
    return this.#u32(CACHE_H_LAST_DUPS);
  }

  /** Refs seen last scrape but not in this one (dropped entries excluded), as a copy. */
  unseenRefs(): Int32Array {
    const p = this.#out.ensure(Math.max(this.count, 1) * 4);
    const n = this.#x.cacheListUnseen(this.#c, p);
    return this.#core.views().i32.slice(p >>> 2, (p >>> 2) + n);
  }

  /** listUnseen into an i32 array in WASM memory with room for `count` refs. */
  listUnseen(outPtr: number): number {
    return this.#x.cacheListUnseen(this.#c, outPtr);
  }

  /** Deletes entries not seen in the last maxAge scrapes (1: not seen in this one). */
  evict(maxAge = 1): number {
    return this.#x.cacheEvict(this.#c, maxAge);
  }

  get count(): number {
    return this.#x.cacheCount(this.#c);
  }

  get capacity(): number {
    return this.#x.cacheCapacity(this.#c);
  }

  get keyBytes(): number {
    return this.#x.cacheKeyBytes(this.#c);
  }

  get epoch(): number {
    return this.#u32(CACHE_H_EPOCH);
  }

  /** Distinct entries seen in the current scrape. */
  get seen(): number {
    return this.#u32(CACHE_H_SEEN);
  }

  /** Duplicate series (keys seen twice) in the current scrape. */
  get duplicates(): number {
    return this.#u32(CACHE_H_DUPS);
  }

  /**
   * Test hooks: `forceHash` makes every key hash to that value (set it on an empty cache),
   * forcing collisions; `predict: false` turns off the scrape-order prediction so every
   * lookup hashes and probes.
   */
  testHooks(hooks: { forceHash?: number; predict?: boolean }): void {
    this.#x.cacheTestHooks(this.#c, hooks.forceHash === undefined ? 0 : 1, hooks.forceHash ?? 0, hooks.predict === false ? 0 : 1);
  }

  /** Frees the cache; its memory goes back to the allocator. */
  destroy(): void {
    if (this.#c === 0) return;
    this.#x.cacheFree(this.#c);
    this.#keys.release();
    this.#out.release();
    this.#batchOut.release();
    this.#c = 0;
  }

  #u32(field: number): number {
    return this.#core.views().u32[(this.#c + field) >>> 2]!;
  }
}

/** XXH64 of bytes in WASM memory, as a bigint (for tests and tools; the cache hashes inside WASM). */
export function hash64(core: Core, ptr: number, len: number): bigint {
  const x = core.exports as unknown as CacheExports;
  const out = x.alloc(8);
  x.hash64Into(ptr, len, out);
  const h = core.views().dv.getBigUint64(out, true);
  x.free(out, 8);
  return h;
}
