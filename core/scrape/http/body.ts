/**
 * Reading a scrape body into reusable bytes, gunzipping when asked, and stopping as soon as
 * `body_size_limit` is reached (spec §4.3). The body is never turned into a string.
 */

/**
 * A growable byte buffer that one scrape loop reuses from scrape to scrape, so a steady
 * target costs no new allocation per scrape (it keeps the size of the largest body seen).
 * A body read into it is a view that stays valid until the next read into the same buffer.
 */
export class BodyBuffer {
  #bytes: Uint8Array;
  #length = 0;

  constructor(initialCapacity = 0) {
    this.#bytes = new Uint8Array(initialCapacity);
  }

  get capacity(): number {
    return this.#bytes.length;
  }

  /** The bytes read so far (a view, not a copy). */
  view(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  get length(): number {
    return this.#length;
  }

  reset(expected = 0): void {
    this.#length = 0;
    if (expected > this.#bytes.length) this.#bytes = new Uint8Array(expected);
  }

  append(chunk: Uint8Array): void {
    const need = this.#length + chunk.length;
    if (need > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(need, this.#bytes.length * 2, 4096));
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
    }
    this.#bytes.set(chunk, this.#length);
    this.#length = need;
  }
}

/**
 * Body buffers shared by the loops of a scrape service: a loop takes one for a scrape and
 * gives it back as soon as the body is in WASM memory, so memory holds as many buffers as
 * scrapes are in flight (a few), not one per target sized to its largest body (2.5 MB × 50
 * targets at 1M series).
 */
export class BodyBufferPool {
  readonly #idle: BodyBuffer[] = [];

  constructor(readonly maxIdle = 4) {}

  take(): BodyBuffer {
    return this.#idle.pop() ?? new BodyBuffer();
  }

  give(b: BodyBuffer): void {
    if (this.#idle.length < this.maxIdle) this.#idle.push(b);
  }

  get idle(): number {
    return this.#idle.length;
  }
}

export class BodyLimitError extends Error {
  override readonly name = "BodyLimitError";
  constructor() {
    super("body size limit exceeded");
  }
}

export class GzipError extends Error {
  override readonly name = "GzipError";
}

export interface ReadBodyOptions {
  gzip: boolean;
  /** Bytes; 0 means no limit. A (decompressed) body of this size or more fails. */
  limit: number;
  /** From Content-Length, to size the buffer once; ignored when gzip is set. */
  expectedSize: number;
}

/**
 * Reads `body` into `into` (reset first) and returns the decompressed size. Cancels the
 * stream and throws BodyLimitError as soon as the limit is reached, so neither a large body
 * nor a gzip bomb is read further than that.
 */
export async function readBody(body: ReadableStream<Uint8Array> | null, into: BodyBuffer, opts: ReadBodyOptions): Promise<number> {
  const limit = opts.limit > 0 ? opts.limit : Infinity;
  const expected = opts.gzip ? 0 : Math.min(opts.expectedSize, limit);
  into.reset(expected);
  if (!opts.gzip && opts.expectedSize >= limit) {
    // A truthful Content-Length already tells the outcome; a lying one fails anyway.
    await body?.cancel().catch(() => {});
    throw new BodyLimitError();
  }
  if (body === null) {
    if (opts.gzip) throw new GzipError("gzip: unexpected end of file");
    return 0;
  }
  const stream = opts.gzip ? body.pipeThrough(new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>) : body;
  const reader = stream.getReader();
  try {
    for (;;) {
      let step;
      try {
        step = await reader.read();
      } catch (err) {
        // DecompressionStream reports bad data as a TypeError without a code; network errors
        // (ECONNRESET, …) carry one, and aborts keep their own reason.
        if (opts.gzip && err instanceof TypeError && (err as { code?: unknown }).code === undefined) throw new GzipError(`gzip: ${err.message}`, { cause: err });
        throw err;
      }
      if (step.done) return into.length;
      if (into.length + step.value.length >= limit) {
        await reader.cancel().catch(() => {});
        throw new BodyLimitError();
      }
      into.append(step.value);
    }
  } finally {
    reader.releaseLock();
  }
}
