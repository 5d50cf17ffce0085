/**
 * Remote write as a storage backend: one QueueManager per `remote_write` entry, each tailing
 * the local TSDB's WAL (so it sends exactly what was committed, and survives outages and
 * restarts without holding samples in memory). Sits in the FanoutStorage beside the TSDB; it
 * needs no per-sample work there — `readsPrimaryWal` tells the fan-out to skip it.
 *
 * A config reload keeps queues whose entry (and the external labels) did not change and
 * restarts the others; a restarted queue resumes at its saved position.
 *
 * @example
 * const remote = new RemoteWriteStorage({ source: tsdb, dir: join(dataDir, "remote"), registry, log });
 * await remote.applyConfig(config);
 * const storage = new FanoutStorage(tsdb, [remote]);
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { canonicalJSON } from "../../core/config/equal.ts";
import type { Config, RemoteWriteConfig } from "../../core/config/types.ts";
import type { Logger } from "../../core/log/logger.ts";
import type { Counter, Registry } from "../../core/metrics/registry.ts";
import type { Clock } from "../../core/scrape/clock.ts";
import type { Appender, Storage } from "../types.ts";
import { remoteMetrics, type RemoteMetrics } from "./metrics.ts";
import { QueueManager, type WalSource } from "./queue-manager.ts";
import type { FamilyMetadata } from "./write-request.ts";

export { QueueManager, type WalSource } from "./queue-manager.ts";

export interface RemoteWriteOptions {
  /** The local TSDB (its WAL is what the queues send). */
  source: WalSource;
  /** Send positions live under here, one directory per queue. */
  dir: string;
  registry: Registry;
  log: Logger;
  clock?: Clock;
  userAgent?: string;
  flushDeadlineMs?: number;
  reshardIntervalMs?: number;
  /** The scrape targets' metric metadata (sent every metadata_config.send_interval). */
  metadata?: () => Iterable<FamilyMetadata>;
}

/** The storage's own WAL, when it has one remote write can tail (the TSDB does). */
export function walSourceOf(storage: unknown): WalSource | null {
  const s = storage as Partial<WalSource> | null;
  return s !== null && typeof s === "object" && typeof s.holdWal === "function" && typeof s.wal?.onDurable === "function" ? (s as WalSource) : null;
}

const hash = (s: string) => createHash("sha256").update(s).digest("hex");

const NOOP_APPENDER: Appender = {
  append: () => 1,
  appendStale: () => 1,
  appendExemplar: () => null,
  commit: async () => {},
  rollback: async () => {},
};

export class RemoteWriteStorage implements Storage {
  /** The fan-out skips this storage per sample: the queues read the primary's WAL. */
  readonly readsPrimaryWal = true;
  readonly #o: RemoteWriteOptions;
  readonly #metrics: RemoteMetrics;
  /** Exemplars committed while remote write ran, as read from the WAL (by the first queue only, so once). */
  readonly #exemplarsIn: Counter;
  #queues = new Map<string, QueueManager>();
  #applying: Promise<void> = Promise.resolve();
  #startupHold: () => void;

  constructor(opts: RemoteWriteOptions) {
    this.#o = opts;
    // Until the first config is applied the queues' positions are unknown: keep the whole WAL.
    this.#startupHold = opts.source.holdWal(() => 0);
    this.#metrics = remoteMetrics(opts.registry);
    this.#exemplarsIn = opts.registry.sharedCounter("prometheus_remote_storage_exemplars_in_total", "Exemplars in to remote storage, compare to exemplars out for queue managers.");
    opts.registry.collector("prometheus_remote_storage_highest_timestamp_in_seconds", "Highest timestamp that has come into the remote storage via the Appender interface, in seconds since epoch.", "gauge", () => {
      let t = -Infinity;
      for (const q of this.#queues.values()) t = Math.max(t, q.highestIn);
      return Number.isFinite(t) ? [{ value: t / 1000 }] : [];
    });
  }

  /** The running queues, by remote_name. */
  get queues(): QueueManager[] {
    return [...this.#queues.values()];
  }

  appender(): Appender {
    return NOOP_APPENDER;
  }

  /** Starts, keeps or restarts a queue per `remote_write` entry; stops the ones removed. */
  applyConfig(config: Config): Promise<void> {
    this.#applying = this.#applying.then(() => this.#apply(config.remote_write, config.global.external_labels));
    return this.#applying;
  }

  async #apply(entries: readonly RemoteWriteConfig[], external: Record<string, string>): Promise<void> {
    const next = new Map<string, QueueManager>();
    const byUrl = new Map<string, number>();
    const keep = new Set<QueueManager>();
    const starting: QueueManager[] = [];
    for (const cfg of entries) {
      const identity = canonicalJSON({ cfg, external });
      const name = cfg.name !== "" ? cfg.name : hash(canonicalJSON(cfg)).slice(0, 6);
      // The position survives config edits: it is keyed by the name, or by the URL.
      const nth = byUrl.get(cfg.url) ?? 0;
      byUrl.set(cfg.url, nth + 1);
      const dirKey = cfg.name !== "" ? `name-${hash(cfg.name).slice(0, 16)}` : `url-${hash(cfg.url).slice(0, 16)}${nth > 0 ? `-${nth}` : ""}`;
      const old = [...this.#queues.entries()].find(([id]) => id === identity)?.[1];
      if (old !== undefined) {
        next.set(identity, old);
        keep.add(old);
        continue;
      }
      let self: QueueManager | null = null;
      const q: QueueManager = new QueueManager({
        config: cfg,
        name,
        externalLabels: external,
        source: this.#o.source,
        dir: join(this.#o.dir, dirKey),
        metrics: this.#metrics,
        log: this.#o.log,
        ...(this.#o.clock ? { clock: this.#o.clock } : {}),
        ...(this.#o.userAgent ? { userAgent: this.#o.userAgent } : {}),
        ...(this.#o.flushDeadlineMs !== undefined ? { flushDeadlineMs: this.#o.flushDeadlineMs } : {}),
        ...(this.#o.reshardIntervalMs !== undefined ? { reshardIntervalMs: this.#o.reshardIntervalMs } : {}),
        ...(this.#o.metadata !== undefined ? { metadata: this.#o.metadata } : {}),
        exemplarsIn: (count) => {
          if (self !== null && this.#queues.values().next().value === self) this.#exemplarsIn.inc({}, count);
        },
      });
      self = q;
      next.set(identity, q);
      starting.push(q);
    }
    // Stop the changed and removed ones first: a restarted queue shares their position file.
    // Their WAL holds go only once the new queues hold theirs.
    const stopped = [...this.#queues.values()].filter((q) => !keep.has(q));
    await Promise.all(stopped.map((q) => q.stop()));
    this.#queues = next;
    for (const q of starting) await q.start();
    for (const q of stopped) q.releaseWal();
    this.#startupHold();
  }

  /** Stops every queue; their WAL holds stay, so the TSDB closing after keeps what they did not send. */
  async close(): Promise<void> {
    await this.#applying;
    const queues = [...this.#queues.values()];
    this.#queues = new Map();
    await Promise.all(queues.map((q) => q.stop()));
  }
}
