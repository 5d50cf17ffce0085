/**
 * The head snapshot: at a clean shutdown the TSDB writes its whole head — series, postings,
 * per-series sample state, the open chunks' bytes and appender state, exemplars, and the cut
 * chunks not yet written to the block store (close() does not wait for them) — to
 * `<dir>/head.snapshot`, with the WAL's files as they were then. At start-up, when the WAL
 * still holds exactly those files, the head is taken back from the snapshot in one read
 * instead of replaying the WAL (Prometheus's memory-snapshot-on-shutdown, here the default).
 * The WAL stays complete either way: the snapshot only saves work, and any doubt about it
 * (a damaged section, another build's chunk layout, a WAL written since) means WAL replay.
 *
 * Layout: the magic line, then sections until one named "end":
 *
 *   name length u16 | name (ASCII) | zero padding to 8 | payload length f64 | CRC-32 of the
 *   payload u32 | 4 zero bytes | payload | zero padding to 8
 *
 * Payloads are little-endian typed arrays (8-byte aligned in the file, so they are read in
 * place) or JSON.
 */
import { open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Labels } from "../../core/model/labels.ts";
import { SNAPSHOT_FORMAT, type XorCodec } from "../../wasm/xor.ts";
import type { FullChunk, HeadSnapshot } from "./head.ts";
import type { WalExemplar, WalFiles } from "./wal/index.ts";

const MAGIC = new TextEncoder().encode("gleaner head snapshot 1\n");
const VERSION = 1;

interface Meta {
  version: number;
  chunkFormat: string;
  wal: WalFiles;
  nextRef: number;
  minValidTime: number | null;
  series: number;
  dead: number;
  chunks: number;
}

/** A chunk cut from the head and not yet in the block store, with the WAL segment its samples start in. */
export type PendingChunk = FullChunk & { segment: number };

/** What a snapshot holds: the head, and the chunks still waiting for the block store. */
export type SnapshotState = HeadSnapshot & { pending: PendingChunk[] };

/** Per unflushed chunk in section "pending.chunks": ref, mint, maxt, count, segment, bytes. */
const PENDING_FIELDS = 6;

const pad8 = (n: number) => (8 - (n % 8)) % 8;
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/**
 * Writes the snapshot of `head` (its state from Head.snapshot(), chunks written through
 * `codec`) with the WAL's `files` to `path`, atomically (a temporary file, fsynced, renamed).
 * Returns the bytes written.
 */
export async function writeSnapshot(path: string, head: SnapshotState, codec: XorCodec, files: WalFiles): Promise<number> {
  const records: Uint8Array[] = [];
  codec.snapshot(head.chunks, (r) => records.push(r));
  const pending = new Float64Array(head.pending.length * PENDING_FIELDS);
  head.pending.forEach((c, k) => pending.set([c.ref, c.mint, c.maxt, c.count, c.segment, c.data.length], k * PENDING_FIELDS));
  const meta: Meta = {
    version: VERSION,
    chunkFormat: SNAPSHOT_FORMAT,
    wal: files,
    nextRef: head.nextRef,
    minValidTime: Number.isFinite(head.minValidTime) ? head.minValidTime : null,
    series: head.series.count,
    dead: head.series.dead,
    chunks: head.chunks.length,
  };
  const exemplars = head.exemplars.map((e) => [e.ref, e.t, e.v, e.labels.toObject()]);
  const sections: Array<[string, Uint8Array[]]> = [
    ["meta", [json(meta)]],
    ["symbols", [json(head.series.symbols)]],
    ["series.start", [bytesOf(head.series.start)]],
    ["series.bytes", [bytesOf(head.series.bytes)]],
    ["series.pairs", [bytesOf(head.series.pairs)]],
    ["series.hash", [bytesOf(head.series.hash)]],
    ["series.pool", [bytesOf(head.series.pool)]],
    ["series.slots", [bytesOf(head.series.slots)]],
    ["postings.names", [json(head.postings.names)]],
    ["postings.sizes", [bytesOf(head.postings.sizes)]],
    ["postings.refs", [bytesOf(head.postings.refs)]],
    ["head.chunkBlock", [bytesOf(head.chunkBlock)]],
    ["head.lastT", [bytesOf(head.lastT)]],
    ["head.chunkSegment", [bytesOf(head.chunkSegment)]],
    ["head.lastV", [bytesOf(head.lastV)]],
    ["head.lastStale", [bytesOf(head.lastStale)]],
    ["chunks.refs", [bytesOf(head.chunkRefs)]],
    ["chunks.records", records],
    ["exemplars", [json(exemplars)]],
    ["pending.chunks", [bytesOf(pending)]],
    ["pending.data", head.pending.map((c) => c.data)],
    ["end", []],
  ];
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w");
  let total = 0;
  try {
    const zeros = new Uint8Array(8);
    // Small pieces (a million unflushed chunks of ~150 bytes) are gathered into 4 MiB writes.
    const stage = new Uint8Array(4 << 20);
    let staged = 0;
    const drain = async () => {
      if (staged > 0) await fh.write(stage.subarray(0, staged));
      staged = 0;
    };
    const put = async (b: Uint8Array) => {
      total += b.length;
      const large = b.length > stage.length >> 2;
      if (large || staged + b.length > stage.length) await drain();
      if (large) await fh.write(b);
      else {
        stage.set(b, staged);
        staged += b.length;
      }
    };
    await put(MAGIC);
    await put(zeros.subarray(0, pad8(MAGIC.length)));
    for (const [name, parts] of sections) {
      const len = parts.reduce((n, p) => n + p.length, 0);
      let crc = 0;
      for (const p of parts) crc = Bun.hash.crc32(p, crc);
      const head = new Uint8Array(2 + name.length + pad8(2 + name.length) + 16);
      const dv = new DataView(head.buffer);
      dv.setUint16(0, name.length, true);
      for (let i = 0; i < name.length; i++) head[2 + i] = name.charCodeAt(i);
      const at = 2 + name.length + pad8(2 + name.length);
      dv.setFloat64(at, len, true);
      dv.setUint32(at + 8, crc >>> 0, true);
      await put(head);
      for (const p of parts) await put(p);
      await put(zeros.subarray(0, pad8(len)));
    }
    await drain();
    await fh.datasync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return total;
}

/** A snapshot read back and checked (sections, CRCs, chunk layout); `restore` builds the head's part. */
export interface LoadedSnapshot {
  wal: WalFiles;
  bytes: number;
  /** The head's state with its open chunks restored into WASM memory (freed again when `restore` throws). */
  restore(codec: XorCodec): SnapshotState;
  /**
   * Frees the file's buffer (the state's typed arrays are views of it: call once they are
   * copied). Left to the collector, the buffer can stay alive long after, as big as the head.
   */
  release(): void;
}

/** Why a snapshot cannot be used: the TSDB logs it and replays the WAL instead. */
export class SnapshotError extends Error {}

/**
 * Reads and checks the snapshot at `path`.
 * @throws SnapshotError naming the file and what is wrong with it.
 */
export async function readSnapshot(path: string): Promise<LoadedSnapshot> {
  const buf = await Bun.file(path).arrayBuffer();
  const fail = (why: string) => new SnapshotError(`${path}: ${why}`);
  const u8 = new Uint8Array(buf);
  const dv = new DataView(buf);
  if (u8.length < MAGIC.length || !MAGIC.every((b, i) => u8[i] === b)) throw fail("not a gleaner head snapshot (the magic line is missing)");
  const sections = new Map<string, Uint8Array>();
  let at = MAGIC.length + pad8(MAGIC.length);
  for (;;) {
    if (at + 2 > u8.length) throw fail(`ends at byte ${u8.length}, inside a section header (written by a shutdown that did not finish?)`);
    const nameLen = dv.getUint16(at, true);
    const name = String.fromCharCode(...u8.subarray(at + 2, at + 2 + nameLen));
    const h = at + 2 + nameLen + pad8(2 + nameLen);
    if (h + 16 > u8.length) throw fail(`ends inside the header of section ${JSON.stringify(name)}`);
    const len = dv.getFloat64(h, true);
    const crc = dv.getUint32(h + 8, true);
    const start = h + 16;
    if (!(Number.isInteger(len) && len >= 0 && start + len <= u8.length)) throw fail(`section ${JSON.stringify(name)} claims ${len} bytes, past the end of the file`);
    const payload = u8.subarray(start, start + len);
    if (Bun.hash.crc32(payload) >>> 0 !== crc) throw fail(`section ${JSON.stringify(name)} (at byte ${start}) fails its CRC check`);
    if (name === "end") break;
    sections.set(name, payload);
    at = start + len + pad8(len);
  }
  const section = (name: string): Uint8Array => {
    const s = sections.get(name);
    if (s === undefined) throw fail(`section ${JSON.stringify(name)} is missing`);
    return s;
  };
  const parse = <T>(name: string): T => {
    try {
      return JSON.parse(new TextDecoder().decode(section(name))) as T;
    } catch (e) {
      if (e instanceof SnapshotError) throw e;
      throw fail(`section ${JSON.stringify(name)} is not JSON: ${(e as Error).message}`);
    }
  };
  const typed = <T>(name: string, C: { new (b: ArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number }): T => {
    const s = section(name);
    if (s.byteLength % C.BYTES_PER_ELEMENT !== 0) throw fail(`section ${JSON.stringify(name)} holds ${s.byteLength} bytes, not whole ${C.BYTES_PER_ELEMENT}-byte entries`);
    return new C(buf, s.byteOffset, s.byteLength / C.BYTES_PER_ELEMENT);
  };
  const meta = parse<Meta>("meta");
  if (meta.version !== VERSION) throw fail(`format version ${meta.version}; this build reads ${VERSION}`);
  if (meta.chunkFormat !== SNAPSHOT_FORMAT) throw fail(`its chunks are in layout ${meta.chunkFormat}, written by another build; this one writes ${SNAPSHOT_FORMAT}`);
  return {
    wal: meta.wal,
    bytes: u8.length,
    release() {
      (buf as ArrayBuffer & { transfer(n: number): ArrayBuffer }).transfer(0);
    },
    restore(codec) {
      const chunkRefs = typed("chunks.refs", Uint32Array);
      if (chunkRefs.length !== meta.chunks) throw fail(`${chunkRefs.length} chunk refs for ${meta.chunks} chunks`);
      const exemplars = parse<Array<[number, number, number, Record<string, string>]>>("exemplars").map(([ref, t, v, labels]): WalExemplar => ({ ref, t, v, labels: Labels.from(labels) }));
      const state = {
        nextRef: meta.nextRef,
        minValidTime: meta.minValidTime ?? -Infinity,
        series: {
          symbols: parse<string[]>("symbols"),
          start: typed("series.start", Uint32Array),
          bytes: typed("series.bytes", Uint16Array),
          pairs: typed("series.pairs", Uint8Array),
          hash: typed("series.hash", Uint32Array),
          pool: typed("series.pool", Uint8Array),
          slots: typed("series.slots", Int32Array),
          count: meta.series,
          dead: meta.dead,
        },
        postings: { names: parse<Array<[string, string[]]>>("postings.names"), sizes: typed("postings.sizes", Uint32Array), refs: typed("postings.refs", Uint32Array) },
        chunkBlock: typed("head.chunkBlock", Int32Array),
        lastT: typed("head.lastT", Float64Array),
        chunkSegment: typed("head.chunkSegment", Int32Array),
        lastV: typed("head.lastV", Float64Array),
        lastStale: typed("head.lastStale", Uint8Array),
        chunkRefs,
        exemplars,
      };
      const meta6 = typed("pending.chunks", Float64Array);
      // One copy of the section (the chunks outlive the file's buffer), each chunk a view of it.
      const data = section("pending.data").slice();
      if (meta6.length % PENDING_FIELDS !== 0) throw fail(`section "pending.chunks" holds ${meta6.length} numbers, not whole chunks of ${PENDING_FIELDS}`);
      const pending: PendingChunk[] = [];
      for (let k = 0, at = 0; k < meta6.length; k += PENDING_FIELDS) {
        const len = meta6[k + 5]!;
        if (!(Number.isInteger(len) && len >= 0 && at + len <= data.length)) throw fail(`unflushed chunk ${k / PENDING_FIELDS} lies past the end of section "pending.data"`);
        pending.push({ ref: meta6[k]!, mint: meta6[k + 1]!, maxt: meta6[k + 2]!, count: meta6[k + 3]!, segment: meta6[k + 4]!, data: data.subarray(at, at + len) });
        at += len;
      }
      let chunks: Uint32Array;
      try {
        chunks = codec.restore(section("chunks.records"), meta.chunks);
      } catch (e) {
        throw fail((e as Error).message);
      }
      return { ...state, chunks, pending };
    },
  };
}
