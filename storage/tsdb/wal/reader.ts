/**
 * Reading the WAL from outside the TSDB while it is being written (remote write tails it, as
 * Prometheus's WAL watcher does): list the files, read a segment from a byte offset, and
 * decode one record at a time, so a reader can stop between any two records and resume at
 * the returned offset. Readers stay behind `Wal.durable`, so they never meet a torn record.
 */
import { open, readdir, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { CRC_BYTES, HEADER_BYTES, readU32, type DecodedTx } from "./codec.ts";
import { decodeRecord, knownRecord } from "./compress.ts";

export interface WalFiles {
  /** The newest checkpoint's number (it holds the series live at the start of that segment), or -1. */
  checkpoint: number;
  /** Segment numbers on disk, ascending. */
  segments: number[];
}

export const segmentPath = (dir: string, n: number) => join(dir, String(n).padStart(8, "0"));
export const checkpointPath = (dir: string, n: number) => join(dir, `checkpoint.${String(n).padStart(8, "0")}`);

/** The checkpoint and segments in `dir` (a missing directory has none). */
export async function listWal(dir: string): Promise<WalFiles> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { checkpoint: -1, segments: [] };
    throw err;
  }
  let checkpoint = -1;
  const segments: number[] = [];
  for (const name of names) {
    if (/^\d{8}$/.test(name)) segments.push(Number(name));
    const m = /^checkpoint\.(\d{8})$/.exec(name);
    if (m) checkpoint = Math.max(checkpoint, Number(m[1]));
  }
  return { checkpoint, segments: segments.sort((a, b) => a - b) };
}

export type NextRecord =
  | { kind: "record"; tx: DecodedTx; end: number }
  /** Fewer bytes than a whole record: read more (or the file ends in a torn record). */
  | { kind: "partial"; need: number }
  | { kind: "bad"; reason: string };

/** Decodes the record starting at `p` in `b` (a window of the file starting at file offset 0 of `b`). */
export function nextRecord(b: Uint8Array, p: number, end: number): NextRecord {
  if (end - p < HEADER_BYTES) return { kind: "partial", need: HEADER_BYTES };
  const type = b[p]!;
  const len = readU32(b, p + 1);
  if (type === 0 && len === 0) return { kind: "bad", reason: "zero bytes where a record should start" };
  const recEnd = p + HEADER_BYTES + len;
  if (recEnd + CRC_BYTES > end) return { kind: "partial", need: HEADER_BYTES + len + CRC_BYTES };
  if (Bun.hash.crc32(b.subarray(p, recEnd)) !== readU32(b, recEnd)) return { kind: "bad", reason: "CRC mismatch" };
  if (!knownRecord(type)) return { kind: "bad", reason: `unknown record type ${type}` };
  try {
    return { kind: "record", tx: decodeRecord(type, b, p + HEADER_BYTES, recEnd), end: recEnd + CRC_BYTES };
  } catch (err) {
    return { kind: "bad", reason: `malformed payload: ${(err as Error).message}` };
  }
}

/**
 * One open segment (or checkpoint) file, read in windows: `window(offset, limit)` returns the
 * bytes [offset, min(limit, offset + chunk)) — enlarged to hold at least `min` bytes when a
 * record is bigger than a chunk.
 */
export class SegmentFile {
  #fh: FileHandle | null = null;
  #buf = new Uint8Array(1 << 20);

  private constructor(readonly path: string) {}

  static async open(path: string): Promise<SegmentFile> {
    const f = new SegmentFile(path);
    f.#fh = await open(path, "r");
    return f;
  }

  async size(): Promise<number> {
    return (await this.#fh!.stat()).size;
  }

  /** Reads up to `limit` (exclusive) from `offset`; at least `min` bytes of room. The view is reused. */
  async window(offset: number, limit: number, min = 0): Promise<Uint8Array> {
    if (min > this.#buf.length) this.#buf = new Uint8Array(Math.max(min, this.#buf.length * 2));
    const want = Math.min(limit - offset, this.#buf.length);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.#fh!.read(this.#buf, got, want - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return this.#buf.subarray(0, got);
  }

  async close(): Promise<void> {
    await this.#fh?.close();
    this.#fh = null;
  }
}
