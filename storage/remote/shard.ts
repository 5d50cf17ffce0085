/**
 * One shard's queue: a ring of samples (struct of arrays, no object per sample) that its
 * sender drains in batches. A series always maps to the same shard, and a shard sends one
 * batch at a time, so each series' samples reach the receiver in order. With send_exemplars
 * the ring also holds exemplars (rare): an entry with exemplar labels in `ex` is one.
 */
export class Shard {
  readonly mask: number;
  readonly refs: Uint32Array;
  readonly ts: Float64Array;
  readonly values: Float64Array;
  readonly stale: Uint8Array;
  /** The WAL record (sequence number) each sample came from, for the send position. */
  readonly recs: Float64Array;
  /** Encoded exemplar labels where the entry is an exemplar (null: the queue sends none). */
  readonly ex: Array<Uint8Array | undefined> | null;
  /** Exemplars among the queued entries. */
  exemplars = 0;
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
   * @param withExemplars whether exemplars are queued too (send_exemplars)
   */
  constructor(
    readonly index: number,
    readonly limit: number,
    readonly batch: number,
    withExemplars = false,
  ) {
    let cap = 1;
    while (cap < Math.max(limit, batch)) cap *= 2;
    this.mask = cap - 1;
    this.refs = new Uint32Array(cap);
    this.ts = new Float64Array(cap);
    this.values = new Float64Array(cap);
    this.stale = new Uint8Array(cap);
    this.recs = new Float64Array(cap);
    this.ex = withExemplars ? new Array<Uint8Array | undefined>(cap) : null;
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

  /** Queues an exemplar (labels from encodeLabels()) of series `ref`; needs `ex`. */
  pushExemplar(ref: number, t: number, v: number, labels: Uint8Array, rec: number): void {
    const i = (this.head + this.len) & this.mask;
    this.ex![i] = labels;
    this.exemplars++;
    this.push(ref, t, v, 0, rec);
  }

  /** Drops the first `n` samples (sent or given up on). */
  release(n: number): void {
    const ex = this.ex;
    if (ex !== null && this.exemplars > 0) {
      for (let k = 0; k < n; k++) {
        const i = (this.head + k) & this.mask;
        if (ex[i] !== undefined) {
          ex[i] = undefined;
          this.exemplars--;
        }
      }
    }
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
