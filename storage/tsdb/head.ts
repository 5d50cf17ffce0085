/**
 * The head: every series in memory with its open XOR chunk in WASM memory (spec: DESIGN.md
 * "Storage"). Appends are checked against each series' last committed sample (out of order,
 * duplicate, too far in the future); a commit hands the transaction to `persist` (the WAL)
 * first, then appends to the chunks, cutting a chunk at 120 samples or at a block boundary.
 * Cut chunks go to `onFullChunk` (the block store flush).
 *
 * Per series the head keeps dense typed arrays indexed by ref, so a cached series costs no
 * JS object per sample on the hot path.
 */
import { Labels } from "../../core/model/labels.ts";
import { XOR_ERR_OUT_OF_ORDER, XOR_ERR_DUPLICATE_TIMESTAMP } from "../../wasm/assembly/abi.ts";
import type { XorCodec } from "../../wasm/xor.ts";
import { compileMatchers } from "../matchers.ts";
import { AppendError, UnknownSeriesRefError, APPEND_DUPLICATE, APPEND_OUT_OF_BOUNDS, APPEND_OUT_OF_ORDER, MAX_FUTURE_MS, type Appender, type AppendRejection, type Exemplar, type ExemplarRejection, type Matcher, type Sample, type SeriesRef } from "../types.ts";
import { ExemplarStore } from "./exemplars.ts";
import { Postings, type PostingsDump } from "./postings.ts";
import { SeriesStore, type SeriesStoreDump } from "./series-store.ts";
import type { WalExemplar } from "./wal/index.ts";

export const CHUNK_SAMPLES = 120;
export const BLOCK_RANGE_MS = 2 * 3_600_000;

/** One transaction, as the WAL records it. */
export interface HeadTransaction {
  series: Array<{ ref: number; labels: Labels }>;
  count: number;
  refs: Uint32Array;
  ts: Float64Array;
  values: Float64Array;
  stale: Uint8Array;
  /** Exemplars of the transaction's series, stored when it is applied. */
  exemplars?: readonly WalExemplar[];
}

/** Everything the head holds, as arrays (Head.snapshot(), .restore()); refs index the per-ref arrays. */
export interface HeadSnapshot {
  /** One past the highest ref. */
  nextRef: number;
  minValidTime: number;
  series: SeriesStoreDump;
  postings: PostingsDump;
  chunkBlock: Int32Array;
  lastT: Float64Array;
  chunkSegment: Int32Array;
  lastV: Float64Array;
  lastStale: Uint8Array;
  /** The refs with an open chunk, ascending, and their chunks' handles in WASM memory. */
  chunkRefs: Uint32Array;
  chunks: Uint32Array;
  exemplars: WalExemplar[];
}

export interface FullChunk {
  ref: number;
  mint: number;
  maxt: number;
  count: number;
  data: Uint8Array;
}

export interface HeadOptions {
  codec: XorCodec;
  now?: () => number;
  /** Makes a transaction durable before it is applied (the WAL). */
  persist?: (tx: HeadTransaction) => Promise<void>;
  /** Receives each chunk the head cuts (for the block store). */
  onFullChunk?: (chunk: FullChunk) => void;
  chunkSamples?: number;
  blockRangeMs?: number;
  /** Called when a series gets a new open chunk, with the WAL segment its first sample is in. */
  onChunkCreated?: (ref: number, segment: number) => void;
  /** The WAL segment the next commit goes to (read before persisting: segments only grow). */
  walSegment?: () => number;
  /** Capacity of the exemplar storage (0, the default: exemplars are not stored). */
  maxExemplars?: number;
}

export interface HeadCounters {
  samplesAppended: number;
  outOfOrder: number;
  duplicates: number;
  outOfBounds: number;
  chunksCreated: number;
  chunksCut: number;
  seriesCreated: number;
}

const GROW = 2;

/** A copy of `a` with room for `n` entries; the new entries are `fill` (default 0). */
function grown<T extends Int32Array | Uint32Array | Float64Array | Uint8Array>(a: T, n: number, fill?: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  if (fill !== undefined) b.fill(fill);
  b.set(a);
  return b;
}

export class Head {
  #postings = new Postings(() => [...this.refs()]);
  readonly exemplars: ExemplarStore;
  readonly counters: HeadCounters = { samplesAppended: 0, outOfOrder: 0, duplicates: 0, outOfBounds: 0, chunksCreated: 0, chunksCut: 0, seriesCreated: 0 };
  readonly #codec: XorCodec;
  readonly #now: () => number;
  readonly #persist: (tx: HeadTransaction) => Promise<void>;
  readonly #onFullChunk: (chunk: FullChunk) => void;
  readonly #onChunkCreated: (ref: number, segment: number) => void;
  readonly walSegment: () => number;
  readonly #chunkSamples: number;
  readonly #blockRange: number;
  /** Every series' labels, as symbol ids (no JS object per series). */
  #series = new SeriesStore();
  #chunk = new Int32Array(1024);
  /** The block (first sample time ÷ block range) of each open chunk: it is cut at the block's end. */
  #chunkBlock = new Int32Array(1024);
  #lastT = new Float64Array(1024).fill(-Infinity);
  /** The WAL segment each open chunk's first sample was logged in (−1: unknown). */
  #chunkSegment = new Int32Array(1024).fill(-1);
  #lastV = new Float64Array(1024);
  #lastStale = new Uint8Array(1024);
  #nextRef = 1;
  /** Samples older than this belong to flushed blocks (out of bounds for the head). */
  minValidTime = -Infinity;

  constructor(opts: HeadOptions) {
    this.#codec = opts.codec;
    this.#now = opts.now ?? Date.now;
    this.#persist = opts.persist ?? (async () => {});
    this.#onFullChunk = opts.onFullChunk ?? (() => {});
    this.#onChunkCreated = opts.onChunkCreated ?? (() => {});
    this.walSegment = opts.walSegment ?? (() => 0);
    this.#chunkSamples = opts.chunkSamples ?? CHUNK_SAMPLES;
    this.#blockRange = opts.blockRangeMs ?? BLOCK_RANGE_MS;
    this.exemplars = new ExemplarStore(opts.maxExemplars ?? 0);
  }

  /** Label name → value → refs. */
  get postings(): Postings {
    return this.#postings;
  }

  get seriesCount(): number {
    return this.#series.count;
  }

  get nextRef(): number {
    return this.#nextRef;
  }

  /** Open chunks in memory. */
  get chunkCount(): number {
    let n = 0;
    for (let r = 1; r < this.#nextRef; r++) if (this.#chunk[r] !== 0) n++;
    return n;
  }

  /** The labels of series `ref` (built on each call: prefer has() and labelValue() on hot paths). */
  labelsOf(ref: number): Labels | undefined {
    return this.#series.labels(ref);
  }

  /** Whether series `ref` is in the head. */
  has(ref: number): boolean {
    return this.#series.has(ref);
  }

  /** The value of label `name` of series `ref` ("" when absent), without building its Labels. */
  labelValue(ref: number, name: string): string {
    return this.#series.value(ref, name);
  }

  refOf(labels: Labels): number | undefined {
    return this.#series.find(labels);
  }

  #grow(min: number): void {
    let n = this.#chunk.length;
    if (min < n) return;
    while (n <= min) n *= GROW;
    this.#chunk = grown(this.#chunk, n);
    this.#chunkBlock = grown(this.#chunkBlock, n);
    this.#lastT = grown(this.#lastT, n, -Infinity);
    this.#chunkSegment = grown(this.#chunkSegment, n, -1);
    this.#lastV = grown(this.#lastV, n);
    this.#lastStale = grown(this.#lastStale, n);
  }

  /** Registers a series under `ref` (WAL replay, block store series) or a new ref. */
  addSeries(labels: Labels, ref = this.#nextRef): number {
    const existing = this.#series.find(labels);
    if (existing !== undefined) return existing;
    this.#grow(ref);
    // A ref reused with other labels (a damaged log): the newer labels win.
    if (this.#series.has(ref)) this.#series.remove(ref);
    this.#series.add(ref, labels);
    this.#postings.add(ref, labels);
    if (ref >= this.#nextRef) this.#nextRef = ref + 1;
    this.counters.seriesCreated++;
    return ref;
  }

  /** The head's view of how far each series has been written: flushed blocks count too. */
  setLastTime(ref: number, t: number): void {
    this.#grow(ref);
    if (t > this.#lastT[ref]!) this.#lastT[ref] = t;
  }

  appender(): Appender {
    return new HeadAppender(this);
  }

  /**
   * Checks a sample against the series' last committed one: null when it can be appended,
   * 0 for an exact duplicate (accepted, nothing to write), else the rejection.
   */
  check(ref: number, t: number, v: number, stale: boolean): AppendRejection | 0 | null {
    if (t > this.#now() + MAX_FUTURE_MS || t < this.minValidTime) return APPEND_OUT_OF_BOUNDS;
    const last = this.#lastT[ref]!;
    if (t < last) return APPEND_OUT_OF_ORDER;
    if (t === last) {
      const same = stale ? this.#lastStale[ref] === 1 : this.#lastStale[ref] === 0 && (Object.is(v, this.#lastV[ref]) || (v !== v && this.#lastV[ref] !== this.#lastV[ref]));
      return same ? 0 : APPEND_DUPLICATE;
    }
    return null;
  }

  /** Refs with an open chunk. */
  /** The WAL segment of the series' open chunk's first sample (−1: none or unknown). */
  chunkSegment(ref: number): number {
    return this.#chunkSegment[ref] ?? -1;
  }

  /** Whether the series has an open chunk (data not yet in the block store). */
  hasOpenChunk(ref: number): boolean {
    return (this.#chunk[ref] ?? 0) !== 0;
  }

  /**
   * The oldest WAL segment an open chunk still needs (its first sample's), or `none` when no
   * chunk is open; −1 when a chunk's segment is unknown. A typed-array scan: no allocation.
   */
  oldestOpenChunkSegment(none: number): number {
    let min = none;
    const chunk = this.#chunk;
    const seg = this.#chunkSegment;
    for (let ref = 1, n = this.#nextRef; ref < n; ref++) {
      if (chunk[ref] !== 0 && seg[ref]! < min) min = seg[ref]!;
    }
    return min;
  }

  *openRefs(): IterableIterator<number> {
    for (let ref = 1; ref < this.#nextRef; ref++) if (this.#chunk[ref] !== 0) yield ref;
  }

  /** Every series in the head (labels built one at a time). */
  *allSeries(): IterableIterator<{ ref: number; labels: Labels }> {
    for (let ref = 1; ref < this.#nextRef; ref++) {
      const labels = this.#series.labels(ref);
      if (labels !== undefined) yield { ref, labels };
    }
  }

  /** The ref of every series in the head, ascending. */
  *refs(): IterableIterator<number> {
    for (let ref = 1; ref < this.#nextRef; ref++) if (this.#series.has(ref)) yield ref;
  }

  /** The exemplars held, oldest first, of series still in the head, under their current refs (checkpoints, snapshots). */
  *liveExemplars(): Generator<WalExemplar> {
    for (const e of this.exemplars.all()) {
      // The series may have been forgotten and re-created under another ref since.
      const ref = this.#series.find(e.seriesLabels);
      if (ref !== undefined) yield { ref, t: e.timestamp, v: e.value, labels: e.labels };
    }
  }

  /**
   * The head's whole state for a snapshot (copies, except `chunks`: the open chunks' handles,
   * in `chunkRefs` order, to be written out before anything appends again).
   */
  snapshot(): HeadSnapshot {
    const n = this.#nextRef;
    let open = 0;
    for (let ref = 1; ref < n; ref++) if (this.#chunk[ref] !== 0) open++;
    const chunkRefs = new Uint32Array(open);
    const chunks = new Uint32Array(open);
    for (let ref = 1, k = 0; ref < n; ref++) {
      if (this.#chunk[ref] === 0) continue;
      chunkRefs[k] = ref;
      chunks[k++] = this.#chunk[ref]!;
    }
    const exemplars = [...this.liveExemplars()];
    return {
      nextRef: n,
      minValidTime: this.minValidTime,
      series: this.#series.dump(n),
      postings: this.#postings.dump(),
      chunkBlock: this.#chunkBlock.slice(0, n),
      lastT: this.#lastT.slice(0, n),
      chunkSegment: this.#chunkSegment.slice(0, n),
      lastV: this.#lastV.slice(0, n),
      lastStale: this.#lastStale.slice(0, n),
      chunkRefs,
      chunks,
      exemplars,
    };
  }

  /**
   * Takes over a snapshot's state (into an empty head); `chunks` are the open chunks restored
   * in WASM memory, in `chunkRefs` order, owned by the head from here on.
   */
  restore(s: HeadSnapshot): void {
    if (this.#series.count !== 0 || this.#nextRef !== 1) throw new Error("Cannot restore a snapshot into a head that already holds series");
    const n = s.nextRef;
    for (const [name, a] of [["chunkBlock", s.chunkBlock], ["lastT", s.lastT], ["chunkSegment", s.chunkSegment], ["lastV", s.lastV], ["lastStale", s.lastStale]] as const) {
      if (a.length !== n) throw new SyntaxError(`Cannot restore the head: ${name} holds ${a.length} refs, ${n} expected`);
    }
    if (s.chunks.length !== s.chunkRefs.length) throw new SyntaxError(`Cannot restore the head: ${s.chunks.length} chunks for ${s.chunkRefs.length} refs`);
    // Built aside and swapped in whole: a snapshot that does not hold together leaves the head empty.
    const series = new SeriesStore();
    series.load(s.series);
    const postings = new Postings(() => [...this.refs()]);
    postings.load(s.postings);
    for (const ref of s.chunkRefs) {
      if (!(ref > 0 && ref < n && series.has(ref))) throw new SyntaxError(`Cannot restore the head: an open chunk belongs to ref ${ref}, which is not a series`);
    }
    this.#series = series;
    this.#postings = postings;
    this.#grow(n);
    this.#chunkBlock.set(s.chunkBlock);
    this.#lastT.set(s.lastT);
    this.#chunkSegment.set(s.chunkSegment);
    this.#lastV.set(s.lastV);
    this.#lastStale.set(s.lastStale);
    for (let k = 0; k < s.chunkRefs.length; k++) this.#chunk[s.chunkRefs[k]!] = s.chunks[k]!;
    this.#nextRef = n;
    this.minValidTime = s.minValidTime;
    this.applyExemplars(s.exemplars);
  }

  /** Bytes held per structure (capacities of the typed arrays; the symbol table and postings roughly). */
  memoryBreakdown(): Record<string, number> {
    const m = this.#series.memory();
    const perRef = this.#chunk.byteLength + this.#chunkBlock.byteLength + this.#lastT.byteLength + this.#chunkSegment.byteLength + this.#lastV.byteLength + this.#lastStale.byteLength;
    return { "label ids": m.labelIds, "series ref arrays": m.refArrays, "series hash slots": m.hashSlots, "symbol table": m.symbols, postings: this.#postings.bytes(), "per-ref sample state": perRef };
  }

  /**
   * Applies a transaction that is already durable. `segment`: the WAL segment it was written
   * to, or at most (-1 when unknown, as in replay: the chunk then pins the WAL until flushed).
   * `replaying`: samples from the WAL at start-up, not counted as appended.
   */
  apply(tx: HeadTransaction, segment = -1, replaying = false): void {
    const codec = this.#codec;
    for (let i = 0; i < tx.count; i++) {
      const ref = tx.refs[i]!;
      const t = tx.ts[i]!;
      const stale = tx.stale[i] === 1;
      const v = tx.values[i]!;
      // A replayed sample that is already in a flushed chunk (or a race between two
      // transactions of the same series) must not reach a fresh chunk out of order.
      if (t <= this.#lastT[ref]!) {
        if (t < this.#lastT[ref]!) this.counters.outOfOrder++;
        continue;
      }
      let c = this.#chunk[ref]!;
      if (c !== 0) {
        const blockEnd = (this.#chunkBlock[ref]! + 1) * this.#blockRange;
        if (codec.count(c) >= this.#chunkSamples || t >= blockEnd) {
          this.#cut(ref, c);
          c = 0;
        }
      }
      if (c === 0) {
        c = codec.create();
        this.#chunk[ref] = c;
        this.#chunkBlock[ref] = Math.floor(t / this.#blockRange);
        this.counters.chunksCreated++;
        this.#chunkSegment[ref] = segment;
        this.#onChunkCreated(ref, segment);
      }
      // A text NaN is Prometheus's NormalNaN; JS cannot hand over payload bits.
      const r = stale ? codec.appendStale(c, t) : v !== v ? codec.appendBits(c, t, 0x7ff80000, 1) : codec.append(c, t, v);
      if (r === XOR_ERR_OUT_OF_ORDER) {
        this.counters.outOfOrder++;
        continue;
      }
      if (r === XOR_ERR_DUPLICATE_TIMESTAMP) {
        this.counters.duplicates++;
        continue;
      }
      if (r < 0) throw new AppendError(`cannot append to the chunk of series ${ref}: code ${r}`);
      this.#lastT[ref] = t;
      this.#lastV[ref] = v;
      this.#lastStale[ref] = stale ? 1 : 0;
      // As in Prometheus, WAL replay does not count as appending.
      if (!replaying) this.counters.samplesAppended++;
    }
    if (tx.exemplars !== undefined) this.applyExemplars(tx.exemplars);
  }

  /** Stores exemplars (committed or replayed) of known series; rejected ones are dropped. */
  applyExemplars(list: readonly WalExemplar[]): void {
    for (const e of list) {
      const labels = this.#series.labels(e.ref);
      if (labels !== undefined) this.exemplars.add(e.ref, labels, { labels: e.labels, value: e.v, timestamp: e.t });
    }
  }

  #cut(ref: number, c: number): void {
    const codec = this.#codec;
    this.#onFullChunk({ ref, mint: codec.minTime(c), maxt: codec.maxTime(c), count: codec.count(c), data: codec.bytes(c) });
    codec.free(c);
    this.#chunk[ref] = 0;
    this.counters.chunksCut++;
  }

  /**
   * Cuts the open chunks of series that got no sample since `before` (vanished series), so
   * their data moves to the block store and their WASM memory is freed. Returns how many.
   */
  cutIdle(before: number): number {
    let n = 0;
    for (let ref = 1; ref < this.#nextRef; ref++) {
      const c = this.#chunk[ref]!;
      if (c !== 0 && this.#lastT[ref]! < before) {
        this.#cut(ref, c);
        n++;
      }
    }
    return n;
  }

  /** Cuts every open chunk (shutdown, or when the head must be flushed whole). */
  cutAll(): void {
    for (let ref = 1; ref < this.#nextRef; ref++) {
      const c = this.#chunk[ref]!;
      if (c !== 0 && this.#codec.count(c) > 0) this.#cut(ref, c);
    }
  }

  persist(tx: HeadTransaction): Promise<void> {
    return this.#persist(tx);
  }

  /** Series matching `matchers` (refs), head only. */
  matching(matchers: readonly Matcher[]): number[] {
    const match = compileMatchers(matchers);
    const store = this.#series;
    // Matchers only call get(): read label values straight from the store.
    const cursor = { ref: 0, get: (name: string) => store.value(cursor.ref, name) };
    return this.#postings.candidates(matchers).filter((ref) => {
      if (!store.has(ref)) return false;
      cursor.ref = ref;
      return match(cursor as unknown as Labels);
    });
  }

  /** The handle of `ref`'s open chunk in WASM memory (0: none), for columnar reads. */
  openChunk(ref: number): number {
    return this.#chunk[ref] ?? 0;
  }

  /** The samples of `ref`'s open chunk within [mint, maxt]. */
  samples(ref: number, mint: number, maxt: number): Sample[] {
    const c = this.#chunk[ref] ?? 0;
    if (c === 0) return [];
    const out: Sample[] = [];
    const it = this.#codec.iterator(c);
    try {
      while (it.next()) {
        const t = it.t;
        if (t < mint) continue;
        if (t > maxt) break;
        out.push(it.isStale ? { t, v: NaN, stale: true } : { t, v: it.value, stale: false });
      }
    } finally {
      it.close();
    }
    return out;
  }

  /** Series that had no sample at the last gc(): forgotten if still empty at the next. */
  #emptyAtLastGc = new Set<number>();

  /**
   * Forgets series whose newest sample is older than `minTime` and that have no open chunk:
   * retention removed all their data. A series with no sample yet is forgotten only when it
   * was already empty at the previous call: it may belong to a commit still being written
   * (or to a scrape that was rolled back and will be retried). Returns how many went.
   */
  gc(minTime: number): number {
    const gone = new Set<number>();
    const empty = new Set<number>();
    for (let ref = 1; ref < this.#nextRef; ref++) {
      if (!this.#series.has(ref) || this.#chunk[ref] !== 0 || !(this.#lastT[ref]! < minTime)) continue;
      if (this.#lastT[ref] === -Infinity && !this.#emptyAtLastGc.has(ref)) {
        empty.add(ref);
        continue;
      }
      gone.add(ref);
    }
    this.#emptyAtLastGc = empty;
    if (gone.size === 0) return 0;
    this.#postings.remove(gone, (ref) => this.#series.labels(ref));
    for (const ref of gone) this.#series.remove(ref);
    return gone.size;
  }

  /** The first sample time of the series' open chunk (Infinity without one). */
  openMinTime(ref: number): number {
    const c = this.#chunk[ref] ?? 0;
    return c === 0 ? Infinity : this.#codec.minTime(c);
  }

  /** The newest sample time of a series, in the head or flushed (−Infinity: none). */
  lastTime(ref: number): number {
    return this.#lastT[ref] ?? -Infinity;
  }

  /** Open chunk sample count of a series (0 without one). */
  openSamples(ref: number): number {
    const c = this.#chunk[ref] ?? 0;
    return c === 0 ? 0 : this.#codec.count(c);
  }
}

/** One transaction: appends are checked at once, applied on commit after `persist`. */
class HeadAppender implements Appender {
  #count = 0;
  #refs = new Uint32Array(256);
  #ts = new Float64Array(256);
  #values = new Float64Array(256);
  #stale = new Uint8Array(256);
  #series: Array<{ ref: number; labels: Labels }> = [];
  #exemplars: WalExemplar[] = [];
  #open = true;

  constructor(private readonly head: Head) {}

  #ref(ref: SeriesRef, labels: Labels | null): number {
    if (ref > 0 && this.head.has(ref)) return ref;
    if (labels === null) throw new UnknownSeriesRefError(ref);
    if (labels.size === 0) throw new AppendError("empty label set");
    if (!labels.has("__name__")) throw new AppendError(`series ${labels.toString()} has no metric name`);
    const known = this.head.refOf(labels);
    if (known !== undefined) return known;
    const created = this.head.addSeries(labels);
    this.#series.push({ ref: created, labels });
    return created;
  }

  #add(ref: SeriesRef, labels: Labels | null, t: number, v: number, stale: boolean): SeriesRef | AppendRejection {
    if (!this.#open) throw new AppendError("appender already committed or rolled back");
    const r = this.#ref(ref, labels);
    const rejected = this.head.check(r, t, v, stale);
    if (rejected === 0) return r; // an exact duplicate: accepted, nothing to write
    if (rejected !== null) {
      if (rejected === APPEND_OUT_OF_ORDER) this.head.counters.outOfOrder++;
      else if (rejected === APPEND_DUPLICATE) this.head.counters.duplicates++;
      else this.head.counters.outOfBounds++;
      return rejected;
    }
    if (this.#count === this.#refs.length) this.#growBuffers();
    const i = this.#count++;
    this.#refs[i] = r;
    this.#ts[i] = t;
    this.#values[i] = v;
    this.#stale[i] = stale ? 1 : 0;
    return r;
  }

  #growBuffers(): void {
    const n = this.#refs.length * 2;
    this.#refs = grown(this.#refs, n);
    this.#ts = grown(this.#ts, n);
    this.#values = grown(this.#values, n);
    this.#stale = grown(this.#stale, n);
  }

  append(ref: SeriesRef, labels: Labels | null, t: number, v: number): SeriesRef | AppendRejection {
    return this.#add(ref, labels, t, v, false);
  }

  appendStale(ref: SeriesRef, labels: Labels | null, t: number): SeriesRef | AppendRejection {
    return this.#add(ref, labels, t, NaN, true);
  }

  appendExemplar(ref: SeriesRef, e: Exemplar): ExemplarRejection | null {
    if (!this.#open) throw new AppendError("appender already committed or rolled back");
    const labels = this.head.labelsOf(ref);
    if (labels === undefined) throw new UnknownSeriesRefError(ref);
    const rejected = this.head.exemplars.validate(labels, e);
    if (rejected === "duplicate") return null;
    if (rejected !== null) return rejected;
    this.#exemplars.push({ ref, t: e.timestamp, v: e.value, labels: e.labels });
    return null;
  }

  async commit(): Promise<void> {
    if (!this.#open) throw new AppendError("appender already committed or rolled back");
    this.#open = false;
    if (this.#count === 0 && this.#series.length === 0 && this.#exemplars.length === 0) return;
    const tx: HeadTransaction = {
      ...(this.#exemplars.length > 0 ? { exemplars: this.#exemplars } : {}),
      series: this.#series,
      count: this.#count,
      refs: this.#refs.subarray(0, this.#count),
      ts: this.#ts.subarray(0, this.#count),
      values: this.#values.subarray(0, this.#count),
      stale: this.#stale.subarray(0, this.#count),
    };
    const segment = this.head.walSegment();
    await this.head.persist(tx);
    this.head.apply(tx, segment);
  }

  async rollback(): Promise<void> {
    if (!this.#open) throw new AppendError("appender already committed or rolled back");
    this.#open = false;
    // Series created by this transaction stay (empty) in the head, as in Prometheus; samples go.
    if (this.#series.length > 0) await this.head.persist({ series: this.#series, count: 0, refs: new Uint32Array(0), ts: new Float64Array(0), values: new Float64Array(0), stale: new Uint8Array(0) });
  }
}
