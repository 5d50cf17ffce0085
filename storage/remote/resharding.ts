/**
 * The dynamic shard count (spec §6.2 "Resharding"), as Prometheus computes it every 10 s from
 * EWMA rates (weight 0.2): shards = time per sample × (incoming rate × kept ratio + 5 % of the
 * backlog per second), rounded up, left alone within ±30 %, never lowered while more than the
 * update interval behind, clamped to [min_shards, max_shards].
 */

/** An exponentially weighted rate, ticked once per interval (Prometheus's ewmaRate). */
export class EwmaRate {
  #pending = 0;
  #rate = 0;
  #init = false;

  constructor(
    readonly alpha: number,
    readonly intervalMs: number,
  ) {}

  add(n: number): void {
    this.#pending += n;
  }

  tick(): void {
    const instant = this.#pending / (this.intervalMs / 1000);
    this.#pending = 0;
    if (this.#init) this.#rate += this.alpha * (instant - this.#rate);
    else if (instant > 0) {
      this.#rate = instant;
      this.#init = true;
    }
  }

  /** Per second. */
  get rate(): number {
    return this.#rate;
  }
}

export interface ShardInputs {
  current: number;
  minShards: number;
  maxShards: number;
  /** Samples per second read from the WAL (kept and dropped). */
  inRate: number;
  /** Samples per second sent. */
  outRate: number;
  /** Samples per second dropped by write_relabel_configs. */
  droppedRate: number;
  /** Seconds spent sending, per second (summed over shards). */
  outDurationRate: number;
  /** Seconds between the newest sample read and the newest sample sent. */
  delaySeconds: number;
  /** The update interval in seconds (10). */
  intervalSeconds: number;
}

/** The shard count to run next (may equal `current`). */
export function desiredShards(i: ShardInputs): number {
  if (i.outRate <= 0) return i.current;
  const keptRatio = i.outRate / (i.droppedRate + i.outRate);
  const timePerSample = i.outDurationRate / i.outRate;
  const pending = i.delaySeconds * i.inRate * keptRatio;
  const backlogCatchup = 0.05 * pending;
  let desired = timePerSample * (i.inRate * keptRatio + backlogCatchup);
  const lower = i.current * 0.7;
  const upper = i.current * 1.3;
  if (desired > lower && desired < upper) return i.current;
  desired = Math.ceil(desired);
  // Do not scale down while behind: the backlog still needs the senders.
  if (desired < i.current && i.delaySeconds > i.intervalSeconds) return i.current;
  return Math.max(i.minShards, Math.min(i.maxShards, desired));
}
