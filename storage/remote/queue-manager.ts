/**
 * One `remote_write` queue (spec §6.2): it tails the TSDB's write-ahead log — series records
 * give labels (external labels, then write_relabel_configs, encoded once), sample records
 * give samples — shards them by series ref, and sends batches with retries. With
 * `send_exemplars`, the exemplars of records read from WAL segments go the same way (never
 * those a checkpoint holds: they were sent before, or are older than the start), each
 * series' exemplars in a TimeSeries of their own after its samples, counted towards the batch.
 *
 * Why the WAL and not an in-memory copy of each commit: only committed samples are sent; a
 * full queue or a receiver that is down makes the reader wait (it never blocks scraping and
 * memory stays at `capacity` samples per shard — an outage costs WAL disk, which the TSDB
 * keeps for us through `holdWal`); and the send position, a WAL (segment, offset), is saved
 * after every acknowledged batch, so a restart resumes there.
 */
import * as snappy from "snappyjs";
import type { RemoteWriteConfig } from "../../core/config/types.ts";
import type { Logger } from "../../core/log/logger.ts";
import type { Labels } from "../../core/model/labels.ts";
import { Labels as LabelSet } from "../../core/model/labels.ts";
import { compileRelabel, relabel, type CompiledRule } from "../../core/relabel/index.ts";
import { realClock, type Clock } from "../../core/scrape/clock.ts";
import type { DecodedTx } from "../tsdb/wal/codec.ts";
import type { WalExemplar, WalPosition } from "../tsdb/wal/index.ts";
import { nextSleep } from "./backoff.ts";
import { WriteClient, type SendOutcome } from "./client.ts";
import type { RemoteMetrics } from "./metrics.ts";
import { PositionFile } from "./position.ts";
import { desiredShards, EwmaRate } from "./resharding.ts";
import { encodeLabels, encodeMetadataRequest, WriteRequestEncoder, type FamilyMetadata } from "./write-request.ts";
import { Shard } from "./shard.ts";
import { WalWatcher } from "./wal-watcher.ts";

/** What a queue needs from the local TSDB. */
export interface WalSource {
  readonly wal: {
    readonly dir: string;
    readonly durable: WalPosition;
    readonly segment: number;
    onDurable(listener: (p: WalPosition) => void): () => void;
  };
  holdWal(lowest: () => number): () => void;
}

export interface QueueOptions {
  config: RemoteWriteConfig;
  /** `remote_name` label and log name: the config's name or a hash of it. */
  name: string;
  externalLabels: Record<string, string>;
  source: WalSource;
  /** Where the send position is kept. */
  dir: string;
  metrics: RemoteMetrics;
  log: Logger;
  clock?: Clock;
  userAgent?: string;
  /** How often the shard count is reconsidered (Prometheus: 10 s). */
  reshardIntervalMs?: number;
  /** How long stop() keeps sending what is queued (Prometheus: --storage.remote.flush-deadline, 1 m). */
  flushDeadlineMs?: number;
  /** The scrape targets' metric metadata, sent every metadata_config.send_interval (when send is on). */
  metadata?: () => Iterable<FamilyMetadata>;
  /** Told how many exemplars each WAL record read from a segment holds (prometheus_remote_storage_exemplars_in_total). */
  exemplarsIn?: (n: number) => void;
}

const KEY_SHIFT = 2 ** 21;
const MAX_BATCH = KEY_SHIFT - 1;

export class QueueManager {
  readonly #o: QueueOptions;
  readonly #cfg: RemoteWriteConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #client: WriteClient;
  readonly #rules: CompiledRule[];
  readonly #m: { remote_name: string; url: string };
  readonly #position: PositionFile;
  readonly #batch: number;
  readonly #sendExemplars: boolean;
  readonly #enc = new WriteRequestEncoder();
  #keys: Float64Array;
  #idx: Uint32Array;

  /** Encoded labels by WAL ref; null: dropped by relabeling. */
  #labels: Array<Uint8Array | null | undefined> = [];
  /** The WAL segment (or checkpoint) where each ref's series record was last read. */
  #seriesSegment: Array<number | undefined> = [];
  #shards: Shard[] = [];
  #senders: Array<Promise<void>> = [];

  // WAL records in flight: sequence `#recBase + i` is at index i.
  #recBase = 0;
  #recHead = 0;
  #recSeg: number[] = [];
  #recEnd: number[] = [];
  #recOut: number[] = [];
  #recSealed: boolean[] = [];
  /** Everything before this was acknowledged (or dropped for good). */
  #acked: WalPosition = { segment: 0, offset: 0 };
  #started = false;

  /** stop() was called: the reader ends once it has caught up with the WAL. */
  #stopping = false;
  /** The flush deadline passed (or resharding gave up): stop reading and sending now. */
  #halted = false;
  /** Aborts sends, backoff sleeps and waits: the hard stop after the flush deadline. */
  readonly #abort = new AbortController();
  #gate: Promise<void> | null = null;
  #space: { promise: Promise<void>; resolve: () => void } | null = null;
  #unsubscribe: () => void = () => {};
  #release: () => void = () => {};
  #watcher: Promise<void> = Promise.resolve();
  #walWatcher: WalWatcher | null = null;
  #resharder: Promise<void> = Promise.resolve();
  #metadataSender: Promise<void> = Promise.resolve();

  // Resharding inputs.
  readonly #interval: number;
  readonly #inRate: EwmaRate;
  readonly #outRate: EwmaRate;
  readonly #droppedRate: EwmaRate;
  readonly #durationRate: EwmaRate;
  #highestIn = -Infinity;
  #highestSent = -Infinity;
  #lastSendOk = 0;
  #reshardBlockedUntil = 0;
  #unknownRefs = 0;

  constructor(opts: QueueOptions) {
    this.#o = opts;
    this.#cfg = opts.config;
    this.#clock = opts.clock ?? realClock;
    this.#log = opts.log.with({ remote_name: opts.name, url: opts.config.url });
    this.#client = new WriteClient(opts.config, { now: () => this.#clock.now(), ...(opts.userAgent === undefined ? {} : { userAgent: opts.userAgent }) });
    this.#rules = compileRelabel(opts.config.write_relabel_configs);
    this.#m = { remote_name: opts.name, url: opts.config.url };
    this.#position = new PositionFile(opts.dir);
    const q = opts.config.queue_config;
    this.#sendExemplars = opts.config.send_exemplars;
    // As Prometheus: with exemplars a batch holds 10% more (they count towards it).
    this.#batch = Math.min(MAX_BATCH, this.#sendExemplars ? q.max_samples_per_send + Math.trunc(q.max_samples_per_send * 0.1) : q.max_samples_per_send);
    this.#keys = new Float64Array(this.#batch);
    this.#idx = new Uint32Array(this.#batch);
    this.#interval = opts.reshardIntervalMs ?? 10_000;
    this.#inRate = new EwmaRate(0.2, this.#interval);
    this.#outRate = new EwmaRate(0.2, this.#interval);
    this.#droppedRate = new EwmaRate(0.2, this.#interval);
    this.#durationRate = new EwmaRate(0.2, this.#interval);
  }

  get name(): string {
    return this.#o.name;
  }

  get config(): RemoteWriteConfig {
    return this.#cfg;
  }

  get shardCount(): number {
    return this.#shards.length;
  }

  /** The position up to which every sample was acknowledged. */
  get acked(): WalPosition {
    return this.#acked;
  }

  /** Newest sample timestamp (ms) read from the WAL. */
  get highestIn(): number {
    return this.#highestIn;
  }

  /** Samples (and exemplars) queued in memory, not yet acknowledged. */
  get pending(): number {
    let n = 0;
    for (const s of this.#shards) n += s.len;
    return n;
  }

  /** Exemplars queued in memory, not yet acknowledged. */
  get pendingExemplars(): number {
    let n = 0;
    for (const s of this.#shards) n += s.exemplars;
    return n;
  }

  #setPending(): void {
    const ex = this.pendingExemplars;
    this.#o.metrics.pending.set(this.#m, this.pending - ex);
    if (this.#sendExemplars) this.#o.metrics.pendingExemplars.set(this.#m, ex);
  }

  /** Loads the saved position (or starts at the WAL's end), then reads and sends in the background. */
  async start(): Promise<void> {
    const { source } = this.#o;
    // Until the reader has the series before its start (checkpoint included), keep every file.
    this.#release = source.holdWal(() => (this.#started ? this.#acked.segment : 0));
    let start = await this.#position.load().catch((err: Error) => {
      this.#log.error("Cannot read the saved send position; starting at the end of the WAL", { err: err.message });
      return null;
    });
    if (start === null) {
      const d = source.wal.durable;
      start = d.segment >= 0 ? d : { segment: source.wal.segment, offset: 0 };
      this.#log.info("Starting remote write at the end of the WAL", { segment: start.segment, offset: start.offset });
      // Saved at once: a restart before the first acknowledgement must resume here, not at the new end.
      await this.#position.save(start).catch((err) => this.#log.error("Cannot save the send position", { err: (err as Error).message }));
    } else {
      const d = source.wal.durable;
      const end = d.segment >= 0 ? d : { segment: source.wal.segment, offset: 0 };
      if (start.segment > end.segment || (start.segment === end.segment && start.offset > end.offset)) {
        // The WAL was repaired (a torn tail cut off) or replaced: waiting for it to grow past the old position would skip what comes.
        this.#log.warn("The saved send position is past the end of the WAL; starting at its end", { saved: `${start.segment}:${start.offset}`, end: `${end.segment}:${end.offset}` });
        start = end;
      } else {
        this.#log.info("Resuming remote write at the saved position", { segment: start.segment, offset: start.offset });
      }
    }
    this.#acked = start;
    const watcher = new WalWatcher({
      wal: source.wal,
      log: this.#log,
      stopping: () => this.#stopping,
      halted: () => this.#halted,
      sink: {
        series: (ref, labels, seg) => this.#setSeries(ref, labels, seg),
        reset: (seg) => this.#forgetSeriesBefore(seg),
        record: (tx, seg, end) => this.#ingest(tx, seg, end),
        truncated: (pos) => void (this.#acked = pos),
        ready: () => void (this.#started = true),
      },
    });
    this.#walWatcher = watcher;
    this.#unsubscribe = source.wal.onDurable(() => watcher.wake());
    this.#setShards(this.#cfg.queue_config.min_shards);
    this.#watcher = watcher.run(start).catch((err) => {
      this.#log.error("The WAL reader stopped", { err: (err as Error).message });
    });
    this.#resharder = this.#reshardLoop();
    if (this.#cfg.metadata_config.send && this.#o.metadata !== undefined) this.#metadataSender = this.#metadataLoop(this.#o.metadata);
  }

  /**
   * Reads the WAL up to its durable end and sends everything, for up to the flush deadline;
   * then aborts whatever is still in flight (it stays unacknowledged: a restart sends it).
   */
  async stop(): Promise<void> {
    if (this.#stopping) return this.#stopped;
    this.#stopping = true;
    this.#stopped = this.#stop();
    return this.#stopped;
  }

  #stopped: Promise<void> = Promise.resolve();

  async #stop(): Promise<void> {
    this.#walWatcher?.wake();
    const timer = new AbortController();
    let late = false;
    const deadline = this.#clock.sleep(this.#o.flushDeadlineMs ?? 60_000, timer.signal).then(() => {
      if (timer.signal.aborted) return;
      late = true;
      this.#log.warn("Remote write did not flush within the deadline; the rest is sent after the next start", { pending: this.pending });
      this.#hardStop();
    });
    await this.#watcher;
    for (const s of this.#shards) {
      s.closing = true;
      s.wake();
    }
    await Promise.all(this.#senders);
    if (!late) timer.abort();
    await deadline;
    this.#hardStop();
    await Promise.all(this.#senders);
    await this.#resharder;
    await this.#metadataSender;
    this.#unsubscribe();
    await this.#position.close().catch((err) => this.#log.error("Cannot save the send position", { err: (err as Error).message }));
    this.#o.metrics.pending.set(this.#m, 0);
    if (this.#sendExemplars) this.#o.metrics.pendingExemplars.set(this.#m, 0);
  }

  /**
   * Lets the TSDB delete the WAL segments this queue still needed. Not part of stop(): at
   * shutdown the hold must outlast the TSDB's last checkpoint (unsent samples are in those
   * segments), and a restarted queue takes over the hold before the old one lets go.
   */
  releaseWal(): void {
    this.#release();
    this.#release = () => {};
  }

  #hardStop(): void {
    this.#halted = true;
    this.#abort.abort();
    for (const s of this.#shards) s.wake();
    this.#walWatcher?.wake();
    this.#space?.resolve();
  }

  /** Forgets the series whose last series record came before `segment` (gone from the TSDB). */
  #forgetSeriesBefore(segment: number): void {
    const seen = this.#seriesSegment;
    let forgotten = 0;
    for (let ref = 0; ref < seen.length; ref++) {
      const s = seen[ref];
      if (s !== undefined && s < segment) {
        this.#labels[ref] = undefined;
        seen[ref] = undefined;
        forgotten++;
      }
    }
    if (forgotten > 0) this.#log.debug("Forgot series the TSDB no longer has", { count: forgotten, checkpoint: segment });
  }

  /** Series held (labels encoded or dropped by relabeling). */
  get seriesCount(): number {
    let n = 0;
    for (const s of this.#seriesSegment) if (s !== undefined) n++;
    return n;
  }

  /** External labels (where absent), then write_relabel_configs; encoded once per series. */
  #setSeries(ref: number, labels: Labels, segment: number): void {
    this.#seriesSegment[ref] = segment;
    const ext = this.#o.externalLabels;
    let out: Labels | null = labels;
    const hasExt = Object.keys(ext).length > 0;
    if (hasExt || this.#rules.length > 0) {
      const map = labels.toMap();
      for (const [k, v] of Object.entries(ext)) if (!map.has(k)) map.set(k, v);
      out = relabel(map, this.#rules) ? LabelSet.from(map) : null;
      if (out !== null && out.size === 0) out = null;
    }
    this.#labels[ref] = out === null ? null : encodeLabels(out);
  }

  async #ingest(tx: DecodedTx, seg: number, end: number): Promise<void> {
    for (const s of tx.series) this.#setSeries(s.ref, s.labels, seg);
    const seq = this.#recBase + this.#recSeg.length;
    this.#recSeg.push(seg);
    this.#recEnd.push(end);
    this.#recOut.push(0);
    this.#recSealed.push(false);
    const smp = tx.samples;
    // The record stays unsealed when halted: it is read again after a restart.
    if (smp !== null && !(await this.#enqueueAll(smp.count, (i) => this.#enqueue(smp, i, seq)))) return;
    const ex = tx.exemplars;
    if (ex !== null) {
      this.#o.exemplarsIn?.(ex.length);
      if (this.#sendExemplars && !(await this.#enqueueAll(ex.length, (i) => this.#enqueueExemplars(ex, i, seq)))) return;
    }
    this.#recSealed[seq - this.#recBase] = true;
    this.#advance();
  }

  /** Queues samples from `from` on; returns where it stopped (a full shard) or `count`. */
  #enqueue(smp: NonNullable<DecodedTx["samples"]>, from: number, seq: number): number {
    const shards = this.#shards;
    const n = shards.length;
    const { refs, ts, values, stale } = smp;
    const labels = this.#labels;
    const slot = seq - this.#recBase;
    let queued = 0;
    let dropped = 0;
    let i = from;
    let highest = this.#highestIn;
    for (; i < smp.count; i++) {
      const ref = refs[i]!;
      const l = labels[ref];
      if (l === null || l === undefined) {
        if (l === undefined) this.#unknownRefs++;
        dropped++;
        continue;
      }
      const sh = shards[ref % n]!;
      if (sh.full) break;
      const t = ts[i]!;
      sh.push(ref, t, values[i]!, stale[i]!, seq);
      if (t > highest) highest = t;
      queued++;
    }
    this.#highestIn = highest;
    this.#recOut[slot]! += queued;
    this.#inRate.add(queued + dropped);
    if (dropped > 0) {
      this.#droppedRate.add(dropped);
      this.#o.metrics.droppedSamples.inc(this.#m, dropped);
    }
    return i;
  }

  /**
   * Calls `enqueue(from)` until it has taken all `total` items; when a shard is full, waits for
   * a send to finish (memory stays bounded; the WAL keeps the rest). False when halted meanwhile.
   */
  async #enqueueAll(total: number, enqueue: (from: number) => number): Promise<boolean> {
    let i = 0;
    for (;;) {
      if (this.#gate !== null) await this.#gate;
      if (this.#halted) return false;
      i = enqueue(i);
      if (i >= total) return true;
      this.#space ??= (() => {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => (resolve = r));
        return { promise, resolve };
      })();
      await this.#space.promise;
    }
  }

  /** Queues exemplars from `from` on (after their record's samples); returns where it stopped (a full shard) or the end. */
  #enqueueExemplars(list: readonly WalExemplar[], from: number, seq: number): number {
    const shards = this.#shards;
    const n = shards.length;
    const labels = this.#labels;
    let queued = 0;
    let dropped = 0;
    let i = from;
    for (; i < list.length; i++) {
      const e = list[i]!;
      const l = labels[e.ref];
      if (l === null || l === undefined) {
        // Of a series dropped by relabeling, or unknown.
        if (l === undefined) this.#unknownRefs++;
        dropped++;
        continue;
      }
      const sh = shards[e.ref % n]!;
      if (sh.full) break;
      sh.pushExemplar(e.ref, e.t, e.v, encodeLabels(e.labels), seq);
      queued++;
    }
    this.#recOut[seq - this.#recBase]! += queued;
    this.#inRate.add(queued + dropped);
    if (dropped > 0) {
      this.#droppedRate.add(dropped);
      this.#o.metrics.droppedExemplars.inc(this.#m, dropped);
    }
    if (queued > 0) this.#o.metrics.pendingExemplars.set(this.#m, this.pendingExemplars);
    return i;
  }

  /** Moves the acknowledged position over every finished record and saves it. */
  #advance(): void {
    let moved = false;
    let h = this.#recHead;
    const n = this.#recSeg.length;
    while (h < n && this.#recSealed[h] && this.#recOut[h] === 0) {
      this.#acked = { segment: this.#recSeg[h]!, offset: this.#recEnd[h]! };
      h++;
      moved = true;
    }
    this.#recHead = h;
    if (h > 4096 && h * 2 > n) {
      this.#recSeg.splice(0, h);
      this.#recEnd.splice(0, h);
      this.#recOut.splice(0, h);
      this.#recSealed.splice(0, h);
      this.#recBase += h;
      this.#recHead = 0;
    }
    if (moved) void this.#position.save(this.#acked).catch((err) => this.#log.error("Cannot save the send position", { err: (err as Error).message }));
  }

  // ---- shards and sending ----

  #setShards(n: number): void {
    const q = this.#cfg.queue_config;
    this.#shards = Array.from({ length: n }, (_, i) => new Shard(i, Math.max(q.capacity, this.#batch), this.#batch, this.#sendExemplars));
    const now = this.#clock.now();
    for (const s of this.#shards) s.lastSend = now;
    this.#senders = this.#shards.map((s) => this.#sender(s));
    this.#o.metrics.shards.set(this.#m, n);
  }

  async #sender(s: Shard): Promise<void> {
    const deadline = this.#cfg.queue_config.batch_send_deadline;
    while (!this.#abort.signal.aborted) {
      const due = this.#clock.now() >= s.lastSend + deadline;
      if (s.len >= this.#batch || (s.len > 0 && (due || s.closing))) {
        const ok = await this.#sendBatch(s, Math.min(s.len, this.#batch));
        if (!ok) return; // aborted
        s.lastSend = this.#clock.now();
        continue;
      }
      if (s.closing && s.len === 0) return;
      if (due) s.lastSend = this.#clock.now();
      // Woken by a full batch, closing, or the hard stop (which wakes every shard).
      await this.#clock.sleep(Math.max(1, s.lastSend + deadline - this.#clock.now()), s.waitSignal());
    }
  }

  /** Encodes the first `n` samples of `s`, sends them until done, and acknowledges them; false when aborted. */
  async #sendBatch(s: Shard, n: number): Promise<boolean> {
    const keys = this.#keys.subarray(0, n);
    const head = s.head;
    const mask = s.mask;
    for (let k = 0; k < n; k++) keys[k] = s.refs[(head + k) & mask]! * KEY_SHIFT + k;
    // Grouped by series (a series' samples stay in arrival, i.e. time, order).
    keys.sort();
    const ageLimit = this.#cfg.queue_config.sample_age_limit;
    let built = this.#encode(s, n, ageLimit > 0 ? this.#clock.now() - ageLimit : -Infinity);
    let body = built.body;
    let maxT = built.maxT;
    const m = this.#o.metrics;
    const q = this.#cfg.queue_config;
    let backoff = q.min_backoff;
    for (let attempt = 0; ; attempt++) {
      if (ageLimit > 0 && built.minT < this.#clock.now() - ageLimit) {
        // sample_age_limit: samples that grew too old while retrying are dropped, not sent.
        built = this.#encode(s, n, this.#clock.now() - ageLimit);
        body = built.body;
        maxT = built.maxT;
      }
      if (built.tooOld > 0) {
        m.droppedSamples.inc(this.#m, built.tooOld);
        built.tooOld = 0;
      }
      if (built.tooOldExemplars > 0) {
        m.droppedExemplars.inc(this.#m, built.tooOldExemplars);
        built.tooOldExemplars = 0;
      }
      if (built.count === 0 && built.exemplars === 0) break;
      const sent = built.count + built.exemplars;
      if (built.count > 0) m.samplesTotal.inc(this.#m, built.count);
      if (built.exemplars > 0) m.exemplarsTotal.inc(this.#m, built.exemplars);
      m.bytesTotal.inc(this.#m, body.length);
      if (attempt > 0) {
        if (built.count > 0) m.retriedSamples.inc(this.#m, built.count);
        if (built.exemplars > 0) m.retriedExemplars.inc(this.#m, built.exemplars);
      }
      const t0 = performance.now();
      const out: SendOutcome = await this.#client.send(body, attempt, this.#abort.signal);
      if (out.kind === "ok") {
        this.#durationRate.add((performance.now() - t0) / 1000);
        this.#outRate.add(sent);
        this.#lastSendOk = this.#clock.now();
        if (maxT > this.#highestSent) {
          this.#highestSent = maxT;
          m.highestSent.set(this.#m, maxT / 1000);
        }
        break;
      }
      if (out.kind === "permanent") {
        if (built.count > 0) m.failedSamples.inc(this.#m, built.count);
        if (built.exemplars > 0) m.failedExemplars.inc(this.#m, built.exemplars);
        this.#log.error("non-recoverable error; dropping the batch", { count: sent, err: out.error });
        break;
      }
      if (this.#abort.signal.aborted) return false;
      const next = nextSleep(backoff, out.retryAfterMs, q.max_backoff);
      backoff = next.backoff;
      this.#reshardBlockedUntil = this.#clock.now() + 2 * next.sleep;
      this.#log.warn("Failed to send batch, retrying", { err: out.error, sleep: `${next.sleep}ms` });
      await this.#clock.sleep(next.sleep, this.#abort.signal);
      if (this.#abort.signal.aborted) return false;
    }
    // Acknowledge: each sample's record has one fewer outstanding.
    const base = this.#recBase;
    const out = this.#recOut;
    for (let k = 0; k < n; k++) out[s.recs[(head + k) & mask]! - base]!--;
    s.release(n);
    this.#advance();
    this.#setPending();
    const space = this.#space;
    this.#space = null;
    space?.resolve();
    return true;
  }

  /**
   * The WriteRequest for the first `n` entries of `s` (keys already sorted), leaving out
   * those older than `cutoff`: snappy-compressed body, samples and exemplars in it, oldest
   * and newest timestamp. A series' exemplars follow its samples, in a TimeSeries of their own.
   */
  #encode(s: Shard, n: number, cutoff: number): { body: Uint8Array; count: number; exemplars: number; tooOld: number; tooOldExemplars: number; minT: number; maxT: number } {
    const keys = this.#keys;
    const idx = this.#idx;
    const head = s.head;
    const mask = s.mask;
    const enc = this.#enc;
    const ex = s.ex !== null && s.exemplars > 0 ? s.ex : null;
    enc.reset();
    let count = 0;
    let minT = Infinity;
    let maxT = -Infinity;
    let from = 0;
    let ref = -1;
    let exemplars = 0;
    let exAll = 0;
    // One series' exemplars at a time (rare: plain arrays).
    const exLabels: Uint8Array[] = [];
    const exTs: number[] = [];
    const exVs: number[] = [];
    for (let k = 0; k <= n; k++) {
      const key = k < n ? keys[k]! : -1;
      const r = k < n ? Math.floor(key / KEY_SHIFT) : -1;
      if (r !== ref) {
        if (count > from) enc.addSeries(this.#labels[ref]!, s.ts, s.values, s.stale, idx, from, count);
        if (exLabels.length > 0) {
          enc.addExemplars(this.#labels[ref]!, exLabels, exTs, exVs, 0, exLabels.length);
          exemplars += exLabels.length;
          exLabels.length = exTs.length = exVs.length = 0;
        }
        from = count;
        ref = r;
      }
      if (k === n) break;
      const pos = (head + (key % KEY_SHIFT)) & mask;
      const t = s.ts[pos]!;
      const el = ex?.[pos];
      if (el !== undefined) exAll++;
      if (t < cutoff) continue;
      if (t < minT) minT = t;
      if (t > maxT) maxT = t;
      if (el !== undefined) {
        exLabels.push(el);
        exTs.push(t);
        exVs.push(s.values[pos]!);
      } else idx[count++] = pos;
    }
    const kept = count + exemplars;
    return { body: kept === 0 ? new Uint8Array(0) : snappy.compress(enc.bytes()), count, exemplars, tooOld: n - exAll - count, tooOldExemplars: exAll - exemplars, minT, maxT };
  }

  // ---- metadata ----

  /** Every send_interval: the targets' metadata, deduplicated, in requests of metadata_config.max_samples_per_send. */
  async #metadataLoop(source: () => Iterable<FamilyMetadata>): Promise<void> {
    const mc = this.#cfg.metadata_config;
    while (!this.#stopping) {
      await this.#clock.sleep(mc.send_interval, this.#abort.signal);
      if (this.#stopping) return;
      const seen = new Map<string, FamilyMetadata>();
      for (const m of source()) seen.set(`${m.metric}\0${m.type}\0${m.help}\0${m.unit}`, m);
      const all = [...seen.values()];
      for (let i = 0; i < all.length && !this.#stopping; i += mc.max_samples_per_send) {
        await this.#sendMetadata(all.slice(i, i + mc.max_samples_per_send));
      }
    }
  }

  async #sendMetadata(entries: FamilyMetadata[]): Promise<void> {
    const m = this.#o.metrics;
    const q = this.#cfg.queue_config;
    const body = snappy.compress(encodeMetadataRequest(entries));
    let backoff = q.min_backoff;
    for (let attempt = 0; ; attempt++) {
      m.metadataTotal.inc(this.#m, entries.length);
      m.metadataBytes.inc(this.#m, body.length);
      if (attempt > 0) m.metadataRetried.inc(this.#m, entries.length);
      const out = await this.#client.send(body, attempt, this.#abort.signal);
      if (out.kind === "ok") return;
      if (out.kind === "permanent") {
        m.metadataFailed.inc(this.#m, entries.length);
        this.#log.error("non-recoverable error while sending metadata", { count: entries.length, err: out.error });
        return;
      }
      if (this.#stopping) return; // metadata is sent again next interval
      const next = nextSleep(backoff, out.retryAfterMs, q.max_backoff);
      backoff = next.backoff;
      await this.#clock.sleep(next.sleep, this.#abort.signal);
    }
  }

  // ---- resharding ----

  async #reshardLoop(): Promise<void> {
    const q = this.#cfg.queue_config;
    while (!this.#stopping) {
      await this.#clock.sleep(this.#interval, this.#abort.signal);
      if (this.#stopping) return;
      for (const r of [this.#inRate, this.#outRate, this.#droppedRate, this.#durationRate]) r.tick();
      if (q.min_shards === q.max_shards) continue;
      const now = this.#clock.now();
      const delay = Number.isFinite(this.#highestIn) && Number.isFinite(this.#highestSent) ? Math.max(0, (this.#highestIn - this.#highestSent) / 1000) : 0;
      const want = desiredShards({
        current: this.#shards.length,
        minShards: q.min_shards,
        maxShards: q.max_shards,
        inRate: this.#inRate.rate,
        outRate: this.#outRate.rate,
        droppedRate: this.#droppedRate.rate,
        outDurationRate: this.#durationRate.rate,
        delaySeconds: delay,
        intervalSeconds: this.#interval / 1000,
      });
      this.#o.metrics.shardsDesired.set(this.#m, want);
      if (want === this.#shards.length) continue;
      // Not while retrying, nor when nothing got through lately.
      if (now < this.#reshardBlockedUntil || now - this.#lastSendOk > this.#interval) continue;
      await this.reshard(want);
    }
  }

  /** Flushes every shard (keeping each series in order), then starts `n` new ones. */
  async reshard(n: number): Promise<void> {
    if (this.#gate !== null || this.#stopping) return;
    let open!: () => void;
    this.#gate = new Promise<void>((r) => (open = r));
    this.#space?.resolve();
    this.#space = null;
    for (const s of this.#shards) {
      s.closing = true;
      s.wake();
    }
    await Promise.all(this.#senders);
    if (!this.#abort.signal.aborted) {
      this.#log.info("Remote storage resharding", { from: this.#shards.length, to: n });
      this.#setShards(n);
    }
    this.#gate = null;
    open();
  }
}
