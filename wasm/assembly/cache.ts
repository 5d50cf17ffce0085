// The scrape cache: one open-addressing hash table per target, keyed by the raw exposed
// series bytes, mapping to a series ref or DROPPED, with a per-scrape epoch for staleness
// and eviction. All memory comes from alloc()/free(), so a destroyed cache's memory is
// reused by the next one.
//
// Layout
//   header   64 bytes (offsets below; the ones JS may read are CACHE_H_* in abi.ts)
//   slots    capacity × 8 bytes, linear probing, capacity a power of two, load ≤ 0.7:
//              +0 h32  low 32 bits of the key's 64-bit hash (XXH64); the home slot is
//                      h32 & mask, so growth and deletion never touch the key records
//              +4 rec  pointer to the key record, 0 = empty slot
//   records  bump-allocated in 64 KiB pages, in insertion order:
//              +0 h32, +4 key length (bit 31 set once deleted), +8 ref, +12 epoch last seen,
//              +16 next: the record looked up right after this one last time, or 0
//              +20 shared u16: leading key bytes equal to the record before it in the page
//              +22 back u16: byte offset from this page's last restart record to this one
//              +24 the key bytes after the shared ones, padded to 4
//            Keys are front-coded: one scrape's series are inserted in exposition order and
//            neighbours share most of their bytes (`…_bucket{…,le="` differs only in the
//            bound), so a record usually stores a few dozen bytes, not the whole key. Every
//            RESTART-th record of a page (and its first) stores its key whole; any key is
//            rebuilt from its restart record in at most RESTART − 1 steps. Lookups in scrape
//            order never rebuild: the cache keeps the whole key of the last record it matched
//            (its successor's shared bytes are a prefix of it).
//            Deleted records stay (marked) until dead bytes exceed live bytes and one page;
//            then the live ones are copied, in order, into fresh pages (and front-coded again).
//
// Scrape-order prediction. Targets expose their series in the same order every scrape, so
// each record remembers its successor in the last scrape (`next`). A lookup first compares
// the key with the predicted record (the successor of the previous hit): on a match it is
// a hit without hashing or touching the slot table, and it reads records sequentially. On
// a mismatch it hashes and probes, and the chain relearns the new order. A prediction is
// only a hint: a match is an exact byte compare with a live record, so it is the same
// answer the table would give (keys are unique among live records).
//
// Deletion is backward-shift (no tombstones), so probe chains stay short after evictions.
import { alloc, allocZeroed, free } from "./alloc";
import {
  CACHE_DROPPED,
  CACHE_H_COUNT,
  CACHE_H_DUPS,
  CACHE_H_EPOCH,
  CACHE_H_LAST_DUPS,
  CACHE_H_SEEN,
  CACHE_HEADER_SIZE,
  CACHE_INSERT_DUPLICATE,
  CACHE_INSERT_NEW,
  CACHE_INSERT_UPDATED,
  CACHE_MISS,
} from "./abi";
import { hash64 } from "./hash";

// Private header fields.
const H_SLOTS: usize = 0;
const H_CAP: usize = 4;
const H_GROW_AT: usize = 28;
const H_PAGES: usize = 32; // newest page first
const H_LIVE_BYTES: usize = 36;
const H_DEAD_BYTES: usize = 40;
const H_FLAGS: usize = 44; // test hooks: FLAG_FORCE_HASH, FLAG_NO_PREDICT
const H_FORCE_HASH: usize = 48;
const H_PREV: usize = 52; // record of the previous hit or insert in this scrape
const H_PRED: usize = 56; // predicted record for the next lookup
const H_FIRST: usize = 60; // first record hit or inserted in this scrape
// The whole key of one record, kept to front-code against it: the last record matched (KEY)
// and the last record of the current page (TAIL). Buffers of *_CAP bytes, 0 = none.
const H_KEY_REC: usize = 64;
const H_KEY_BUF: usize = 68;
const H_KEY_CAP: usize = 72;
const H_TAIL_REC: usize = 76;
const H_TAIL_BUF: usize = 80;
const H_TAIL_CAP: usize = 84;
const HEADER_BYTES: usize = 96;

const FLAG_FORCE_HASH: u32 = 1;
const FLAG_NO_PREDICT: u32 = 2;

const SLOT: usize = 8;
const S_H32: usize = 0;
const S_REC: usize = 4;

const R_H32: usize = 0;
const R_LEN: usize = 4;
const R_REF: usize = 8;
const R_SEEN: usize = 12;
const R_NEXT: usize = 16;
const R_SHARED: usize = 20;
const R_BACK: usize = 22;
const R_KEY: usize = 24;
const R_HEADER: u32 = 24;
/** Every RESTART-th record of a page stores its whole key. */
const RESTART: u32 = 16;

const PAGE_SIZE: u32 = 65536;
const PG_NEXT: usize = 0;
const PG_CAP: usize = 4;
const PG_USED: usize = 8;
const PG_RECORDS: usize = 12; // records in the page
const PG_HEADER: u32 = 16;
const DEAD: u32 = 0x80000000;

const MIN_CAP: u32 = 16;

/** Bytes of a record storing `stored` key bytes. */
// @ts-ignore: decorator
@inline function recordSize(stored: u32): u32 {
  return R_HEADER + ((stored + 3) & ~3);
}

// @ts-ignore: decorator
@inline function keyLen(rec: usize): u32 {
  return load<u32>(rec + R_LEN) & ~DEAD;
}

// @ts-ignore: decorator
@inline function storedLen(rec: usize): u32 {
  return keyLen(rec) - <u32>load<u16>(rec + R_SHARED);
}

// @ts-ignore: decorator
@inline function sizeOf(rec: usize): u32 {
  return recordSize(storedLen(rec));
}

/** Makes the buffer at header field `bufField` (capacity at `capField`) hold at least n bytes; returns it. */
function ensureBuf(c: usize, bufField: usize, capField: usize, n: u32): usize {
  const cap = load<u32>(c + capField);
  if (cap >= n && cap != 0) return <usize>load<u32>(c + bufField);
  const ncap = max<u32>(max<u32>(n, 256), cap << 1);
  const b = alloc(<usize>ncap);
  const old = <usize>load<u32>(c + bufField);
  if (old != 0) free(old, <usize>cap);
  store<u32>(c + bufField, <u32>b);
  store<u32>(c + capField, ncap);
  return b;
}

// The rebuilt key of the last rebuildKey() call.
let rebuilt: usize = 0;
let rebuiltCap: usize = 0;

/** Rebuilds the whole key of `rec` into `rebuilt` (from its page's restart record). */
function rebuildKey(rec: usize): usize {
  const len = <usize>keyLen(rec);
  if (len > rebuiltCap) {
    if (rebuilt != 0) free(rebuilt, rebuiltCap);
    rebuiltCap = max<usize>(len, 512);
    rebuilt = alloc(rebuiltCap);
  }
  let r = rec - <usize>load<u16>(rec + R_BACK);
  // Forward from the restart record: each record replaces the bytes after its shared ones.
  while (true) {
    const shared = <usize>load<u16>(r + R_SHARED);
    const stored = <usize>storedLen(r);
    // Bytes past `len` are never needed (a longer neighbour's tail): copy what fits.
    if (shared < rebuiltCap) memory.copy(rebuilt + shared, r + R_KEY, min<usize>(stored, rebuiltCap - shared));
    if (r == rec) break;
    r += <usize>recordSize(<u32>stored);
  }
  return rebuilt;
}

/** The length of the common prefix of [a, a+la) and [b, b+lb), at most 65535. */
function commonPrefix(a: usize, la: u32, b: usize, lb: u32): u32 {
  const n = min<u32>(min<u32>(la, lb), 0xffff);
  let i: u32 = 0;
  while (i + 8 <= n && load<u64>(a + <usize>i) == load<u64>(b + <usize>i)) i += 8;
  while (i < n && load<u8>(a + <usize>i) == load<u8>(b + <usize>i)) i++;
  return i;
}

// @ts-ignore: decorator
@inline function bytesEqual(a: usize, b: usize, n: usize): bool {
  while (n >= 8) {
    if (load<u64>(a) != load<u64>(b)) return false;
    a += 8;
    b += 8;
    n -= 8;
  }
  while (n > 0) {
    if (load<u8>(a) != load<u8>(b)) return false;
    a++;
    b++;
    n--;
  }
  return true;
}

// @ts-ignore: decorator
@inline function growAt(cap: u32): u32 {
  return <u32>((<u64>cap * 7) / 10);
}

// @ts-ignore: decorator
@inline function slotAt(slots: usize, i: u32): usize {
  return slots + <usize>i * SLOT;
}

/** Creates a cache sized for about `expected` entries (it grows as needed). */
export function cacheNew(expected: i32): usize {
  let cap = MIN_CAP;
  while (growAt(cap) < <u32>max(expected, 0)) cap <<= 1;
  const c = allocZeroed(HEADER_BYTES);
  store<u32>(c + H_SLOTS, <u32>allocZeroed(<usize>cap * SLOT));
  store<u32>(c + H_CAP, cap);
  store<u32>(c + H_GROW_AT, growAt(cap));
  return c;
}

/** Frees the cache, its slots and its key pages. */
export function cacheFree(c: usize): void {
  if (c == 0) return;
  freePages(<usize>load<u32>(c + H_PAGES));
  free(<usize>load<u32>(c + H_SLOTS), <usize>load<u32>(c + H_CAP) * SLOT);
  free(<usize>load<u32>(c + H_KEY_BUF), <usize>load<u32>(c + H_KEY_CAP));
  free(<usize>load<u32>(c + H_TAIL_BUF), <usize>load<u32>(c + H_TAIL_CAP));
  free(c, HEADER_BYTES);
}

function freePages(p: usize): void {
  while (p != 0) {
    const next = <usize>load<u32>(p + PG_NEXT);
    free(p, <usize>load<u32>(p + PG_CAP));
    p = next;
  }
}

// ---- key records --------------------------------------------------------------------------

/**
 * Appends a record for the `len` key bytes at `p`, front-coded against the last record of
 * the current page; fills shared, back and the key bytes (the caller sets the rest).
 */
function appendRecord(c: usize, p: usize, len: u32): usize {
  let page = <usize>load<u32>(c + H_PAGES);
  if (recordSize(len) + PG_HEADER > PAGE_SIZE) {
    // A key larger than a page gets a page of its own, linked behind the current one so
    // the current page keeps filling (and its tail stays the one to front-code against).
    const cap = recordSize(len) + PG_HEADER;
    const own = alloc(<usize>cap);
    store<u32>(own + PG_CAP, cap);
    store<u32>(own + PG_USED, cap);
    store<u32>(own + PG_RECORDS, 1);
    if (page == 0) {
      store<u32>(own + PG_NEXT, 0);
      store<u32>(c + H_PAGES, <u32>own);
    } else {
      store<u32>(own + PG_NEXT, load<u32>(page + PG_NEXT));
      store<u32>(page + PG_NEXT, <u32>own);
    }
    const rec = own + PG_HEADER;
    store<u16>(rec + R_SHARED, 0);
    store<u16>(rec + R_BACK, 0);
    memory.copy(rec + R_KEY, p, <usize>len);
    store<u32>(rec + R_LEN, len);
    return rec;
  }
  const tail = <usize>load<u32>(c + H_TAIL_REC);
  let shared: u32 = 0;
  let restart = true;
  if (page != 0 && tail != 0 && load<u32>(page + PG_RECORDS) % RESTART != 0) {
    shared = commonPrefix(p, len, <usize>load<u32>(c + H_TAIL_BUF), keyLen(tail));
    restart = false;
  }
  if (page == 0 || load<u32>(page + PG_USED) + recordSize(len - shared) > load<u32>(page + PG_CAP)) {
    const fresh = alloc(PAGE_SIZE);
    store<u32>(fresh + PG_NEXT, <u32>page);
    store<u32>(fresh + PG_CAP, PAGE_SIZE);
    store<u32>(fresh + PG_USED, PG_HEADER);
    store<u32>(fresh + PG_RECORDS, 0);
    store<u32>(c + H_PAGES, <u32>fresh);
    page = fresh;
    shared = 0;
    restart = true;
  }
  const used = load<u32>(page + PG_USED);
  const rec = page + <usize>used;
  store<u32>(page + PG_USED, used + recordSize(len - shared));
  store<u32>(page + PG_RECORDS, load<u32>(page + PG_RECORDS) + 1);
  store<u16>(rec + R_SHARED, <u16>shared);
  store<u16>(rec + R_BACK, restart ? 0 : <u16>(rec - (tail - <usize>load<u16>(tail + R_BACK))));
  memory.copy(rec + R_KEY, p + <usize>shared, <usize>(len - shared));
  store<u32>(rec + R_LEN, len);
  // The new tail: keep its whole key.
  const tb = ensureBuf(c, H_TAIL_BUF, H_TAIL_CAP, len);
  memory.copy(tb, p, <usize>len);
  store<u32>(c + H_TAIL_REC, <u32>rec);
  return rec;
}

/** Whether record `rec` is live and holds exactly the `len` bytes at `p`. */
function keyEquals(c: usize, rec: usize, p: usize, len: u32): bool {
  if (load<u32>(rec + R_LEN) != len) return false; // a deleted record never matches
  const shared = <usize>load<u16>(rec + R_SHARED);
  // The stored bytes first: most mismatches show there, without rebuilding anything.
  if (!bytesEqual(rec + R_KEY, p + shared, <usize>len - shared)) return false;
  if (shared == 0) return true;
  // The shared bytes are a prefix of the previous record's key: the last matched one's, when
  // `rec` follows it in its page (lookups in scrape order), else rebuilt.
  const k = <usize>load<u32>(c + H_KEY_REC);
  const prev = k != 0 && load<u16>(rec + R_BACK) != 0 && k + <usize>sizeOf(k) == rec;
  const prefix = prev ? <usize>load<u32>(c + H_KEY_BUF) : rebuildKey(rec);
  return bytesEqual(prefix, p, shared);
}

/** Remembers `rec` (which holds the `len` bytes at `p`) as the last matched record. */
// @ts-ignore: decorator
@inline function rememberKey(c: usize, rec: usize, p: usize, len: u32): void {
  const b = ensureBuf(c, H_KEY_BUF, H_KEY_CAP, len);
  // After a match in scrape order only the bytes past the shared ones change.
  const k = <usize>load<u32>(c + H_KEY_REC);
  const from = k != 0 && load<u16>(rec + R_BACK) != 0 && k + <usize>sizeOf(k) == rec ? <usize>load<u16>(rec + R_SHARED) : 0;
  memory.copy(b + from, p + from, <usize>len - from);
  store<u32>(c + H_KEY_REC, <u32>rec);
}

// ---- probing -------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function hashOf(c: usize, p: usize, len: u32): u32 {
  if ((load<u32>(c + H_FLAGS) & FLAG_FORCE_HASH) != 0) return load<u32>(c + H_FORCE_HASH);
  return <u32>hash64(p, <usize>len);
}

// Where probe() stopped on a miss: the empty slot the key would go into.
let emptySlot: usize = 0;

/** The record holding the key, or 0 (then emptySlot is where it would go). */
// @ts-ignore: decorator
@inline function probe(c: usize, h32: u32, p: usize, len: u32): usize {
  const slots = <usize>load<u32>(c + H_SLOTS);
  const mask = load<u32>(c + H_CAP) - 1;
  let i = h32 & mask;
  while (true) {
    const s = slotAt(slots, i);
    const rec = <usize>load<u32>(s + S_REC);
    if (rec == 0) {
      emptySlot = s;
      return 0;
    }
    if (load<u32>(s + S_H32) == h32 && keyEquals(c, rec, p, len)) return rec;
    i = (i + 1) & mask;
  }
}

/** The predicted record when it holds the key, else 0. */
// @ts-ignore: decorator
@inline function predicted(c: usize, p: usize, len: u32): usize {
  const pred = <usize>load<u32>(c + H_PRED);
  if (pred != 0 && (load<u32>(c + H_FLAGS) & FLAG_NO_PREDICT) == 0 && keyEquals(c, pred, p, len)) return pred;
  return 0;
}

/** Records a hit or insert of `rec`: learns the order and predicts the next record. */
// @ts-ignore: decorator
@inline function follow(c: usize, rec: usize): void {
  const prev = <usize>load<u32>(c + H_PREV);
  if (prev == 0) store<u32>(c + H_FIRST, <u32>rec);
  else if (<usize>load<u32>(prev + R_NEXT) != rec) store<u32>(prev + R_NEXT, <u32>rec);
  store<u32>(c + H_PREV, <u32>rec);
  store<u32>(c + H_PRED, load<u32>(rec + R_NEXT));
}

/** Marks the record seen in this scrape; true when it already was (a duplicate series). */
// @ts-ignore: decorator
@inline function markSeen(c: usize, rec: usize): bool {
  const e = load<u32>(c + CACHE_H_EPOCH);
  if (load<u32>(rec + R_SEEN) == e) {
    store<u32>(c + CACHE_H_DUPS, load<u32>(c + CACHE_H_DUPS) + 1);
    return true;
  }
  store<u32>(rec + R_SEEN, e);
  store<u32>(c + CACHE_H_SEEN, load<u32>(c + CACHE_H_SEEN) + 1);
  return false;
}

function grow(c: usize): void {
  const old = <usize>load<u32>(c + H_SLOTS);
  const oldCap = load<u32>(c + H_CAP);
  const cap = oldCap << 1;
  const mask = cap - 1;
  const slots = allocZeroed(<usize>cap * SLOT);
  for (let k: u32 = 0; k < oldCap; k++) {
    const s = slotAt(old, k);
    if (load<u32>(s + S_REC) == 0) continue;
    let i = load<u32>(s + S_H32) & mask;
    while (load<u32>(slotAt(slots, i) + S_REC) != 0) i = (i + 1) & mask;
    store<u64>(slotAt(slots, i), load<u64>(s));
  }
  free(old, <usize>oldCap * SLOT);
  store<u32>(c + H_SLOTS, <u32>slots);
  store<u32>(c + H_CAP, cap);
  store<u32>(c + H_GROW_AT, growAt(cap));
}

// ---- lookups and inserts -------------------------------------------------------------------

/** One lookup: the record, or 0 for a miss. Hits are followed and marked seen. */
// @ts-ignore: decorator
@inline function lookupOne(c: usize, p: usize, len: u32): usize {
  let rec = predicted(c, p, len);
  if (rec == 0) rec = probe(c, hashOf(c, p, len), p, len);
  if (rec != 0) {
    follow(c, rec);
    rememberKey(c, rec, p, len);
  }
  return rec;
}

/**
 * Looks up `len` key bytes at `p`: returns the ref, CACHE_DROPPED or CACHE_MISS. A hit is
 * marked seen in the current scrape; CACHE_H_LAST_DUPS becomes 1 when it already was.
 */
export function cacheLookup(c: usize, p: usize, len: i32): i32 {
  const rec = lookupOne(c, p, <u32>len);
  if (rec == 0) {
    store<u32>(c + CACHE_H_LAST_DUPS, 0);
    return CACHE_MISS;
  }
  store<u32>(c + CACHE_H_LAST_DUPS, markSeen(c, rec) ? 1 : 0);
  return load<i32>(rec + R_REF);
}

/**
 * Inserts or updates a key (the bytes are copied into the cache) with `ref` (a series ref
 * below 2^31, or CACHE_DROPPED), marked seen in the current scrape. Returns
 * CACHE_INSERT_NEW, CACHE_INSERT_UPDATED (existed; ref replaced) or CACHE_INSERT_DUPLICATE
 * (existed and was already seen in this scrape; ref replaced). May grow memory.
 */
export function cacheInsert(c: usize, p: usize, len: i32, ref: i32): i32 {
  const l = <u32>len;
  if (load<u32>(c + CACHE_H_COUNT) + 1 > load<u32>(c + H_GROW_AT)) grow(c);
  const h32 = hashOf(c, p, l);
  let rec = probe(c, h32, p, l);
  if (rec != 0) {
    const dup = markSeen(c, rec);
    store<i32>(rec + R_REF, ref);
    follow(c, rec);
    rememberKey(c, rec, p, l);
    store<u32>(c + CACHE_H_LAST_DUPS, dup ? 1 : 0);
    return dup ? CACHE_INSERT_DUPLICATE : CACHE_INSERT_UPDATED;
  }
  const slot = emptySlot;
  rec = appendRecord(c, p, l);
  store<u32>(rec + R_H32, h32);
  store<i32>(rec + R_REF, ref);
  store<u32>(rec + R_SEEN, load<u32>(c + CACHE_H_EPOCH));
  store<u32>(rec + R_NEXT, 0);
  store<u32>(slot + S_H32, h32);
  store<u32>(slot + S_REC, <u32>rec);
  follow(c, rec);
  store<u32>(c + CACHE_H_COUNT, load<u32>(c + CACHE_H_COUNT) + 1);
  store<u32>(c + CACHE_H_SEEN, load<u32>(c + CACHE_H_SEEN) + 1);
  store<u32>(c + H_LIVE_BYTES, load<u32>(c + H_LIVE_BYTES) + sizeOf(rec));
  store<u32>(c + CACHE_H_LAST_DUPS, 0);
  return CACHE_INSERT_NEW;
}

/**
 * Looks up n keys given as byte ranges [starts[i], ends[i]) (u32 offsets from `buf`; the
 * parser's series ranges are absolute addresses, so it passes buf = 0) and
 * writes each ref, CACHE_DROPPED or CACHE_MISS to refsOut[i] (i32). Hits are marked seen.
 * When dupsOut is not 0, the indices of keys already seen in this scrape go there (u32,
 * room for n); their count goes to CACHE_H_LAST_DUPS. Returns the number of misses.
 */
export function cacheLookupBatch(c: usize, buf: usize, starts: usize, ends: usize, n: i32, refsOut: usize, dupsOut: usize): i32 {
  let misses = 0;
  let dups: u32 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const st = load<u32>(starts + o);
    const rec = lookupOne(c, buf + st, load<u32>(ends + o) - st);
    if (rec == 0) {
      store<i32>(refsOut + o, CACHE_MISS);
      misses++;
      continue;
    }
    if (markSeen(c, rec)) {
      if (dupsOut != 0) store<u32>(dupsOut + (<usize>dups << 2), <u32>i);
      dups++;
    }
    store<i32>(refsOut + o, load<i32>(rec + R_REF));
  }
  store<u32>(c + CACHE_H_LAST_DUPS, dups);
  return misses;
}

// ---- scrapes, staleness, eviction ---------------------------------------------------------

/** Starts a scrape: a new epoch in which every entry is unseen. Returns the epoch. */
export function cacheBeginScrape(c: usize): i32 {
  const e = load<u32>(c + CACHE_H_EPOCH) + 1;
  store<u32>(c + CACHE_H_EPOCH, e);
  store<u32>(c + CACHE_H_SEEN, 0);
  store<u32>(c + CACHE_H_DUPS, 0);
  // Predict that this scrape starts where the last one did.
  const first = load<u32>(c + H_FIRST);
  if (first != 0) store<u32>(c + H_PRED, first);
  store<u32>(c + H_PREV, 0);
  return <i32>e;
}

/** End of the records in page p. Pages are walked newest first; records in a page oldest first. */
// @ts-ignore: decorator
@inline function pageEnd(p: usize): usize {
  return p + <usize>load<u32>(p + PG_USED);
}

/**
 * Writes to `out` (i32 array with room for cacheCount() refs) the refs of the entries seen
 * in the previous scrape and not in this one, dropped entries excluded: the series that
 * need a stale marker now. Entries missing for longer got theirs already, so a target that
 * keeps failing gets markers once (Prometheus swaps its seen-sets the same way). Returns
 * how many were written.
 */
export function cacheListUnseen(c: usize, out: usize): i32 {
  const e = load<u32>(c + CACHE_H_EPOCH);
  if (e == 0 || load<u32>(c + CACHE_H_SEEN) == load<u32>(c + CACHE_H_COUNT)) return 0;
  const prev = e - 1;
  let n = 0;
  for (let p = <usize>load<u32>(c + H_PAGES); p != 0; p = <usize>load<u32>(p + PG_NEXT)) {
    const end = pageEnd(p);
    for (let r = p + PG_HEADER; r < end; ) {
      const len = load<u32>(r + R_LEN);
      if ((len & DEAD) == 0 && load<u32>(r + R_SEEN) == prev) {
        const ref = load<i32>(r + R_REF);
        if (ref != CACHE_DROPPED) {
          store<i32>(out + (<usize>n << 2), ref);
          n++;
        }
      }
      r += sizeOf(r);
    }
  }
  return n;
}

/**
 * Deletes the entries (dropped ones included) not seen in the last `maxAge` scrapes, the
 * current one included: maxAge 1 deletes everything not seen in this scrape, as Prometheus
 * does after a successful scrape. Call cacheListUnseen() first. Returns how many went.
 */
export function cacheEvict(c: usize, maxAge: i32): i32 {
  const age = <u32>max(maxAge, 1);
  const count = load<u32>(c + CACHE_H_COUNT);
  if (count == 0 || (age == 1 && load<u32>(c + CACHE_H_SEEN) == count)) return 0;
  const e = load<u32>(c + CACHE_H_EPOCH);
  let evicted = 0;
  for (let p = <usize>load<u32>(c + H_PAGES); p != 0; p = <usize>load<u32>(p + PG_NEXT)) {
    const end = pageEnd(p);
    for (let r = p + PG_HEADER; r < end; ) {
      const len = load<u32>(r + R_LEN);
      const size = sizeOf(r);
      if ((len & DEAD) == 0 && e - load<u32>(r + R_SEEN) >= age) {
        deleteRecord(c, r);
        evicted++;
      }
      r += size;
    }
  }
  if (load<u32>(c + H_DEAD_BYTES) > max(load<u32>(c + H_LIVE_BYTES), PAGE_SIZE)) compact(c);
  return evicted;
}

function deleteRecord(c: usize, rec: usize): void {
  const slots = <usize>load<u32>(c + H_SLOTS);
  const mask = load<u32>(c + H_CAP) - 1;
  const len = load<u32>(rec + R_LEN);
  let i = load<u32>(rec + R_H32) & mask;
  while (<usize>load<u32>(slotAt(slots, i) + S_REC) != rec) i = (i + 1) & mask;
  const size = sizeOf(rec);
  store<u32>(rec + R_LEN, len | DEAD);
  if (<usize>load<u32>(c + H_KEY_REC) == rec) store<u32>(c + H_KEY_REC, 0);
  store<u32>(c + H_LIVE_BYTES, load<u32>(c + H_LIVE_BYTES) - size);
  store<u32>(c + H_DEAD_BYTES, load<u32>(c + H_DEAD_BYTES) + size);
  store<u32>(c + CACHE_H_COUNT, load<u32>(c + CACHE_H_COUNT) - 1);
  if (load<u32>(rec + R_SEEN) == load<u32>(c + CACHE_H_EPOCH)) store<u32>(c + CACHE_H_SEEN, load<u32>(c + CACHE_H_SEEN) - 1);
  // Backward shift: pull later entries of the cluster into the hole when the hole lies on
  // their probe path (their home is not cyclically inside (hole, j]).
  let hole = i;
  let j = i;
  while (true) {
    j = (j + 1) & mask;
    const sj = slotAt(slots, j);
    if (load<u32>(sj + S_REC) == 0) break;
    const home = load<u32>(sj + S_H32) & mask;
    const homeInside = hole <= j ? home > hole && home <= j : home > hole || home <= j;
    if (!homeInside) {
      store<u64>(slotAt(slots, hole), load<u64>(sj));
      hole = j;
    }
  }
  store<u64>(slotAt(slots, hole), 0);
}

/**
 * Copies the live records into fresh pages, oldest first (so scrape order is kept), points
 * the slots and every order link at the copies, and frees the old pages.
 */
// The whole key of the record being visited by compact().
let running: usize = 0;
let runningCap: usize = 0;

function compact(c: usize): void {
  // Reverse the page list (newest first) so records are visited oldest first.
  let p = <usize>load<u32>(c + H_PAGES);
  let oldest: usize = 0;
  while (p != 0) {
    const next = <usize>load<u32>(p + PG_NEXT);
    store<u32>(p + PG_NEXT, <u32>oldest);
    oldest = p;
    p = next;
  }
  store<u32>(c + H_PAGES, 0);
  store<u32>(c + H_DEAD_BYTES, 0);
  store<u32>(c + H_TAIL_REC, 0);
  store<u32>(c + H_KEY_REC, 0);
  let live: u32 = 0;
  const slots = <usize>load<u32>(c + H_SLOTS);
  const mask = load<u32>(c + H_CAP) - 1;
  // Pass 1: rebuild every key in page order (dead records too: later ones share their
  // bytes), append the live ones front-coded anew; the old record's h32 field becomes the
  // forwarding address.
  for (p = oldest; p != 0; p = <usize>load<u32>(p + PG_NEXT)) {
    const end = pageEnd(p);
    for (let r = p + PG_HEADER; r < end; ) {
      const len = load<u32>(r + R_LEN);
      const klen = <usize>(len & ~DEAD);
      const shared = <usize>load<u16>(r + R_SHARED);
      if (klen > runningCap) {
        const bigger = alloc(max<usize>(klen, 512));
        if (running != 0) {
          memory.copy(bigger, running, runningCap);
          free(running, runningCap);
        }
        running = bigger;
        runningCap = max<usize>(klen, 512);
      }
      memory.copy(running + shared, r + R_KEY, klen - shared);
      const size = sizeOf(r);
      if ((len & DEAD) == 0) {
        const h32 = load<u32>(r + R_H32);
        const nr = appendRecord(c, running, <u32>klen);
        store<u32>(nr + R_H32, h32);
        store<i32>(nr + R_REF, load<i32>(r + R_REF));
        store<u32>(nr + R_SEEN, load<u32>(r + R_SEEN));
        store<u32>(nr + R_NEXT, load<u32>(r + R_NEXT));
        live += sizeOf(nr);
        let i = h32 & mask;
        while (<usize>load<u32>(slotAt(slots, i) + S_REC) != r) i = (i + 1) & mask;
        store<u32>(slotAt(slots, i) + S_REC, <u32>nr);
        store<u32>(r + R_H32, <u32>nr);
      }
      r += size;
    }
  }
  store<u32>(c + H_LIVE_BYTES, live);
  // Pass 2: order links into the old pages follow the forwarding addresses (dead: 0).
  for (let q = <usize>load<u32>(c + H_PAGES); q != 0; q = <usize>load<u32>(q + PG_NEXT)) {
    const end = pageEnd(q);
    for (let r = q + PG_HEADER; r < end; r += sizeOf(r)) {
      store<u32>(r + R_NEXT, forward(<usize>load<u32>(r + R_NEXT)));
    }
  }
  store<u32>(c + H_PREV, forward(<usize>load<u32>(c + H_PREV)));
  store<u32>(c + H_PRED, forward(<usize>load<u32>(c + H_PRED)));
  store<u32>(c + H_FIRST, forward(<usize>load<u32>(c + H_FIRST)));
  freePages(oldest);
}

// @ts-ignore: decorator
@inline function forward(old: usize): u32 {
  if (old == 0 || (load<u32>(old + R_LEN) & DEAD) != 0) return 0;
  return load<u32>(old + R_H32);
}

// ---- stats and test hooks ------------------------------------------------------------------

export function cacheCount(c: usize): i32 {
  return <i32>load<u32>(c + CACHE_H_COUNT);
}

export function cacheCapacity(c: usize): i32 {
  return <i32>load<u32>(c + H_CAP);
}

/** Bytes held for key records: live and dead (awaiting compaction). */
export function cacheKeyBytes(c: usize): i32 {
  return <i32>(load<u32>(c + H_LIVE_BYTES) + load<u32>(c + H_DEAD_BYTES));
}

/**
 * Test hooks. forceHash = 1: every key hashes to h32, so all keys collide (set it on an
 * empty cache). predict = 0: lookups skip the scrape-order prediction and always probe.
 */
export function cacheTestHooks(c: usize, forceHash: i32, h32: u32, predict: i32): void {
  store<u32>(c + H_FLAGS, (forceHash != 0 ? FLAG_FORCE_HASH : 0) | (predict == 0 ? FLAG_NO_PREDICT : 0));
  store<u32>(c + H_FORCE_HASH, h32);
}
