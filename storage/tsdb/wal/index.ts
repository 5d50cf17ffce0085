/**
 * The TSDB write-ahead log: one framed, CRC-checked record per scrape commit, replayed at
 * start-up, truncated by checkpoints after the head flushed to blocks. Records are compact
 * (compact.ts: ~3.5 B a sample for a scrape of known series, against 10 for the plain type 1)
 * and zstd-compressed off the main thread where that pays (compress.ts: labels, checkpoints).
 *
 * ## Durability promise
 * `commit()` resolves only after an fsync (fdatasync) that covers its record. With
 * `fsyncIntervalMs: 0` that fsync happens right away (concurrent commits share one); with
 * `fsyncIntervalMs: N` fsyncs happen at most every N ms and commits wait for the next one,
 * so a scrape's commit takes up to N ms longer to be acknowledged.
 * - kill -9 of the process: every record already written to the file survives (it is in
 *   the page cache); only commits not yet written — never acknowledged — are lost.
 * - Power loss / kernel crash: records not yet covered by an fsync (at most the last
 *   `fsyncIntervalMs` of commits, none of them acknowledged) may be lost.
 * Never part of a commit: a transaction is a single record, and a record whose bytes or
 * CRC do not check out is discarded whole at replay.
 *
 * ## On-disk format (little-endian throughout)
 * `<dir>/00000000`, `<dir>/00000001`, …  segments, named by an 8-digit number.
 * `<dir>/checkpoint.00000007`           live series as of the start of segment 7; replay reads
 *                                        it, then segments ≥ 7 (older ones are deleted).
 * `<dir>/checkpoint.00000007.tmp`       a checkpoint being written; deleted at open.
 *
 * A segment (and a checkpoint) is a sequence of records, never one spanning two files:
 *   type u8 | length u32 (payload bytes) | payload | crc32 u32
 * where the CRC-32 (IEEE, `Bun.hash.crc32`) covers type, length and payload. A new segment is
 * started when a record would take the current one past `segmentSize` (a record bigger than
 * that gets a segment of its own). Types: 1 = plain transaction (written until the
 * compressed format came; still replayed), 2 = compact transaction (what is written now).
 * Segments may hold both.
 *
 * Common parts (varint = unsigned LEB128; zz = zigzag, so small negatives stay small):
 *   series section: varint nSeries, then per series:
 *     varint zz(ref − previous ref, starting at 0), varint nLabels,
 *     per label: varint byteLength, UTF-8 name, varint byteLength, UTF-8 value
 *   exemplar section (only when the transaction has exemplars; records without it end before):
 *     varint nExemplars, then per exemplar:
 *     varint zz(ref − previous exemplar ref, starting at 0), f64 timestamp, f64 value bits,
 *     varint nLabels, labels as for series
 *
 * Type 1 payload: series section, then
 *   varint nSamples, then if nSamples > 0:
 *     u8 tsMode
 *     refs: nSamples × varint zz(ref − previous ref, starting at 0)
 *     ts:   tsMode 0: f64 first timestamp, then (nSamples − 1) × varint zz32(ts[i] − ts[i−1])
 *           tsMode 1: nSamples × f64
 *     values: nSamples × f64 bits
 *   then the exemplar section.
 *
 * Type 2 payload: u8 compression, then the body:
 *   0 = stored: the body follows as it is (to the end of the payload);
 *   1 = zstd:   varint body length, then one zstd frame that decompresses to exactly it.
 * (The writer keeps zstd only when it saves ≥ 25 %: see compress.ts.) The body:
 *   series section, then
 *   varint nSamples, then if nSamples > 0:
 *     u8 layout: bits 0–1 tsMode, bits 2–3 refsMode
 *     refs: refsMode 0: nSamples × varint zz(ref − previous ref, starting at 0)
 *           refsMode 1: runs of consecutive refs until they cover nSamples: per run
 *                       varint zz(first ref − last ref of the previous run, from 0), varint (length − 1)
 *     ts:   tsMode 0: one f64, the timestamp of every sample (a scrape's commit)
 *           tsMode 1: f64 first timestamp, then (nSamples − 1) × varint zz32(ts[i] − ts[i−1])
 *           tsMode 2: nSamples × f64
 *     codes: ⌈nSamples / 2⌉ bytes, a 4-bit code per sample (sample i in the low nibble when i is even)
 *     values, in sample order, as their code says ("the previous integer" = the last value of
 *     codes 0–6 and 15 before it in this record, starting at 0):
 *       0–6   an integer: zz(v − previous integer) in code + 1 bytes, little-endian
 *       7–12  a decimal: zz(m)·16 + k in code − 6 bytes, little-endian; v = m / 10^k (k 1–15),
 *             written only when that division gives back v's exact bits
 *       13    8 bytes: the f64 bits as they are (-0, NaN payloads, ±Inf, other floats)
 *       14    a stale marker: no bytes, the value is StaleNaN (0x7ff0000000000002)
 *       15    the previous integer again (a delta of 0): no bytes
 *   then the exemplar section.
 *
 * In both types a value whose bits are StaleNaN — and only those bits — comes back with
 * stale = 1; every other NaN payload keeps its bits and stale = 0. Integers are safe
 * integers (|v| ≤ 2^53 − 1, deltas < 2^52), never -0.
 *
 * A checkpoint holds the same records with nSamples = 0: the live series, then the exemplars
 * held in memory, oldest first.
 *
 * ## Corruption
 * Replay reads every record that checks out. At the first bad one in a segment it reports
 * (segment, offset, reason), truncates that file there and goes on with the next segment;
 * in the last segment, writing then continues at that offset.
 */
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Labels } from "../../../core/model/labels.ts";
import { CRC_BYTES, Encoder, HEADER_BYTES, readU32 } from "./codec.ts";
import { decodeRecord, knownRecord, packRecord, packSliced, SERIES_SLICE } from "./compress.ts";

export interface WalOptions {
  /** The WAL directory, e.g. `<storage.tsdb.path>/wal`; created when missing. */
  dir: string;
  /** Bytes; default 128 MiB. A new segment file is started when a record would exceed it. */
  segmentSize?: number;
  /** 0 (default): fsync before every commit resolves; > 0: group commit, fsync at most this often. */
  fsyncIntervalMs?: number;
  /** Test hooks: `checkpointStep` runs after each crash-relevant step of `checkpoint()`. */
  hooks?: WalHooks;
}

export type CheckpointStep = "written" | "renamed" | "segments-deleted" | "done";

export interface WalHooks {
  checkpointStep?(step: CheckpointStep): void | Promise<void>;
}

export interface WalSeries {
  ref: number;
  labels: Labels;
}

/** Struct-of-arrays samples; `ts` integer ms; `stale[i] = 1` marks a stale marker. */
export interface WalSamples {
  count: number;
  refs: Uint32Array;
  ts: Float64Array;
  values: Float64Array;
  stale: Uint8Array;
  /** Exemplars committed with these samples (rare: kept as objects). */
  exemplars?: readonly WalExemplar[];
}

/** An exemplar of series `ref`: its own labels, value and timestamp (ms). */
export interface WalExemplar {
  ref: number;
  t: number;
  v: number;
  labels: Labels;
}

/** A byte position in the log: everything before `offset` in `segment` (and all earlier segments). */
export interface WalPosition {
  segment: number;
  offset: number;
}

/** The log's files: see Wal.files(). */
export interface WalFiles {
  checkpoint: number;
  /** [segment number, size in bytes], ascending. */
  segments: Array<[number, number]>;
}

export interface WalCorruption {
  segment: number;
  offset: number;
  reason: string;
}

export interface WalReplayResult {
  records: number;
  samples: number;
  /** The first corruption met, or null. */
  corruption: WalCorruption | null;
}

export interface WalStats {
  bytesWritten: number;
  records: number;
  fsyncs: number;
  fsyncSeconds: number;
  corruptions: number;
  /** Segment files on disk. */
  segments: number;
  /** Checkpoints that truncated the log (prometheus_tsdb_wal_truncations_total). */
  truncations: number;
}

const DEFAULT_SEGMENT_SIZE = 128 * 1024 * 1024;
const CHECKPOINT_BATCH = 4096;
const SEGMENT_RE = /^\d{8}$/;
const CHECKPOINT_RE = /^checkpoint\.(\d{8})$/;
const NO_SAMPLES: WalSamples = {
  count: 0,
  refs: new Uint32Array(0),
  ts: new Float64Array(0),
  values: new Float64Array(0),
  stale: new Uint8Array(0),
};

const segName = (n: number) => String(n).padStart(8, "0");
const checkpointName = (n: number) => `checkpoint.${segName(n)}`;

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * @example
 * const wal = await Wal.open({ dir: "data/wal", fsyncIntervalMs: 0 });
 * await wal.replay({ series: (s) => head.addSeries(s), samples: (s) => head.addSamples(s) });
 * await wal.commit(newSeries, samples); // durable when it resolves
 */
export class Wal {
  readonly #dir: string;
  readonly #segmentSize: number;
  readonly #interval: number;
  readonly #hooks: WalHooks;
  readonly #enc = new Encoder();
  /** Segment numbers on disk. */
  readonly #segments: Set<number>;
  #checkpoint: number;
  #cur: number;
  #fh: FileHandle | null = null;
  #size = 0;
  /** The current segment's tail is unknown (no replay) or suspect (a failed write or fsync). */
  #startFresh = true;
  #chain: Promise<void> = Promise.resolve();
  #written = 0;
  #synced = 0;
  #waiters: Waiter[] = [];
  #syncQueued = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #lastSyncStart = -Infinity;
  #closed = false;
  #committed = false;
  #checkpointing: Promise<void> = Promise.resolve();
  /** Where the fsynced records end (readers such as remote write tail up to here). */
  #durable: WalPosition = { segment: -1, offset: 0 };
  readonly #durableListeners = new Set<(p: WalPosition) => void>();
  #stats: WalStats = { bytesWritten: 0, records: 0, fsyncs: 0, fsyncSeconds: 0, corruptions: 0, segments: 0, truncations: 0 };

  private constructor(opts: WalOptions, segments: Set<number>, checkpoint: number) {
    this.#dir = opts.dir;
    this.#segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.#interval = opts.fsyncIntervalMs ?? 0;
    this.#hooks = opts.hooks ?? {};
    this.#segments = segments;
    this.#checkpoint = checkpoint;
    this.#cur = Math.max(checkpoint, 0, ...segments);
  }

  /** Opens (creating if needed) the WAL in `opts.dir`; call `replay()` before committing. */
  static async open(opts: WalOptions): Promise<Wal> {
    if (typeof opts.dir !== "string" || opts.dir === "") throw new TypeError(`Cannot open WAL: dir must be a non-empty path, got ${JSON.stringify(opts.dir)}`);
    const seg = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    if (!Number.isInteger(seg) || seg < 64) throw new RangeError(`Cannot open WAL in ${opts.dir}: segmentSize must be an integer ≥ 64 bytes, got ${seg}`);
    const iv = opts.fsyncIntervalMs ?? 0;
    if (!Number.isFinite(iv) || iv < 0) throw new RangeError(`Cannot open WAL in ${opts.dir}: fsyncIntervalMs must be ≥ 0, got ${iv}`);
    await mkdir(opts.dir, { recursive: true });
    const segments = new Set<number>();
    let checkpoint = -1;
    const stale: string[] = [];
    for (const name of await readdir(opts.dir)) {
      if (SEGMENT_RE.test(name)) segments.add(Number(name));
      else if (name.endsWith(".tmp")) stale.push(name);
      else {
        const m = CHECKPOINT_RE.exec(name);
        if (m) checkpoint = Math.max(checkpoint, Number(m[1]));
      }
    }
    for (const name of stale) await rm(join(opts.dir, name), { recursive: true, force: true });
    const wal = new Wal(opts, segments, checkpoint);
    wal.#stats.segments = segments.size;
    return wal;
  }

  /** The segment new records go to. */
  get segment(): number {
    return this.#cur;
  }

  /** The WAL directory (readers open its segment and checkpoint files themselves). */
  get dir(): string {
    return this.#dir;
  }

  /**
   * The end of the durable (fsynced, acknowledged) records: segments before `segment` are
   * complete, and `segment` is complete up to `offset`. Readers never read past it.
   */
  get durable(): WalPosition {
    return this.#durable;
  }

  /** Calls `listener` each time the durable position moves (after the fsync); returns the unsubscribe. */
  onDurable(listener: (p: WalPosition) => void): () => void {
    this.#durableListeners.add(listener);
    return () => void this.#durableListeners.delete(listener);
  }

  stats(): WalStats {
    return { ...this.#stats, segments: this.#segments.size };
  }

  /**
   * Writes one transaction as one record; resolves when an fsync covers it. The samples are
   * encoded before the call returns (the caller may reuse its arrays at once); compression
   * runs off the main thread, and a commit of more than SERIES_SLICE new series encodes
   * their labels in slices that yield to the event loop. Records are written in the order
   * of the calls whatever finishes first. The record lands in `segment` as read before the
   * call or a later one; read after the call resolves, `segment` may already be past it
   * (another commit rolled the segment meanwhile).
   */
  commit(series: readonly WalSeries[], samples: WalSamples): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`Cannot commit to the WAL in ${this.#dir}: it is closed`));
    this.#committed = true;
    let record: Promise<Uint8Array>;
    try {
      record = series.length <= SERIES_SLICE ? packRecord(this.#enc.encodeBody(series, samples)) : packSliced(series.slice(), this.#enc.encodeTail(samples));
    } catch (e) {
      return Promise.reject(e);
    }
    record.catch(() => undefined); // awaited in commit order below; this only marks it handled
    return new Promise<void>((resolve, reject) => {
      const job = this.#chain.then(async () => {
        const buf = await record;
        await this.#write(buf);
        this.#waiters.push({ seq: this.#written, resolve, reject });
        this.#requestSync();
      });
      this.#chain = job.catch(reject);
    });
  }

  /** Starts a new segment (when the current one has records); resolves to its number. */
  cut(): Promise<number> {
    const job = this.#chain.then(async () => {
      if (!this.#fh) await this.#openForAppend();
      if (this.#size > 0) await this.#roll();
      return this.#cur;
    });
    this.#chain = job.then(() => undefined, () => undefined);
    return job;
  }

  /**
   * Reads every intact record in order (checkpoint first, then segments) and calls back per
   * record (the typed arrays handed to `samples` are fresh: the handler may keep them).
   * Call once, at start-up, before the first commit.
   */
  async replay(handlers: { series(s: WalSeries): void; samples(s: WalSamples): void; exemplars?(e: WalExemplar[]): void }): Promise<WalReplayResult> {
    if (this.#fh || this.#committed) throw new Error(`Cannot replay the WAL in ${this.#dir}: it has been written to since it was opened`);
    const res: WalReplayResult = { records: 0, samples: 0, corruption: null };
    const report = (c: WalCorruption) => {
      this.#stats.corruptions++;
      res.corruption ??= c;
    };
    const emit = (type: number, b: Uint8Array, start: number, end: number) => {
      const tx = decodeRecord(type, b, start, end);
      return () => {
        for (const s of tx.series) handlers.series(s);
        if (tx.samples) handlers.samples(tx.samples);
        if (tx.exemplars) handlers.exemplars?.(tx.exemplars);
        res.records++;
        res.samples += tx.samples?.count ?? 0;
      };
    };
    if (this.#checkpoint >= 0) {
      const name = checkpointName(this.#checkpoint);
      const bytes = await readFile(join(this.#dir, name));
      const bad = scan(bytes, emit);
      if (bad) report({ segment: this.#checkpoint, offset: bad.offset, reason: `${name}: ${bad.reason}` });
    }
    // Segments older than the checkpoint were left by a checkpoint that crashed before deleting them.
    for (const n of [...this.#segments].filter((n) => n < this.#checkpoint)) await this.#deleteSegment(n);
    const segs = [...this.#segments].sort((a, b) => a - b);
    for (const n of segs) {
      const path = join(this.#dir, segName(n));
      const bytes = await readFile(path);
      const bad = scan(bytes, emit);
      if (!bad) continue;
      report({ segment: n, offset: bad.offset, reason: bad.reason });
      const fh = await open(path, "r+");
      try {
        await fh.truncate(bad.offset);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
    this.#startFresh = false;
    const last = segs[segs.length - 1];
    if (last !== undefined) this.#durable = { segment: last, offset: Bun.file(join(this.#dir, segName(last))).size };
    return res;
  }

  /**
   * The files of the log now: the checkpoint's number (−1: none) and each segment's number
   * and size. A head snapshot records them at shutdown; at start-up, the same files mean
   * nothing was written after the snapshot.
   */
  async files(): Promise<WalFiles> {
    const segments: Array<[number, number]> = [];
    for (const n of [...this.#segments].sort((a, b) => a - b)) segments.push([n, (await stat(join(this.#dir, segName(n)))).size]);
    return { checkpoint: this.#checkpoint, segments };
  }

  /**
   * Starts without replay: the head was restored from a snapshot taken when the log held
   * exactly `files` (what files() returned then). Rejects, changing nothing, when the log
   * differs; call it instead of replay(), before the first commit.
   */
  async resume(files: WalFiles): Promise<void> {
    if (this.#fh || this.#committed) throw new Error(`Cannot resume the WAL in ${this.#dir}: it has been written to since it was opened`);
    const now = await this.files();
    if (JSON.stringify(now) !== JSON.stringify(files)) {
      throw new Error(`The WAL in ${this.#dir} changed after the snapshot was taken (now checkpoint ${now.checkpoint} and segments ${JSON.stringify(now.segments)}; then checkpoint ${files.checkpoint} and segments ${JSON.stringify(files.segments)})`);
    }
    this.#startFresh = false;
    const last = now.segments[now.segments.length - 1];
    if (last !== undefined) this.#durable = { segment: last[0], offset: last[1] };
  }

  /**
   * After the head flushed everything older than `segment` to blocks: writes a checkpoint of
   * `liveSeries` (then `exemplars`, whose refs must be among them), then deletes segments <
   * `segment` and older checkpoints. A crash at any step leaves either the old state or the
   * new one readable.
   */
  checkpoint(liveSeries: Iterable<WalSeries>, segment: number, exemplars: Iterable<WalExemplar> = []): Promise<void> {
    if (!Number.isInteger(segment) || segment < 0 || segment > this.#cur) {
      return Promise.reject(new RangeError(`Cannot checkpoint the WAL in ${this.#dir}: segment must be an integer in 0..${this.#cur} (the current segment), got ${segment}`));
    }
    // One checkpoint at a time; commits go on meanwhile (they only touch segments ≥ segment).
    const job = this.#checkpointing.then(() => this.#checkpoint_(liveSeries, segment, exemplars));
    this.#checkpointing = job.catch(() => undefined);
    return job;
  }

  async #checkpoint_(liveSeries: Iterable<WalSeries>, segment: number, exemplars: Iterable<WalExemplar>): Promise<void> {
    if (segment <= this.#checkpoint) return;
    const step = async (s: CheckpointStep) => {
      await this.#hooks.checkpointStep?.(s);
    };
    const final = join(this.#dir, checkpointName(segment));
    const tmp = `${final}.tmp`;
    const fh = await open(tmp, "w");
    try {
      let pos = 0;
      /** Writes `items` in records of CHECKPOINT_BATCH, each made by `encode`. */
      const writeBatched = async <T>(items: Iterable<T>, encode: (batch: T[]) => Promise<Uint8Array>) => {
        let batch: T[] = [];
        const flush = async () => {
          const buf = await encode(batch);
          await writeAll(fh, buf, pos);
          pos += buf.length;
          batch = [];
        };
        for (const item of items) {
          batch.push(item);
          if (batch.length === CHECKPOINT_BATCH) await flush();
        }
        if (batch.length > 0) await flush();
      };
      await writeBatched(liveSeries, (series) => packRecord(this.#enc.encodeBody(series, NO_SAMPLES)));
      await writeBatched(exemplars, (held) => packRecord(this.#enc.encodeBody([], { ...NO_SAMPLES, exemplars: held })));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await step("written");
    await rename(tmp, final);
    await this.#syncDir();
    const older = this.#checkpoint;
    this.#checkpoint = segment;
    await step("renamed");
    for (const n of [...this.#segments].filter((n) => n < segment).sort((a, b) => a - b)) await this.#deleteSegment(n);
    await step("segments-deleted");
    if (older >= 0) await rm(join(this.#dir, checkpointName(older)), { force: true });
    await this.#syncDir();
    this.#stats.truncations++;
    await step("done");
  }

  /** Waits for pending commits (and their fsync), then closes the segment. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#chain;
    await this.#sync();
    await this.#checkpointing;
    await this.#fh?.close();
    this.#fh = null;
  }

  async #write(buf: Uint8Array): Promise<void> {
    if (!this.#fh) await this.#openForAppend();
    if (this.#size > 0 && this.#size + buf.length > this.#segmentSize) await this.#roll();
    const fh = this.#fh!;
    try {
      await writeAll(fh, buf, this.#size);
    } catch (e) {
      // Never leave half a record in front of the next one: cut it off, or move on.
      try {
        await fh.truncate(this.#size);
      } catch {
        this.#startFresh = true;
        await this.#sync();
        await this.#closeSegment();
      }
      throw e;
    }
    this.#size += buf.length;
    this.#written++;
    this.#stats.bytesWritten += buf.length;
    this.#stats.records++;
  }

  async #openForAppend(): Promise<void> {
    const path = () => join(this.#dir, segName(this.#cur));
    if (this.#startFresh && this.#segments.has(this.#cur)) {
      // Without a replay the tail may be torn: never append behind it.
      const probe = await open(path(), "r");
      const size = (await probe.stat()).size;
      await probe.close();
      if (size > 0) this.#cur++;
    }
    if (this.#segments.has(this.#cur)) {
      this.#fh = await open(path(), "r+");
      this.#size = (await this.#fh.stat()).size;
    } else {
      this.#fh = await open(path(), "w");
      this.#size = 0;
      this.#segments.add(this.#cur);
      await this.#syncDir();
    }
    this.#startFresh = false;
  }

  /** Makes the current segment durable, closes it and starts the next. */
  async #roll(): Promise<void> {
    await this.#sync();
    await this.#closeSegment();
    this.#cur++;
    await this.#openForAppend();
  }

  async #closeSegment(): Promise<void> {
    const fh = this.#fh;
    this.#fh = null;
    await fh?.close().catch(() => undefined);
  }

  #requestSync(): void {
    if (this.#syncQueued || this.#closed) return; // close() fsyncs whatever is pending
    this.#syncQueued = true;
    const enqueue = () => {
      this.#timer = null;
      this.#syncQueued = false;
      // The interval counts from when a sync is scheduled: one queued behind writes that
      // has not started yet must not let a second one through at once.
      this.#lastSyncStart = performance.now();
      this.#chain = this.#chain.then(() => this.#sync());
    };
    if (this.#interval === 0) {
      // A microtask later, so commits issued together share one fsync.
      queueMicrotask(enqueue);
    } else {
      const wait = Math.max(0, this.#lastSyncStart + this.#interval - performance.now());
      this.#timer = setTimeout(enqueue, wait);
    }
  }

  /** fsyncs what was written so far and resolves the commits it covers; never throws. */
  async #sync(): Promise<void> {
    const target = this.#written;
    if (this.#synced >= target) return;
    const reached: WalPosition = { segment: this.#cur, offset: this.#size };
    const t0 = performance.now();
    this.#lastSyncStart = t0;
    let err: unknown = null;
    try {
      if (!this.#fh) throw new Error(`Cannot fsync WAL segment ${segName(this.#cur)} in ${this.#dir}: it was closed after an error`);
      await this.#fh.datasync();
    } catch (e) {
      err = e;
      // After a failed fsync the page cache may have dropped the data: do not trust this file.
      this.#startFresh = true;
      await this.#closeSegment();
    }
    this.#stats.fsyncs++;
    this.#stats.fsyncSeconds += (performance.now() - t0) / 1000;
    this.#synced = target;
    let i = 0;
    for (; i < this.#waiters.length && this.#waiters[i]!.seq <= target; i++) {
      const w = this.#waiters[i]!;
      if (err) w.reject(err);
      else w.resolve();
    }
    this.#waiters.splice(0, i);
    if (err === null && this.#fh !== null) {
      this.#durable = reached;
      for (const l of this.#durableListeners) l(reached);
    }
    if (this.#waiters.length > 0 && !this.#closed) this.#requestSync();
  }

  async #deleteSegment(n: number): Promise<void> {
    await rm(join(this.#dir, segName(n)), { force: true });
    this.#segments.delete(n);
  }

  async #syncDir(): Promise<void> {
    const d = await open(this.#dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }
}

async function writeAll(fh: FileHandle, buf: Uint8Array, pos: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, pos + off);
    if (bytesWritten <= 0) throw new Error(`short write at offset ${pos + off}`);
    off += bytesWritten;
  }
}

/**
 * Walks the records of one file, handing each intact one to `emit` (which decodes it and
 * returns the callback delivery). Returns the first bad record's offset and why, or null.
 */
function scan(b: Uint8Array, emit: (type: number, b: Uint8Array, start: number, end: number) => () => void): { offset: number; reason: string } | null {
  let p = 0;
  while (p < b.length) {
    if (b.length - p < HEADER_BYTES) return { offset: p, reason: `torn record header: ${b.length - p} of ${HEADER_BYTES} bytes` };
    const type = b[p]!;
    const len = readU32(b, p + 1);
    if (type === 0 && len === 0) return { offset: p, reason: "zero bytes where a record should start" };
    const end = p + HEADER_BYTES + len;
    if (end + CRC_BYTES > b.length) return { offset: p, reason: `torn record: needs ${HEADER_BYTES + len + CRC_BYTES} bytes, ${b.length - p} left` };
    const crc = readU32(b, end);
    if (Bun.hash.crc32(b.subarray(p, end)) !== crc) return { offset: p, reason: "CRC mismatch" };
    if (!knownRecord(type)) return { offset: p, reason: `unknown record type ${type}` };
    let deliver: () => void;
    try {
      deliver = emit(type, b, p + HEADER_BYTES, end);
    } catch (e) {
      return { offset: p, reason: `malformed payload: ${(e as Error).message}` };
    }
    deliver(); // handler errors propagate: they are not corruption
    p = end + CRC_BYTES;
  }
  return null;
}
