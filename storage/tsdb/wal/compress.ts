/**
 * Type-2 records: a transaction body (codec.ts `encodeBody`) stored as it is or compressed
 * with zstd, then framed (type, length, payload, CRC) like every record.
 *
 * Compression runs off the main thread (`Bun.zstdCompress`), so a first scrape's record of
 * 200k new series (tens of MB of labels) never blocks the event loop; decompression at replay
 * and in readers uses the sync API. A record keeps the compressed form only when it saves at
 * least a quarter: labels shrink 20–50× and always do, while a steady-state scrape's compact
 * samples shrink by ~12 % only, which would not pay for the decompression at replay (about
 * 4 ns a sample, more than half of what decoding them costs). Bodies under MIN_COMPRESS
 * bytes are not even tried.
 *
 * zstd rather than snappy (snappyjs, pure JS): on a 33 MB body of 200k new series zstd-3 takes
 * 19 ms on another thread and gives 0.58 MB; snappyjs takes 83 ms on the main thread and
 * gives 2.5 MB (bench/wal.bench.ts has the figures for samples).
 */
import { putVarint } from "../../varint.ts";
import { CRC_BYTES, decodeBody, decodeTx, Encoder, HEADER_BYTES, RECORD_TX, RECORD_TX_Z, writeU32, type DecodedTx } from "./codec.ts";
import type { WalSeries } from "./index.ts";

export const STORED = 0;
export const ZSTD = 1;
/** zstd's default: as fast as level 1 on WAL bodies here, and a third smaller on labels. */
export const ZSTD_LEVEL = 3;
const MIN_COMPRESS = 256;
/** The compressed form is kept when it is at most this fraction of the body. */
const KEEP_RATIO = 0.75;
/** A body bigger than this is corruption (records are < 4 GiB; a first scrape's is tens of MB). */
const MAX_BODY = 2 ** 32;

/** Frames `body` as a type-2 record, zstd-compressed off the main thread when that pays. */
export async function packRecord(body: Uint8Array, level = ZSTD_LEVEL): Promise<Uint8Array> {
  if (body.length < MIN_COMPRESS) return frame(body, null);
  return frame(body, await Bun.zstdCompress(body, { level }));
}

/** packRecord() on the calling thread (benchmarks, tests). */
export function packRecordSync(body: Uint8Array, level = ZSTD_LEVEL): Uint8Array {
  return frame(body, body.length < MIN_COMPRESS ? null : Bun.zstdCompressSync(body, { level }));
}

function frame(body: Uint8Array, compressed: Uint8Array | null): Uint8Array {
  const z = compressed !== null && compressed.length <= body.length * KEEP_RATIO ? compressed : null;
  const head = new Uint8Array(11);
  head[0] = z ? ZSTD : STORED;
  const headLen = z ? putVarint(head, 1, body.length) : 1;
  const data = z ?? body;
  const len = headLen + data.length;
  if (len > 0xffffffff) throw new RangeError(`Cannot write a WAL record of ${len} bytes: the limit is 4 GiB`);
  const out = new Uint8Array(HEADER_BYTES + len + CRC_BYTES);
  out[0] = RECORD_TX_Z;
  writeU32(out, 1, len);
  out.set(head.subarray(0, headLen), HEADER_BYTES);
  out.set(data, HEADER_BYTES + headLen);
  writeU32(out, HEADER_BYTES + len, Bun.hash.crc32(out.subarray(0, HEADER_BYTES + len)));
  return out;
}

/** Record types replay and readers know. */
export function knownRecord(type: number): boolean {
  return type === RECORD_TX || type === RECORD_TX_Z;
}

/** Decodes the payload [start, end) of a record of `type`; throws SyntaxError when malformed. */
export function decodeRecord(type: number, b: Uint8Array, start: number, end: number): DecodedTx {
  if (type === RECORD_TX) return decodeTx(b, start, end);
  if (start >= end) throw new SyntaxError("empty payload");
  const codec = b[start]!;
  if (codec === STORED) return decodeBody(b, start + 1, end);
  if (codec !== ZSTD) throw new SyntaxError(`unknown compression ${codec}`);
  let size = 0;
  let mul = 1;
  let p = start + 1;
  for (;;) {
    if (p >= end || mul > 2 ** 35) throw new SyntaxError("body length runs past the payload");
    const x = b[p++]!;
    size += (x & 0x7f) * mul;
    if (x < 0x80) break;
    mul *= 128;
  }
  if (size > MAX_BODY) throw new SyntaxError(`body length ${size} exceeds 4 GiB`);
  let body: Uint8Array;
  try {
    body = Bun.zstdDecompressSync(b.subarray(p, end));
  } catch (e) {
    throw new SyntaxError(`zstd: ${(e as Error).message}`);
  }
  if (body.length !== size) throw new SyntaxError(`zstd body is ${body.length} bytes, the record says ${size}`);
  return decodeBody(body, 0, body.length);
}

/** New series a commit encodes in one go (about 4 ms of labels); more are encoded in slices. */
export const SERIES_SLICE = 8192;

/**
 * packRecord() for a commit of many new series: their labels are encoded SERIES_SLICE at a
 * time with a turn of the event loop in between, then `tail` (the samples and exemplars,
 * already encoded) is appended. `series` must not change meanwhile (pass a copy).
 */
export async function packSliced(series: readonly WalSeries[], tail: Uint8Array): Promise<Uint8Array> {
  const enc = new Encoder();
  enc.begin(series.length);
  for (let i = 0; i < series.length; i += SERIES_SLICE) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    enc.seriesRange(series, i, Math.min(series.length, i + SERIES_SLICE));
  }
  enc.bytes(tail);
  return packRecord(enc.take());
}
