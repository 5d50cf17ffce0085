/**
 * gleaner's local TSDB: the head (open XOR chunks in WASM memory), the write-ahead log
 * (every commit durable before it is applied), and the SQLite block store for cut chunks,
 * with retention and compaction; a querier over all three.
 *
 * Durability: a commit resolves only after its WAL record is fsynced (or, with a group-commit
 * interval, after the fsync that covers it). A WAL record holds a whole scrape, so kill -9
 * loses at most the commits not yet fsynced and never half a scrape.
 *
 * Layout under --storage.tsdb.path: `wal/` (segments and checkpoints), `blocks.db`, and after a
 * clean shutdown `head.snapshot` (snapshot.ts: the head, read back instead of replaying the WAL).
 */
import { existsSync, mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../core/log/logger.ts";
import type { Registry } from "../../core/metrics/registry.ts";
import type { Labels } from "../../core/model/labels.ts";
import { core as sharedCore, type Core } from "../../wasm/index.ts";
import { STALE_NAN_HI, STALE_NAN_LO } from "../../wasm/assembly/abi.ts";
import { XorCodec } from "../../wasm/xor.ts";
import type { Appender, ExemplarQuerier, ExemplarSeries, HeadStats, LabelQuerier, Matcher, Querier, Sample, SeriesColumns, SeriesData, SeriesQuerier, Steps, Storage } from "../types.ts";
import { compileMatchers } from "../matchers.ts";
import { byKey, byLabels, byString, drain, sortSteps } from "../../core/time-slice.ts";
import { BlockStore } from "./blocks/index.ts";
import { BLOCK_RANGE_MS, Head, type FullChunk } from "./head.ts";
import { readSnapshot, writeSnapshot, type PendingChunk } from "./snapshot.ts";
import { Wal } from "./wal/index.ts";

export interface TsdbOptions {
  dir: string;
  /** Samples older than this are deleted (0: keep). */
  retentionMs: number;
  /** The block store is kept under this many bytes (0: no limit). */
  retentionBytes: number;
  registry: Registry;
  log: Logger;
  /** 0: fsync every commit; >0: group commit at most this often. */
  fsyncIntervalMs?: number;
  /** How often cut chunks go to the block store (and the WAL is checkpointed). */
  flushIntervalMs?: number;
  /** WAL segment size in bytes (default 128 MiB). */
  walSegmentSize?: number;
  /** Exemplar storage capacity (0, the default: exemplars are not stored). */
  maxExemplars?: number;
  now?: () => number;
  /** Write the head snapshot at close() and read it at open() (default true). */
  snapshotOnShutdown?: boolean;
}

const top = (pairs: Array<[string, number]>, limit: number) =>
  pairs.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit).map(([name, value]) => ({ name, value }));

export class Tsdb implements Storage, Querier, LabelQuerier, SeriesQuerier, ExemplarQuerier {
  readonly head: Head;
  /** Where the last start-up took the head from: the shutdown snapshot, or WAL replay. */
  loadedFrom: "snapshot" | "wal" = "wal";
  /** Chunks cut from the head, waiting for the next flush. */
  #pending: PendingChunk[] = [];
  /** WAL segment in which each series' open chunk started. */
  #timer: ReturnType<typeof setInterval> | null = null;
  #flushing: Promise<void> | null = null;
  #closed = false;

  private constructor(
    private readonly opts: TsdbOptions,
    private readonly codec: XorCodec,
    readonly wal: Wal,
    readonly blocks: BlockStore,
  ) {
    this.head = new Head({
      codec,
      ...(opts.now ? { now: opts.now } : {}),
      persist: (tx) => this.wal.commit(tx.series, tx),
      // Called before the chunk's slot is reused, so its segment is still the cut chunk's.
      onFullChunk: (c) => {
        const segment = this.head.chunkSegment(c.ref);
        this.#pending.push({ ...c, segment: segment >= 0 ? segment : this.wal.segment });
      },
      walSegment: () => this.wal.segment,
      maxExemplars: opts.maxExemplars ?? 0,
    });
    this.#registerMetrics(opts.registry);
  }

  /** Opens (or creates) the TSDB under `dir`: block store series, then WAL replay. */
  static async open(opts: TsdbOptions): Promise<Tsdb> {
    mkdirSync(opts.dir, { recursive: true });
    const codec = new XorCodec(await sharedCore());
    // After a clean shutdown (a head snapshot is there) the block store was closed properly:
    // its integrity check, which reads the whole file (0.8 s per GB), is for start-ups after a crash.
    const blocks = BlockStore.open(join(opts.dir, "blocks.db"), { quickCheck: !existsSync(join(opts.dir, SNAPSHOT_FILE)) });
    const wal = await Wal.open({ dir: join(opts.dir, "wal"), fsyncIntervalMs: opts.fsyncIntervalMs ?? 0, ...(opts.walSegmentSize ? { segmentSize: opts.walSegmentSize } : {}) });
    const db = new Tsdb(opts, codec, wal, blocks);
    db.#core = await sharedCore();
    await db.#load();
    db.#timer = setInterval(() => void db.flush(), opts.flushIntervalMs ?? 10_000);
    return db;
  }

  async #load(): Promise<void> {
    const { log } = this.opts;
    const started = performance.now();
    if (await this.#loadSnapshot()) {
      log.info("TSDB loaded from the head snapshot", { series: this.head.seriesCount, unflushedChunks: this.#pending.length, seconds: ((performance.now() - started) / 1000).toFixed(3) });
      return;
    }
    for (const { ref, labels } of this.blocks.allSeries()) this.head.addSeries(labels, ref);
    // Samples already in blocks must not be appended again from the WAL.
    for (const [ref, maxt] of this.blocks.maxTimes()) this.head.setLastTime(ref, maxt);
    const replay = await this.wal.replay({
      series: (s) => void this.head.addSeries(s.labels, s.ref),
      samples: (s) => this.head.apply({ series: [], ...s }, -1, true),
      exemplars: (list) => this.head.applyExemplars(list),
    });
    if (replay.corruption !== null) {
      log.warn("The WAL had a damaged record; everything before it was replayed", { segment: replay.corruption.segment, offset: replay.corruption.offset, reason: replay.corruption.reason });
    }
    log.info("TSDB loaded", { series: this.head.seriesCount, walRecords: replay.records, walSamples: replay.samples, seconds: ((performance.now() - started) / 1000).toFixed(3) });
  }

  get #snapshotPath(): string {
    return join(this.opts.dir, SNAPSHOT_FILE);
  }

  /**
   * Takes the head from the shutdown snapshot when there is one and the WAL has not changed
   * since; true when it did. Any problem with it is logged and means WAL replay. The snapshot
   * is deleted once read either way: after the first commit it would be out of date.
   */
  async #loadSnapshot(): Promise<boolean> {
    const path = this.#snapshotPath;
    if (!existsSync(path)) return false;
    const { log } = this.opts;
    let snap: Awaited<ReturnType<typeof readSnapshot>> | undefined;
    try {
      snap = await readSnapshot(path);
      await this.wal.resume(snap.wal);
      const state = snap.restore(this.codec);
      try {
        for (const c of state.pending) if (!state.series.pairs[c.ref]) throw new Error(`${path}: an unflushed chunk belongs to ref ${c.ref}, which is not a series`);
        this.head.restore(state);
      } catch (e) {
        for (const c of state.chunks) this.codec.free(c);
        throw e;
      }
      this.#pending = state.pending;
      this.loadedFrom = "snapshot";
      return true;
    } catch (e) {
      log.warn("Not using the head snapshot; replaying the WAL instead", { path, reason: (e as Error).message });
      return false;
    } finally {
      // Everything the head kept was copied out of the file's buffer.
      snap?.release();
      await rm(path, { force: true });
    }
  }

  /**
   * Writes the head snapshot (close(), after the WAL's last write): the next start-up reads it
   * instead of the WAL. Chunks cut but not yet in the block store go in too, so a shutdown
   * right after a million series cut their chunks does not wait for the block store.
   */
  async #writeSnapshot(): Promise<boolean> {
    const { log } = this.opts;
    const started = performance.now();
    try {
      const files = await this.wal.files();
      const bytes = await writeSnapshot(this.#snapshotPath, { ...this.head.snapshot(), pending: this.#pending }, this.codec, files);
      log.info("Wrote the head snapshot", { series: this.head.seriesCount, unflushedChunks: this.#pending.length, bytes, seconds: ((performance.now() - started) / 1000).toFixed(3) });
      return true;
    } catch (e) {
      log.error("Writing the head snapshot failed; the next start-up replays the WAL", { path: this.#snapshotPath, err: e });
      await rm(this.#snapshotPath, { force: true }).catch(() => undefined);
      return false;
    }
  }

  appender(): Appender {
    return this.head.appender();
  }

  /** Writes cut chunks to the block store, checkpoints the WAL, applies retention. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    // Series that went quiet a block range ago leave their open chunk for the block store.
    this.head.cutIdle((this.opts.now ?? Date.now)() - BLOCK_RANGE_MS);
    // Written in batches with a pause between them (a million chunks take ~10 s in SQLite).
    // They stay in #pending until all are written: reads see a chunk in both places meanwhile
    // and keep one copy of each sample; chunks cut meanwhile are appended after `upto`.
    const batch = this.#pending;
    const upto = batch.length;
    for (let i = 0; i < upto; i += FLUSH_BATCH) {
      const part = batch.slice(i, Math.min(upto, i + FLUSH_BATCH));
      // Idempotent, and retention may have removed a series that has chunks again.
      const series = [...new Set(part.map((c) => c.ref))].map((ref) => ({ ref, labels: this.head.labelsOf(ref)! }));
      try {
        this.blocks.upsertSeries(series);
        this.blocks.writeChunks(part);
      } catch (err) {
        // All stay pending for the next flush (rewriting a chunk is a no-op); the WAL still holds their samples.
        this.opts.log.error("Writing chunks to the block store failed; will retry", { err, chunks: upto - i });
        return;
      }
      if (i + FLUSH_BATCH >= upto) break;
      await new Promise((resolve) => setImmediate(resolve));
      // Shutting down with a snapshot: the rest go into it rather than hold up the exit.
      if (this.#closed && (this.opts.snapshotOnShutdown ?? true)) {
        this.#pending = this.#pending.slice(i + FLUSH_BATCH);
        return;
      }
    }
    if (upto > 0) this.#pending = this.#pending.slice(upto);
    // Segments older than every open or unflushed chunk are in the block store: drop them.
    let needed = this.wal.segment;
    needed = this.head.oldestOpenChunkSegment(needed);
    for (const c of this.#pending) needed = Math.min(needed, c.segment);
    for (const hold of this.#walHolds) needed = Math.min(needed, hold());
    if (needed > this.#checkpointed) {
      await this.wal.checkpoint(this.head.allSeries(), needed, [...this.head.liveExemplars()]);
      this.#checkpointed = needed;
    }
    // Merge small chunk rows now and then (cheap when there is nothing to merge).
    if (++this.#flushes % 30 === 0) {
      const r = this.blocks.compact();
      this.#compactions++;
      if (r.rowsAfter < r.rowsBefore) this.opts.log.debug("Compacted the block store", r);
    }
    const now = (this.opts.now ?? Date.now)();
    if (this.opts.retentionMs > 0 || this.opts.retentionBytes > 0) {
      const minTime = this.opts.retentionMs > 0 ? now - this.opts.retentionMs : -Infinity;
      const deleted = this.blocks.applyRetention({ minTime, maxBytes: this.opts.retentionBytes, keepRefs: { has: (ref) => this.head.hasOpenChunk(ref) } });
      // Series with nothing left anywhere leave memory too (label churn does not grow the head forever).
      const forgotten = this.head.gc(minTime);
      if (deleted.chunks > 0) this.#retentionDeletions++;
      if (deleted.chunks > 0 || forgotten > 0) this.opts.log.info("Deleted data past retention", { ...deleted, headSeries: forgotten });
    }
  }

  /** Changes the exemplar storage capacity (`storage.exemplars.max_exemplars`), keeping the newest. */
  setMaxExemplars(n: number): void {
    this.head.exemplars.resize(n);
  }

  selectExemplars(sets: readonly (readonly Matcher[])[], start: number, end: number): ExemplarSeries[] {
    return this.head.exemplars.select(start, end, sets);
  }

  #core: Core | null = null;
  #checkpointed = 0;
  readonly #walHolds = new Set<() => number>();

  /**
   * Keeps WAL segments from `lowest()` on (a reader such as a remote-write queue still needs
   * them) when checkpoints truncate the log; returns the release. Costs disk, never memory.
   */
  holdWal(lowest: () => number): () => void {
    this.#walHolds.add(lowest);
    return () => void this.#walHolds.delete(lowest);
  }
  #flushes = 0;
  #compactions = 0;
  #retentionDeletions = 0;

  select(matchers: readonly Matcher[], mint: number, maxt: number): SeriesData[] {
    const refs = this.head.matching(matchers);
    const stored = this.blocks.chunks(refs, mint, maxt);
    const byRef = new Map<number, Uint8Array[]>();
    for (const c of [...stored, ...this.#pending.filter((c) => c.maxt >= mint && c.mint <= maxt)]) {
      const list = byRef.get(c.ref) ?? [];
      list.push(c.data);
      byRef.set(c.ref, list);
    }
    const out: SeriesData[] = [];
    for (const ref of refs) {
      const samples: Sample[] = [];
      for (const data of byRef.get(ref) ?? []) this.#decode(data, mint, maxt, samples);
      const head = this.head.samples(ref, mint, maxt);
      for (const s of head) samples.push(s);
      if (samples.length === 0) continue;
      samples.sort((a, b) => a.t - b.t);
      const unique = samples.filter((s, i) => i === 0 || s.t !== samples[i - 1]!.t);
      out.push({ labels: this.head.labelsOf(ref) as Labels, samples: unique });
    }
    return out.sort((a, b) => (a.labels.key < b.labels.key ? -1 : 1));
  }

  /**
   * The query engine's read path: block-store and head chunks decoded in WASM straight into
   * typed arrays (no object per sample), stale markers flagged. Sorted by labels.
   */
  selectColumns(matchers: readonly Matcher[], mint: number, maxt: number): SeriesColumns[] {
    return drain(this.selectColumnsSteps(matchers, mint, maxt));
  }

  /**
   * selectColumns() in steps of a few series. Scrapes, cuts and flushes go on between steps;
   * within one step a series' block-store, pending and open chunks are read at one moment,
   * so every sample is seen once wherever it moved meanwhile.
   */
  *selectColumnsSteps(matchers: readonly Matcher[], mint: number, maxt: number): Steps<SeriesColumns[]> {
    const refs = yield* this.#matchingSteps(matchers);
    const pending = new PendingIndex(mint, maxt);
    const out: SeriesColumns[] = [];
    const batchRefs: number[] = [];
    for (let i = 0; i < refs.length; i += SELECT_BATCH) {
      yield* this.#syncPending(pending);
      // No yield from here to the end of the batch.
      batchRefs.length = 0;
      for (let k = i; k < refs.length && k < i + SELECT_BATCH; k++) batchRefs.push(refs[k]!);
      const stored = this.blocks.chunks(batchRefs, mint, maxt);
      let s = 0;
      let decoded = 0;
      for (const ref of batchRefs) {
        const labels = this.head.labelsOf(ref);
        // Skip past this ref's stored chunks (sorted by ref, then mint).
        while (s < stored.length && stored[s]!.ref < ref) s++;
        const from = s;
        while (s < stored.length && stored[s]!.ref === ref) s++;
        if (labels === undefined) continue; // removed by retention meanwhile
        const pend = pending.of(ref);
        const open = this.head.openChunk(ref);
        let cap = open !== 0 ? this.codec.count(open) : 0;
        for (let k = from; k < s; k++) cap += stored[k]!.count;
        for (const c of pend) cap += c.count;
        if (cap === 0) continue;
        decoded += cap;
        const col = { t: new Float64Array(cap), v: new Float64Array(cap), stale: new Uint8Array(cap), n: 0 };
        for (let k = from; k < s + pend.length; k++) {
          const c = k < s ? stored[k]! : pend[k - s]!;
          const h = this.codec.fromBytes(c.data);
          try {
            this.#decodeColumns(h, mint, maxt, col);
          } finally {
            this.codec.free(h);
          }
        }
        if (open !== 0) this.#decodeColumns(open, mint, maxt, col);
        if (col.n === 0) continue;
        out.push({ labels, ...sortedUnique(col) });
      }
      yield 1024 + decoded;
    }
    return yield* sortSteps(out, byLabels);
  }

  /** Brings `index` up to date with the chunks waiting for the block store, in steps; returns with no step left when it is. */
  *#syncPending(index: PendingIndex): Steps<void> {
    for (;;) {
      if (index.list !== this.#pending) index.reset(this.#pending);
      if (index.indexed === index.list.length) return;
      index.indexSome(4096);
      yield 4096;
    }
  }

  /** Refs of head series matching `matchers` (head.matching() in steps), ascending. */
  *#matchingSteps(matchers: readonly Matcher[]): Steps<Uint32Array> {
    const head = this.head;
    const match = compileMatchers(matchers);
    // Matchers only call get(): read label values straight from the head.
    const cursor = { ref: 0, get: (name: string) => head.labelValue(cursor.ref, name) };
    const test = cursor as unknown as Labels;
    const candidates = yield* head.postings.candidatesSteps(matchers);
    if (candidates === null) {
      const out: number[] = [];
      let k = 0;
      for (const ref of head.refs()) {
        cursor.ref = ref;
        if (match(test)) out.push(ref);
        if ((++k & 255) === 0) yield 1024;
      }
      return Uint32Array.from(out);
    }
    let n = 0;
    for (let i = 0; i < candidates.length; i++) {
      const ref = candidates[i]!;
      cursor.ref = ref;
      if (head.has(ref) && match(test)) candidates[n++] = ref;
      if ((i & 255) === 255) yield 1024;
    }
    return candidates.subarray(0, n);
  }

  /** WASM scratch for xorDecode (timestamps and value bits, 8 bytes each per sample). */
  #scratch = { ts: 0, vs: 0, cap: 0 };

  /** Decodes chunk `c` in one WASM call (xorDecode), then copies [mint, maxt] out of WASM memory. */
  #decodeColumns(c: number, mint: number, maxt: number, col: { t: Float64Array; v: Float64Array; stale: Uint8Array; n: number }): void {
    const core = this.#core!;
    const x = core.exports as unknown as { xorDecode(c: number, ts: number, vs: number, max: number): number; alloc(n: number): number; free(p: number, n: number): void };
    const n = this.codec.count(c);
    const sc = this.#scratch;
    if (n > sc.cap) {
      if (sc.cap > 0) {
        x.free(sc.ts, sc.cap * 8);
        x.free(sc.vs, sc.cap * 8);
      }
      sc.cap = Math.max(n, 256);
      sc.ts = x.alloc(sc.cap * 8);
      sc.vs = x.alloc(sc.cap * 8);
    }
    const got = x.xorDecode(c, sc.ts, sc.vs, n);
    if (got < 0) throw new SyntaxError(`Cannot decode XOR chunk ${c}: its bytes end early or hold a malformed sample`);
    const { u32, i32, f64 } = core.views();
    const tw = sc.ts >>> 2;
    const vw = sc.vs >>> 2;
    const vf = sc.vs >>> 3;
    for (let i = 0; i < got; i++) {
      const t = i32[tw + 2 * i + 1]! * 4294967296 + u32[tw + 2 * i]!;
      if (t < mint) continue;
      if (t > maxt || col.n >= col.t.length) break;
      col.t[col.n] = t;
      if (u32[vw + 2 * i + 1] === STALE_NAN_HI && u32[vw + 2 * i] === STALE_NAN_LO) {
        col.v[col.n] = NaN;
        col.stale[col.n] = 1;
      } else col.v[col.n] = f64[vf + i]!;
      col.n++;
    }
  }

  /** Refs matching any of the sets (all series for no sets) with data at or after mint, ascending. */
  /**
   * Refs of the series matching any of `sets` with a sample in [mint, maxt]: the newest sample
   * is at or after mint, and the first one at or before maxt — looked up in the open chunk,
   * then the chunks waiting for the block store, then the block store (only for series whose
   * newest sample is after maxt).
   */
  *#refsSteps(sets: readonly (readonly Matcher[])[], mint: number, maxt: number): Steps<number[]> {
    const head = this.head;
    const refs = yield* this.#candidateRefsSteps(sets, mint);
    const out: number[] = [];
    const unsure: number[] = [];
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i]!;
      if (head.lastTime(ref) <= maxt || head.openMinTime(ref) <= maxt) out.push(ref);
      else unsure.push(ref);
      if ((i & 1023) === 1023) yield 1024;
    }
    if (unsure.length === 0) return out;
    const pendingMin = new Map<number, number>();
    for (const c of this.#pending) if (c.mint < (pendingMin.get(c.ref) ?? Infinity)) pendingMin.set(c.ref, c.mint);
    const stored: number[] = [];
    for (const ref of unsure) ((pendingMin.get(ref) ?? Infinity) <= maxt ? out : stored).push(ref);
    yield unsure.length;
    for (let i = 0; i < stored.length; i += 256) {
      const batch = stored.slice(i, i + 256);
      const found = this.blocks.refsWithDataBefore(batch, maxt);
      for (const ref of batch) if (found.has(ref)) out.push(ref);
      yield 256 * 16;
    }
    return out;
  }

  *#candidateRefsSteps(sets: readonly (readonly Matcher[])[], mint: number): Steps<number[]> {
    const head = this.head;
    const out: number[] = [];
    const keep = (ref: number) => {
      if (head.has(ref) && head.lastTime(ref) >= mint) out.push(ref);
    };
    if (sets.length === 0) {
      let k = 0;
      for (const ref of head.refs()) {
        keep(ref);
        if ((++k & 1023) === 0) yield 1024;
      }
      return out;
    }
    const lists: Uint32Array[] = [];
    let max = 0;
    for (const set of sets) {
      const refs = yield* this.#matchingSteps(set);
      if (refs.length > 0) max = Math.max(max, refs[refs.length - 1]!);
      lists.push(refs);
    }
    if (lists.length === 1) {
      const refs = lists[0]!;
      for (let i = 0; i < refs.length; i++) {
        keep(refs[i]!);
        if ((i & 1023) === 1023) yield 1024;
      }
      return out;
    }
    // The union, deduplicated on a bitmap over refs (one byte each).
    const seen = new Uint8Array(max + 1);
    for (const refs of lists) {
      for (let i = 0; i < refs.length; i++) seen[refs[i]!] = 1;
      yield refs.length;
    }
    for (let ref = 1; ref <= max; ref++) {
      if (seen[ref] === 1) keep(ref);
      if ((ref & 4095) === 0) yield 4096;
    }
    return out;
  }

  series(sets: readonly (readonly Matcher[])[], mint: number, maxt: number): Labels[] {
    return drain(this.seriesSteps(sets, mint, maxt));
  }

  *seriesSteps(sets: readonly (readonly Matcher[])[], mint: number, maxt: number): Steps<Labels[]> {
    const refs = yield* this.#refsSteps(sets, mint, maxt);
    const out: Labels[] = [];
    for (let i = 0; i < refs.length; i++) {
      const l = this.head.labelsOf(refs[i]!);
      if (l !== undefined) out.push(l);
      if ((i & 255) === 255) yield 1024;
    }
    return yield* sortSteps(out, byKey((l: Labels) => l.key));
  }

  labelNames(sets: readonly (readonly Matcher[])[], mint: number, maxt: number): string[] {
    return drain(this.labelNamesSteps(sets, mint, maxt));
  }

  *labelNamesSteps(sets: readonly (readonly Matcher[])[], mint: number, maxt: number): Steps<string[]> {
    const refs = yield* this.#refsSteps(sets, mint, maxt);
    const names = new Set<string>();
    for (let i = 0; i < refs.length; i++) {
      const l = this.head.labelsOf(refs[i]!);
      if (l !== undefined) for (const [n] of l) names.add(n);
      if ((i & 255) === 255) yield 1024;
    }
    return yield* sortSteps([...names], byString);
  }

  labelValues(name: string, sets: readonly (readonly Matcher[])[], mint: number, maxt: number): string[] {
    return drain(this.labelValuesSteps(name, sets, mint, maxt));
  }

  *labelValuesSteps(name: string, sets: readonly (readonly Matcher[])[], mint: number, maxt: number): Steps<string[]> {
    const refs = yield* this.#refsSteps(sets, mint, maxt);
    const values = new Set<string>();
    for (let i = 0; i < refs.length; i++) {
      const v = this.head.labelValue(refs[i]!, name);
      if (v !== "") values.add(v);
      if ((i & 1023) === 1023) yield 1024;
    }
    return yield* sortSteps([...values], byString);
  }

  headStats(limit: number): HeadStats {
    const p = this.head.postings.stats();
    let minTime = Infinity;
    let maxTime = -Infinity;
    for (const ref of this.head.refs()) {
      const t = this.head.lastTime(ref);
      if (t > maxTime) maxTime = t;
      if (t > -Infinity && t < minTime) minTime = t;
    }
    return {
      numSeries: this.head.seriesCount,
      chunkCount: this.head.chunkCount,
      minTime: Number.isFinite(minTime) ? minTime : 0,
      maxTime: Number.isFinite(maxTime) ? maxTime : 0,
      numLabelPairs: p.pairs.length,
      seriesCountByMetricName: top(this.head.postings.valueCounts("__name__"), limit),
      labelValueCountByLabelName: top(p.names, limit),
      memoryInBytesByLabelName: top(p.memory, limit),
      seriesCountByLabelValuePair: top(p.pairs, limit),
    };
  }

  #decode(data: Uint8Array, mint: number, maxt: number, into: Sample[]): void {
    const c = this.codec.fromBytes(data);
    const it = this.codec.iterator(c);
    try {
      while (it.next()) {
        const t = it.t;
        if (t < mint || t > maxt) continue;
        into.push(it.isStale ? { t, v: NaN, stale: true } : { t, v: it.value, stale: false });
      }
    } finally {
      it.close();
      this.codec.free(c);
    }
  }

  #registerMetrics(r: Registry): void {
    const h = this.head.counters;
    r.collector("prometheus_tsdb_head_series", "Total number of series in the head block.", "gauge", () => [{ value: this.head.seriesCount }]);
    r.collector("gleaner_wasm_memory_bytes", "The WebAssembly core's memory (scrape caches, head chunks, parser arenas): reserved (it grows by doubling and never shrinks) and allocated.", "gauge", () => {
      const core = this.#core;
      if (core === null) return [];
      const allocated = (core.exports as unknown as { allocHeapBytes(): number }).allocHeapBytes();
      return [{ labels: { state: "reserved" }, value: core.exports.memory.buffer.byteLength }, { labels: { state: "allocated" }, value: allocated }];
    });
    r.collector("prometheus_tsdb_head_chunks", "Total number of chunks in the head block.", "gauge", () => [{ value: this.head.chunkCount }]);
    r.collector("prometheus_tsdb_head_samples_appended_total", "Total number of appended samples.", "counter", () => [{ labels: { type: "float" }, value: h.samplesAppended }]);
    r.collector("prometheus_tsdb_head_chunks_created_total", "Total number of chunks created in the head.", "counter", () => [{ value: h.chunksCreated }]);
    r.collector("prometheus_tsdb_head_series_created_total", "Total number of series created in the head.", "counter", () => [{ value: h.seriesCreated }]);
    r.collector("prometheus_tsdb_out_of_order_samples_total", "Total number of out of order samples ingestion failed attempts.", "counter", () => [{ labels: { type: "float" }, value: h.outOfOrder }]);
    r.collector("prometheus_tsdb_out_of_bound_samples_total", "Total number of out of bound samples ingestion failed attempts.", "counter", () => [{ labels: { type: "float" }, value: h.outOfBounds }]);
    r.collector("prometheus_tsdb_storage_blocks_bytes", "The number of bytes that are currently used for local storage by all blocks.", "gauge", () => [{ value: this.blocks.sizeBytes() }]);
    r.collector("prometheus_tsdb_wal_fsync_duration_seconds_sum", "Duration of write log fsync, summed.", "gauge", () => [{ value: this.wal.stats().fsyncSeconds }]);
    r.collector("prometheus_tsdb_wal_writes_total", "Records written to the write log.", "counter", () => [{ value: this.wal.stats().records }]);
    r.collector("prometheus_tsdb_wal_bytes_total", "Bytes written to the write log.", "counter", () => [{ value: this.wal.stats().bytesWritten }]);
    r.collector("prometheus_tsdb_wal_corruptions_total", "Total number of WAL corruptions.", "counter", () => [{ value: this.wal.stats().corruptions }]);
    r.collector("prometheus_tsdb_compactions_total", "Total number of compactions of the block store.", "counter", () => [{ value: this.#compactions }]);
    r.collector("prometheus_tsdb_time_retentions_total", "The number of times that blocks were deleted because the retention was exceeded.", "counter", () => [{ value: this.#retentionDeletions }]);
    r.collector("prometheus_tsdb_wal_segment_current", "Write log segment index that TSDB is currently writing to.", "gauge", () => [{ value: this.wal.segment }]);
    const ex = this.head.exemplars;
    r.collector("prometheus_tsdb_exemplar_exemplars_appended_total", "Total number of appended exemplars.", "counter", () => [{ value: ex.appended }]);
    r.collector("prometheus_tsdb_exemplar_exemplars_in_storage", "Number of exemplars currently in circular storage.", "gauge", () => [{ value: ex.size }]);
    r.collector("prometheus_tsdb_exemplar_series_with_exemplars_in_storage", "Number of series with exemplars currently in circular storage.", "gauge", () => [{ value: ex.seriesCount }]);
    r.collector("prometheus_tsdb_exemplar_last_exemplars_timestamp_seconds", "The timestamp of the oldest exemplar stored in circular storage. Useful to check for what time range the current exemplar buffer limit allows.", "gauge", () => [{ value: ex.oldestTimestamp() / 1000 }]);
    r.collector("prometheus_tsdb_exemplar_max_exemplars", "Total number of exemplars the exemplar storage can store, resizeable.", "gauge", () => [{ value: ex.capacity }]);
    r.collector("prometheus_tsdb_exemplar_out_of_order_exemplars_total", "Total number of out of order exemplar ingestion failed attempts.", "counter", () => [{ value: ex.outOfOrder }]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    const snapshot = this.opts.snapshotOnShutdown ?? true;
    // With the snapshot, chunks waiting for the block store go into it; without, they are written now.
    if (snapshot) await this.#flushing;
    else await this.flush();
    await this.wal.close();
    // Commits whose records the WAL just acknowledged apply in their own continuations: let them run first.
    await new Promise((resolve) => setImmediate(resolve));
    // Without a snapshot (disabled, or writing it failed) the next start-up replays the WAL,
    // which holds the samples of every chunk not in the block store yet.
    if (snapshot) await this.#writeSnapshot();
    this.blocks.close();
  }
}

const SNAPSHOT_FILE = "head.snapshot";

/** Cut chunks written to the block store per transaction: ~50 ms. */
const FLUSH_BATCH = 5000;

/** Refs a sliced select reads per step: ~10 µs each (a block-store lookup, decoding). */
const SELECT_BATCH = 32;

/**
 * The chunks waiting for the block store that overlap [mint, maxt], by ref: indexed as a
 * sliced select goes on (cuts append to the list; a flush replaces it, and then the index
 * starts again, the flushed chunks being in the block store).
 */
class PendingIndex {
  list: readonly FullChunk[] = [];
  indexed = 0;
  readonly #byRef = new Map<number, FullChunk[]>();

  constructor(
    readonly mint: number,
    readonly maxt: number,
  ) {}

  reset(list: readonly FullChunk[]): void {
    this.list = list;
    this.indexed = 0;
    this.#byRef.clear();
  }

  indexSome(n: number): void {
    const end = Math.min(this.list.length, this.indexed + n);
    for (let i = this.indexed; i < end; i++) {
      const c = this.list[i]!;
      if (c.maxt < this.mint || c.mint > this.maxt) continue;
      const l = this.#byRef.get(c.ref);
      if (l === undefined) this.#byRef.set(c.ref, [c]);
      else l.push(c);
    }
    this.indexed = end;
  }

  of(ref: number): readonly FullChunk[] {
    return this.#byRef.get(ref) ?? NONE;
  }
}

const NONE: readonly FullChunk[] = [];

/** Trims decoded columns to n, sorting by time and dropping repeated timestamps only when needed. */
function sortedUnique(col: { t: Float64Array; v: Float64Array; stale: Uint8Array; n: number }): Omit<SeriesColumns, "labels"> {
  let ordered = true;
  for (let i = 1; i < col.n; i++) if (!(col.t[i]! > col.t[i - 1]!)) ordered = false;
  let { t, v, stale } = col;
  let n = col.n;
  if (!ordered) {
    const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => t[a]! - t[b]!);
    const t2 = new Float64Array(n);
    const v2 = new Float64Array(n);
    const s2 = new Uint8Array(n);
    let k = 0;
    for (const i of idx) {
      if (k > 0 && t2[k - 1] === t[i]) continue;
      t2[k] = t[i]!;
      v2[k] = v[i]!;
      s2[k] = stale[i]!;
      k++;
    }
    t = t2;
    v = v2;
    stale = s2;
    n = k;
  }
  let anyStale = false;
  for (let i = 0; i < n; i++) if (stale[i] === 1) anyStale = true;
  return { t: t.subarray(0, n), v: v.subarray(0, n), stale: anyStale ? stale.subarray(0, n) : null };
}
