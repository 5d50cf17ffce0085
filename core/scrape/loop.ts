/**
 * A scrape loop: one per target. It waits for the target's phase, then scrapes every
 * interval, never two at once, dropping ticks missed during a slow scrape (spec §4.1).
 * What one scrape does is a ScrapeStep; the loop owns only time.
 */
import type { Logger } from "../log/logger.ts";
import type { Clock } from "./clock.ts";
import type { Loop, MetricMetadata, TargetStatus } from "./pool.ts";
import type { Target } from "./target.ts";

export interface ScrapeStep {
  /**
   * One scrape with every sample stamped `timestamp`: fetch, parse, append, stale
   * markers, report series. Resolves with the scrape error, or null.
   */
  scrape(timestamp: number, forcedError: string | null, signal: AbortSignal): Promise<string | null>;
  /** Marks every series of the last scrape, and the report series, stale at `staleTime`. */
  endOfRunStaleness(staleTime: number): Promise<void>;
  /** Releases the step's resources once the loop is completely done with it. */
  dispose?(): void;
  /** Metric metadata from recent scrapes. */
  metadata?(): MetricMetadata[];
  /** True once the step's state went to the step of a new loop (cache reuse on reload). */
  readonly handedOver?: boolean;
  /**
   * The last scrape's duration as its `scrape_duration_seconds` reports it (fetch, parse,
   * append; not the commit), in ms. Prometheus's targets API shows that same figure.
   */
  readonly lastDurationMs?: number;
}

/** Jitter up to min(interval/100, 2ms) is absorbed so delta-of-delta stays 0. */
export const TIMESTAMP_TOLERANCE_MS = 2;

export class ScrapeLoop implements Loop {
  readonly #stop = new AbortController();
  #running: Promise<void> | null = null;
  #forced: string | null = null;
  #status: TargetStatus = { health: "unknown", lastError: "", lastScrape: 0, lastScrapeDurationMs: 0 };
  #lastScrapeTime: number | null = null;
  #lastStart: number | null = null;
  /** The ideal start of the tick after the last scrape, once the loop has ended. */
  #nextSlot = 0;
  #endOfRun = false;

  constructor(
    readonly target: Target,
    readonly step: ScrapeStep,
    private readonly clock: Clock,
    /** Delay before the first scrape (the target's phase, see scrapeOffset()). */
    private readonly offsetMs: number,
    private readonly log: Logger,
    /** Aborted when the whole pool stops: end-of-run staleness is then skipped. */
    private readonly poolSignal: AbortSignal,
    /** Receives the time between consecutive scrape starts, in ms. */
    private readonly onInterval: (ms: number) => void = () => {},
    /** Receives the number of ticks dropped after a scrape that ran past the next one. */
    private readonly onMissed: (ticks: number) => void = () => {},
  ) {}

  start(): void {
    this.#running ??= this.#run();
  }

  async #run(): Promise<void> {
    const { clock } = this;
    const interval = this.target.intervalMs;
    const signal = this.#stop.signal;
    await clock.sleep(this.offsetMs, signal);
    let slot = clock.now(); // the ideal start of the current tick
    let aligned = slot;
    while (!signal.aborted) {
      const start = clock.now();
      if (this.#lastStart !== null) this.onInterval(start - this.#lastStart);
      this.#lastStart = start;
      // Keep an ideal timeline; use its slot as the timestamp when within tolerance.
      while (start - aligned >= interval) aligned += interval;
      const timestamp = start - aligned <= Math.min(interval / 100, TIMESTAMP_TOLERANCE_MS) ? aligned : start;
      let error: string | null;
      try {
        error = await this.step.scrape(timestamp, this.#forced, signal);
      } catch (err) {
        error = (err as Error).message;
        this.log.error("Scrape failed unexpectedly", { target: this.target.url, err });
      }
      const end = clock.now();
      this.#lastScrapeTime = timestamp;
      this.#status = { health: error === null ? "up" : "down", lastError: error ?? "", lastScrape: start, lastScrapeDurationMs: this.step.lastDurationMs ?? end - start };
      if (error !== null) this.log.debug("Scrape failed", { target: this.target.url, err: error });
      // Ticks keep their phase. When the scrape overran a tick, that one tick fires at
      // once (as Go's ticker buffers one) and any further missed ticks are dropped.
      slot += interval;
      if (end >= slot) {
        let skipped = 0;
        while (slot + interval <= end) {
          slot += interval;
          skipped++;
        }
        if (skipped > 0) {
          this.onMissed(skipped);
          this.log.warn("Scrape ran past the next interval; skipped intervals", { target: this.target.url, skipped, duration: `${((end - start) / 1000).toFixed(3)}s` });
        }
        continue;
      }
      await clock.sleep(slot - clock.now(), signal);
    }
    this.#nextSlot = slot;
    // Stopped for good (target gone): the loop frees its step itself, after the markers.
    if (this.#endOfRun) {
      if (this.#lastScrapeTime === null) this.step.dispose?.();
      else void this.#endOfRunStaleness(slot, interval).finally(() => this.step.dispose?.());
    }
  }

  /** Spec §4.8 case 4: wait for the next tick, one more, then 10% of the interval. */
  async #endOfRunStaleness(nextSlot: number, interval: number): Promise<void> {
    const { clock, poolSignal } = this;
    await clock.sleep(nextSlot - clock.now(), poolSignal);
    const staleTime = clock.now();
    await clock.sleep(interval, poolSignal);
    await clock.sleep(interval / 10, poolSignal);
    if (poolSignal.aborted) return;
    try {
      await this.step.endOfRunStaleness(staleTime);
    } catch (err) {
      this.log.warn("Stale markers for a stopped target failed", { target: this.target.url, err });
    }
  }

  release(endOfRunStaleness: boolean): void {
    if (this.#endOfRun || this.step.handedOver === true) return;
    if (endOfRunStaleness && this.#lastScrapeTime !== null) {
      void this.#endOfRunStaleness(this.#nextSlot, this.target.intervalMs).finally(() => this.step.dispose?.());
    } else {
      this.step.dispose?.();
    }
  }

  async stop(endOfRunStaleness: boolean): Promise<void> {
    this.#endOfRun = endOfRunStaleness;
    this.#stop.abort();
    await this.#running;
  }

  setForcedError(error: string | null): void {
    this.#forced = error;
  }

  status(): TargetStatus {
    return this.#status;
  }

  metadata(): MetricMetadata[] {
    return this.step.metadata?.() ?? [];
  }
}
