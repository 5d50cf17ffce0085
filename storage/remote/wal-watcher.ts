/**
 * Tails the TSDB's write-ahead log for one remote-write queue, as Prometheus's WAL watcher
 * does: at start, the series records of the checkpoint and of every segment up to the start
 * position (labels for the refs to come); then every record from the start position on, up
 * to the WAL's durable end, woken by each fsync (`wake()`) or a 1 s poll. A record is handed
 * over whole, and the next is read only when the sink has taken it — so a slow receiver
 * slows reading, never writing. Only segment records reach `record()` (with their exemplars):
 * of a checkpoint just the series are read, so the exemplars it holds (sent before, or older
 * than the start) are never sent again, as in Prometheus.
 */
import type { Logger } from "../../core/log/logger.ts";
import type { Labels } from "../../core/model/labels.ts";
import type { DecodedTx } from "../tsdb/wal/codec.ts";
import type { WalPosition } from "../tsdb/wal/index.ts";
import { checkpointPath, listWal, nextRecord, SegmentFile, segmentPath } from "../tsdb/wal/reader.ts";

export interface WatcherSink {
  /** A series record (also those before the start position), read in `segment` (a checkpoint counts as its number). */
  series(ref: number, labels: Labels, segment: number): void;
  /**
   * A newer checkpoint was read (its series just came through series()): series last seen
   * before `segment` are gone from the TSDB and will have no more samples (Prometheus's
   * SeriesReset), so the sink can forget them.
   */
  reset(segment: number): void;
  /** A record from the start position on, ending at `end` in `segment`; resolves once taken. */
  record(tx: DecodedTx, segment: number, end: number): Promise<void>;
  /** The start position was gone (checkpointed away): reading starts at `pos` instead. */
  truncated(pos: WalPosition): void;
  /** The series before the start are read; from here on only segments from the start are read. */
  ready(): void;
}

export interface WatcherOptions {
  wal: { readonly dir: string; readonly durable: WalPosition };
  sink: WatcherSink;
  log: Logger;
  /** Caught up with the durable end: return instead of waiting for more. */
  stopping(): boolean;
  /** Return now, even mid-record. */
  halted(): boolean;
}

export class WalWatcher {
  readonly #o: WatcherOptions;
  /** The newest checkpoint whose series were read. */
  #checkpoint = -1;
  /** Resolves the pending wait, if the watcher is waiting. */
  #notify: (() => void) | null = null;

  constructor(opts: WatcherOptions) {
    this.#o = opts;
  }

  /** Looks at the WAL again now (called on every fsync). */
  wake(): void {
    const notify = this.#notify;
    this.#notify = null;
    notify?.();
  }

  /** Waits for a commit (or a 1 s poll, or stop). */
  #waitForWal(): Promise<void> {
    if (this.#o.halted()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.wake(), 1000);
      this.#notify = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * Reads from `start` until stopping() and caught up, or halted(). A failing read (an I/O
   * error) is logged and tried again a second later from the same record, so the queue
   * neither stops nor skips; an error from the sink is a bug and ends the run.
   */
  async run(start: WalPosition): Promise<void> {
    let pos = start;
    let ready = false;
    for (;;) {
      try {
        if (!ready) {
          pos = await this.#readSeriesBefore(pos);
          ready = true;
          this.#o.sink.ready();
        }
        await this.#tail(pos, (p) => (pos = p));
        return;
      } catch (err) {
        if (err instanceof SinkError) throw err.cause;
        this.#o.log.error("Reading the WAL failed; trying again in 1s", { segment: pos.segment, offset: pos.offset, err: (err as Error).message });
        await this.#waitForWal();
        if (this.#o.halted()) return;
      }
    }
  }

  /** The series records of the checkpoint and of the segments up to `start`; the position to tail from. */
  async #readSeriesBefore(start: WalPosition): Promise<WalPosition> {
    const dir = this.#o.wal.dir;
    const files = await listWal(dir);
    let seg = start.segment;
    let off = start.offset;
    // Series records before the start give the labels of the refs to come.
    if (files.checkpoint >= 0) {
      if (files.checkpoint > seg) {
        this.#o.log.warn("The WAL was truncated past the send position; samples in between are lost", { from: seg, to: files.checkpoint });
        seg = files.checkpoint;
        off = 0;
        this.#o.sink.truncated({ segment: seg, offset: 0 });
      }
      await this.#readSeriesOnly(checkpointPath(dir, files.checkpoint), Infinity, files.checkpoint);
      this.#checkpoint = files.checkpoint;
    }
    for (const n of files.segments) {
      if (n < files.checkpoint || n > seg) continue;
      await this.#readSeriesOnly(segmentPath(dir, n), n === seg ? off : Infinity, n);
    }
    return { segment: seg, offset: off };
  }

  /** At a segment boundary: a checkpoint the TSDB wrote since (up to `seg`) refreshes the live series. */
  async #newCheckpoint(seg: number): Promise<void> {
    const { checkpoint } = await listWal(this.#o.wal.dir);
    if (checkpoint <= this.#checkpoint || checkpoint > seg) return;
    // A newer checkpoint may replace it meanwhile: then there is nothing to read, and the next boundary tries again.
    if (!(await this.#readSeriesOnly(checkpointPath(this.#o.wal.dir, checkpoint), Infinity, checkpoint))) return;
    this.#checkpoint = checkpoint;
    this.#o.sink.reset(checkpoint);
  }

  /** Hands over every record from `start` on; `moved` gets the position after each one. */
  async #tail(start: WalPosition, moved: (p: WalPosition) => void): Promise<void> {
    const dir = this.#o.wal.dir;
    let seg = start.segment;
    let off = start.offset;
    let file: SegmentFile | null = null;
    try {
      while (!this.#o.halted()) {
        const d = this.#o.wal.durable;
        if (seg > d.segment || (seg === d.segment && off >= d.offset)) {
          if (this.#o.stopping()) break; // caught up: everything committed is queued
          await this.#waitForWal();
          continue;
        }
        if (file === null) {
          try {
            file = await SegmentFile.open(segmentPath(dir, seg));
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
            if (seg < d.segment) {
              const next = (await listWal(dir)).segments.find((n) => n > seg);
              seg = next ?? d.segment;
              off = 0;
            } else await this.#waitForWal();
            continue;
          }
        }
        const limit = seg < d.segment ? await file.size() : d.offset;
        if (off >= limit) {
          // A finished segment: go on with the next one on disk.
          await file.close();
          file = null;
          const next = (await listWal(dir)).segments.find((n) => n > seg);
          if (next === undefined) {
            await this.#waitForWal();
            continue;
          }
          seg = next;
          off = 0;
          await this.#newCheckpoint(seg);
          continue;
        }
        let min = 0;
        for (;;) {
          const win = await file.window(off, limit, min);
          let p = 0;
          min = 0;
          while (p < win.length && !this.#o.halted()) {
            const r = nextRecord(win, p, win.length);
            if (r.kind === "record") {
              try {
                await this.#o.sink.record(r.tx, seg, off + r.end);
              } catch (err) {
                throw new SinkError(err);
              }
              p = r.end;
              moved({ segment: seg, offset: off + p });
            } else if (r.kind === "partial") {
              if (off + p + r.need > limit) {
                this.#o.log.error("A WAL segment ends in a torn record; skipping to the next segment", { segment: seg, offset: off + p });
                off = limit;
                p = 0;
                break;
              }
              min = r.need;
              break;
            } else {
              this.#o.log.error("A damaged WAL record; skipping the rest of the segment", { segment: seg, offset: off + p, reason: r.reason });
              off = limit;
              p = 0;
              break;
            }
          }
          off += p;
          if (min === 0 || this.#o.halted()) break;
        }
      }
    } finally {
      await file?.close();
    }
  }

  /** Hands the series records of a file (up to `upTo`) to the sink; false when the file is gone. */
  async #readSeriesOnly(path: string, upTo: number, segment: number): Promise<boolean> {
    let f: SegmentFile;
    try {
      f = await SegmentFile.open(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
    try {
      const limit = Math.min(upTo, await f.size());
      let off = 0;
      let min = 0;
      while (off < limit) {
        const win = await f.window(off, limit, min);
        let p = 0;
        min = 0;
        for (;;) {
          const r = nextRecord(win, p, win.length);
          if (r.kind === "record") {
            for (const s of r.tx.series) this.#o.sink.series(s.ref, s.labels, segment);
            p = r.end;
            if (p >= win.length) break;
          } else if (r.kind === "partial" && off + p + r.need <= limit) {
            min = r.need;
            break;
          } else {
            if (r.kind === "bad") this.#o.log.warn("A damaged WAL record while reading series; the rest of the file is skipped", { path, offset: off + p, reason: r.reason });
            return true;
          }
        }
        if (p === 0 && min === 0) return true;
        off += p;
      }
      return true;
    } finally {
      await f.close();
    }
  }
}

/** An error thrown by the sink (not by reading): not retried. */
class SinkError extends Error {
  constructor(override readonly cause: unknown) {
    super("the WAL watcher's sink failed", { cause });
  }
}
