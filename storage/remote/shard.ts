/**
 * One shard's queue: a ring of samples (struct of arrays, no object per sample) that its
 * sender drains in batches. A series always maps to the same shard, and a shard sends one
 * batch at a time, so each series' samples reach the receiver in order.
 */
export class Shard {
  readonly mask: number;
  readonly refs: Uint32Array;
  readonly ts: Float64Array;
  readonly values: Float64Array;
  readonly stale: Uint8Array;
  /** The WAL record (sequence number) each sample came from, for the send position. */
  readonly recs: Float64Array;
  head = 0;
  len = 0;
  /** Send everything queued now and end the sender when empty (resharding, stopping). */
  closing = false;
  /** When the last batch was sent (the batch_send_deadline counts from it). */
  lastSend = 0;
  #wake: AbortController | null = null;

  /**
   * @param limit samples the shard takes before the reader must wait (queue_config.capacity)
   * @param batch samples per request (max_samples_per_send)
   */
  constructor(
    readonly index: number,
    readonly limit: number,
    readonly batch: number,
  ) {
    let cap = 1;
    while (cap < Math.max(limit, batch)) cap *= 2;
    this.mask = cap - 1;
    this.refs = new Uint32Array(cap);
    this.ts = new Float64Array(cap);
    this.values = new Float64Array(cap);
    this.stale = new Uint8Array(cap);
    this.recs = new Float64Array(cap);
  }

  get full(): boolean {
    return this.len >= this.limit;
  }

  push(ref: number, t: number, v: number, stale: number, rec: number): void {
    const i = (this.head + this.len) & this.mask;
    this.refs[i] = ref;
    this.ts[i] = t;
    this.values[i] = v;
    this.stale[i] = stale;
    this.recs[i] = rec;
    if (++this.len === this.batch) this.wake();
  }

  /** Drops the first `n` samples (sent or given up on). */
  release(n: number): void {
    this.head = (this.head + n) & this.mask;
    this.len -= n;
  }

  /** A signal that aborts when the sender should look again (a batch filled up, closing). */
  waitSignal(): AbortSignal {
    this.#wake = new AbortController();
    return this.#wake.signal;
  }

  wake(): void {
    this.#wake?.abort();
    this.#wake = null;
  }
}
