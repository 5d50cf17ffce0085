/**
 * Big API answers (a million series, a federation of all of them) without holding the event
 * loop: the text is built in time slices as chunks of ~64 KiB, sent as a stream that encodes
 * one chunk at a time and yields between them, and gzipped the same way. Small answers stay
 * one string (sent with a Content-Length, as before).
 *
 * @example
 * const out = new TextChunks();
 * for (const s of series) out.push(JSON.stringify(s)); // in steps, with pauses between them
 * return new Response(textBody(out.finish()), { headers });
 */
import { DEFAULT_SLICE_MS, TimeSlicer } from "../time-slice.ts";

/** Characters per chunk. */
export const CHUNK_CHARS = 64 * 1024;

/** Text collected into chunks of about CHUNK_CHARS, so no step joins or encodes it all at once. */
export class TextChunks {
  readonly #chunks: string[] = [];
  #parts: string[] = [];
  #length = 0;

  push(text: string): void {
    this.#parts.push(text);
    this.#length += text.length;
    if (this.#length >= CHUNK_CHARS) this.#cut();
  }

  #cut(): void {
    if (this.#parts.length === 0) return;
    this.#chunks.push(this.#parts.join(""));
    this.#parts = [];
    this.#length = 0;
  }

  /** The chunks; the builder is not used after this. */
  finish(): string[] {
    this.#cut();
    return this.#chunks;
  }
}

const encoder = new TextEncoder();

/**
 * A body for text in chunks: one string when there is a single chunk, else a stream that
 * encodes a chunk per read and yields to the event loop once its slice is used up (a reader in
 * the same process would otherwise take every chunk in one run of microtasks).
 */
export function textBody(chunks: readonly string[], sliceMs = DEFAULT_SLICE_MS): string | ReadableStream<Uint8Array> {
  if (chunks.length <= 1) return chunks[0] ?? "";
  const slices = new TimeSlicer(sliceMs);
  let i = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (i >= chunks.length) {
          controller.close();
          return;
        }
        if (slices.due(chunks[i]!.length)) await slices.pause();
        controller.enqueue(encoder.encode(chunks[i++]!));
      },
    },
    { highWaterMark: 0 },
  );
}

/** Bodies up to this size are gzipped at once (~1 ms per 100 KiB), larger ones in slices. */
export const GZIP_AT_ONCE_BYTES = 1 << 20;
/** Bytes handed to the compressor at a time. */
const GZIP_PIECE = 64 * 1024;

/**
 * `body` gzipped: at once (Bun.gzipSync) when it is small, else as a stream through a
 * CompressionStream fed a piece at a time with pauses between pieces (60 MB take about a
 * second to compress).
 */
export async function gzipBody(body: ReadableStream<Uint8Array>, sliceMs = DEFAULT_SLICE_MS): Promise<Uint8Array | ReadableStream<Uint8Array>> {
  const reader = body.getReader();
  const head: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) {
      const all = new Uint8Array(size);
      let at = 0;
      for (const c of head) {
        all.set(c, at);
        at += c.length;
      }
      return Bun.gzipSync(all);
    }
    head.push(r.value);
    size += r.value.length;
    if (size > GZIP_AT_ONCE_BYTES) break;
  }
  const slices = new TimeSlicer(sliceMs);
  let current: Uint8Array | null = null;
  let offset = 0;
  const source = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        while (current === null || offset >= current.length) {
          const next = head.shift() ?? (await reader.read()).value;
          if (next === undefined) {
            controller.close();
            return;
          }
          current = next;
          offset = 0;
        }
        if (slices.due(GZIP_PIECE)) await slices.pause();
        const piece = current.subarray(offset, offset + GZIP_PIECE);
        offset += piece.length;
        controller.enqueue(piece);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return source.pipeThrough(new CompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
}
