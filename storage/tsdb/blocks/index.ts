/**
 * The TSDB's block store: full XOR chunks that left the head, in one SQLite file
 * (bun:sqlite, with drizzle-orm for the typed queries that are not on a hot path).
 *
 * Schema (migrations/0001_init.sql; drizzle mirror in schema.ts):
 *
 *   schema_version(version PK, applied_at)        one row per applied migration
 *   series(ref PK, name, labels)                  ref = the head's series ref;
 *     index series_name(name)                     name = __name__ ("" when absent);
 *                                                 labels = labels-codec.ts (NUL-separated)
 *   chunks(id PK, ref, mint, maxt, count, parts, crc, data)
 *     unique index chunks_ref_maxt(ref, maxt)     overlap queries seek to maxt >= mint and
 *                                                 re-flushing a chunk is a no-op
 *     index chunks_maxt(maxt)                     retention: oldest first
 *
 * A chunk row holds one Prometheus XOR chunk (parts = 1, data = its bytes) or, after
 * compaction, several consecutive chunks of one series (parts > 1, data = parts.ts format).
 * count is the row's sample total; crc is CRC-32 of data, checked on every read, so a
 * corrupted row is skipped and reported instead of handing garbage to the decoder.
 *
 * The file: PRAGMA application_id = 0x676c6e72 ("glnr") marks it as ours; 16 KiB pages; WAL journal,
 * synchronous=FULL (a committed batch survives power loss, so the head may drop it and
 * truncate its WAL once writeChunks() has returned); auto_vacuum=INCREMENTAL so deletes
 * give pages back to the file system and sizeBytes() falls after retention.
 *
 * @example
 * const store = BlockStore.open("data/blocks.db");
 * store.upsertSeries([{ ref: 1, labels: Labels.from({ __name__: "up", job: "node" }) }]);
 * store.writeChunks([{ ref: 1, mint, maxt, count: 120, data: xor.bytes(c) }]);
 * const rows = store.chunks([1], mint, maxt);
 * store.close();
 */
import { Database, type Statement } from "bun:sqlite";
import { existsSync, openSync, readSync, closeSync, statSync } from "node:fs";
import { asc, desc } from "drizzle-orm";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import type { Labels } from "../../../core/model/labels.ts";
import { decodeLabels, encodeLabels } from "./labels-codec.ts";
import { packParts, unpackParts, type Part } from "./parts.ts";
import * as schema from "./schema.ts";
import m0001 from "./migrations/0001_init.sql" with { type: "text" };

export { BlockStoreError, type BlockStoreErrorReason } from "./errors.ts";
import { BlockStoreError, wrapSqliteError } from "./errors.ts";

/** Migrations in order; index + 1 is the schema version each one brings the file to. */
const MIGRATIONS: readonly string[] = [m0001];
export const SCHEMA_VERSION = MIGRATIONS.length;
export const APPLICATION_ID = 0x676c6e72;

const SQLITE_MAGIC = "SQLite format 3\u0000";
/**
 * 16 KiB pages: 4 KiB merged rows pack 3–4 to a page instead of spilling to overflow pages
 * (bench/blocks.bench.ts: 1.48 B/sample on disk after compaction vs 1.63 with 4 KiB pages).
 */
const PAGE_SIZE = 16384;
/** Merged rows stay under this by default: ~28 node-exporter chunks (14 h) per row. */
const DEFAULT_COMPACT_TARGET = 4096;

export interface StoredChunk {
  ref: number;
  mint: number;
  maxt: number;
  count: number;
  /** A Prometheus XOR chunk's bytes (from XorCodec.bytes()). */
  data: Uint8Array;
}

export interface BlockStoreOptions {
  /** Run PRAGMA quick_check when opening (default true; ~1 ms per MB here, see bench). */
  quickCheck?: boolean;
  /**
   * A hard cap on the database size (PRAGMA max_page_count, rounded down to whole pages):
   * a write that would pass it fails as reason "disk-full" and is rolled back, as on a full
   * disk. Unset: no cap.
   */
  hardLimitBytes?: number;
  /** Called for each chunk row whose CRC does not match, which chunks() then skips. */
  onCorrupt?: (row: { id: number; ref: number; mint: number; maxt: number; reason: string }) => void;
}

export class BlockStore {
  readonly path: string;
  readonly #db: Database;
  readonly #orm: BunSQLiteDatabase<typeof schema>;
  readonly #onCorrupt: BlockStoreOptions["onCorrupt"];
  readonly #insertChunk: Statement;
  readonly #upsertSeries: Statement;
  readonly #selectChunks: Statement;
  /** Chunk rows skipped by chunks() because their CRC or part framing was wrong. */
  corruptRows = 0;

  private constructor(path: string, db: Database, opts: BlockStoreOptions) {
    this.path = path;
    this.#db = db;
    this.#orm = drizzle({ client: db, schema });
    this.#onCorrupt = opts.onCorrupt;
    this.#insertChunk = db.prepare(
      "INSERT INTO chunks (ref, mint, maxt, count, parts, crc, data) VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT (ref, maxt) DO NOTHING",
    );
    this.#upsertSeries = db.prepare(
      "INSERT INTO series (ref, name, labels) VALUES (?, ?, ?) ON CONFLICT (ref) DO UPDATE SET name = excluded.name, labels = excluded.labels WHERE labels <> excluded.labels",
    );
    this.#selectChunks = db.prepare(
      "SELECT id, mint, maxt, count, parts, crc, data FROM chunks WHERE ref = ? AND maxt >= ? AND mint <= ? ORDER BY maxt",
    );
  }

  /**
   * Opens (creating) the block store at `path` and brings its schema up to date.
   * @throws BlockStoreError naming the file when it is not SQLite, not ours, corrupt, or from
   * a newer gleaner. The TSDB can then run with the head only and report the error.
   */
  static open(path: string, opts: BlockStoreOptions = {}): BlockStore {
    checkMagic(path);
    let db: Database;
    try {
      db = new Database(path, { create: true, readwrite: true, strict: true });
    } catch (err) {
      throw wrapSqliteError(path, "open", err);
    }
    try {
      const app = (db.query("PRAGMA application_id").values()[0]?.[0] ?? 0) as number;
      const tables = (db.query("SELECT count(*) FROM sqlite_master").values()[0]?.[0] ?? 0) as number;
      if (app === 0 && tables === 0) {
        db.run(`PRAGMA page_size = ${PAGE_SIZE}`); // before anything writes page 1
        db.run("PRAGMA auto_vacuum = INCREMENTAL"); // only takes effect before the first table
        db.run(`PRAGMA application_id = ${APPLICATION_ID}`);
      } else if (app !== APPLICATION_ID) {
        throw new BlockStoreError(
          path,
          "not-gleaner",
          `Cannot open block store ${path}: it is a SQLite database but not a gleaner block store (application_id ${app}, ${tables} schema objects); move it away or point --storage.tsdb.path elsewhere`,
        );
      }
      if (opts.quickCheck !== false) {
        const res = db.query("PRAGMA quick_check(5)").values().flatMap((r) => String(r[0]).split("\n"));
        if (res[0] !== "ok") {
          throw new BlockStoreError(path, "corrupt", `Cannot open block store ${path}: the database is corrupt (quick_check: ${res.join("; ")})`);
        }
      }
      db.run("PRAGMA journal_mode = WAL");
      db.run("PRAGMA synchronous = FULL");
      migrate(path, db);
      if (opts.hardLimitBytes !== undefined) {
        const pageSize = db.query("PRAGMA page_size").values()[0]?.[0] as number;
        db.run(`PRAGMA max_page_count = ${Math.max(1, Math.floor(opts.hardLimitBytes / pageSize))}`);
      }
      return new BlockStore(path, db, opts);
    } catch (err) {
      db.close(false);
      throw err instanceof BlockStoreError ? err : wrapSqliteError(path, "open", err);
    }
  }

  /** Records series metadata (idempotent; a changed label set for a ref replaces the old one). */
  upsertSeries(series: ReadonlyArray<{ ref: number; labels: Labels }>): void {
    if (series.length === 0) return;
    const st = this.#upsertSeries;
    this.#write("upsert series", () => {
      for (const s of series) st.run(s.ref, s.labels.get("__name__"), encodeLabels(s.labels));
    });
  }

  /** Stores chunks in one transaction; a chunk already stored (same ref and maxt) is ignored. */
  writeChunks(chunks: readonly StoredChunk[]): void {
    if (chunks.length === 0) return;
    const st = this.#insertChunk;
    this.#write("write chunks", () => {
      for (const c of chunks) st.run(c.ref, c.mint, c.maxt, c.count, Bun.hash.crc32(c.data), c.data);
    });
  }

  /** Every stored series, ordered by ref. */
  allSeries(): Array<{ ref: number; labels: Labels }> {
    return this.#read("read series", () =>
      this.#orm
        .select({ ref: schema.series.ref, labels: schema.series.labels })
        .from(schema.series)
        .orderBy(asc(schema.series.ref))
        .all()
        .map((r) => ({ ref: r.ref, labels: decodeLabels(r.labels) })),
    );
  }

  /** The newest stored timestamp of every series with chunks (ref → maxt), from the (ref, maxt) index. */
  maxTimes(): Map<number, number> {
    return this.#read("read max times", () => {
      const out = new Map<number, number>();
      for (const [ref, maxt] of this.#db.query("SELECT ref, max(maxt) FROM chunks GROUP BY ref").values() as Array<[number, number]>) out.set(ref, maxt);
      return out;
    });
  }

  /** Which of `refs` have a stored chunk starting at or before `maxt` (one index probe per ref). */
  refsWithDataBefore(refs: readonly number[], maxt: number): Set<number> {
    return this.#read("read chunk ranges", () => {
      const out = new Set<number>();
      const st = this.#db.query("SELECT 1 FROM chunks WHERE ref = ? AND mint <= ? LIMIT 1");
      for (const ref of refs) if (st.values(ref, maxt).length > 0) out.add(ref);
      return out;
    });
  }

  /** The chunks of these series overlapping [mint, maxt], ordered by ref then mint. */
  chunks(refs: readonly number[], mint: number, maxt: number): StoredChunk[] {
    const sorted = [...refs].sort((a, b) => a - b);
    const out: StoredChunk[] = [];
    this.#read("read chunks", () => {
      let prev = NaN;
      for (const ref of sorted) {
        if (ref === prev) continue;
        prev = ref;
        const start = out.length;
        for (const row of this.#selectChunks.values(ref, mint, maxt)) {
          const [id, rmint, rmaxt, count, parts, crc, data] = row as [number, number, number, number, number, number, Uint8Array];
          if (Bun.hash.crc32(data) !== crc) {
            this.#corrupt({ id, ref, mint: rmint, maxt: rmaxt, reason: "CRC mismatch" });
            continue;
          }
          if (parts === 1) {
            out.push({ ref, mint: rmint, maxt: rmaxt, count, data });
            continue;
          }
          let unpacked: Part[];
          try {
            unpacked = unpackParts(data, rmint, parts);
          } catch (err) {
            this.#corrupt({ id, ref, mint: rmint, maxt: rmaxt, reason: (err as Error).message });
            continue;
          }
          for (const p of unpacked) if (p.maxt >= mint && p.mint <= maxt) out.push({ ref, mint: p.mint, maxt: p.maxt, count: p.count, data: p.data });
        }
        sortByMint(out, start);
      }
    });
    return out;
  }

  /**
   * Deletes chunk rows that end before `minTime`, then the oldest rows until the file is
   * under `maxBytes` (0 = no limit), then series left without chunks unless in `keepRefs`
   * (series the head still holds). `bytes` counts chunk data deleted, not file shrinkage.
   */
  applyRetention(opts: { minTime: number; maxBytes: number; keepRefs?: Pick<ReadonlySet<number>, "has"> }): { chunks: number; bytes: number; series: number } {
    const { minTime, maxBytes, keepRefs } = opts;
    if (maxBytes < 0) throw new RangeError(`Cannot apply retention to ${this.path}: maxBytes must be 0 (no limit) or positive, got ${maxBytes}`);
    let chunks = 0;
    let bytes = 0;
    this.#write("apply retention by time", () => {
      const [n, b] = this.#db.query("SELECT count(*), coalesce(sum(length(data)), 0) FROM chunks WHERE maxt < ?").values(minTime)[0] as [number, number];
      if (n > 0) this.#db.run("DELETE FROM chunks WHERE maxt < ?", [minTime]);
      chunks += n;
      bytes += b;
    });
    this.#vacuum();
    if (maxBytes > 0) {
      // Freed pages are interleaved with live ones, so a round may give back less than the
      // data it deleted: each round aims at the remaining excess, doubled after a poor round.
      let factor = 1;
      for (let round = 0; round < 64; round++) {
        const size = this.sizeBytes();
        if (size <= maxBytes) break;
        const goal = (size - maxBytes) * factor;
        let got = 0;
        const ids: number[] = [];
        for (const row of this.#db.query("SELECT id, length(data) AS len FROM chunks ORDER BY maxt").iterate()) {
          const { id, len } = row as { id: number; len: number };
          ids.push(id);
          got += len + 40; // + row and index overhead
          bytes += len;
          if (got >= goal) break;
        }
        if (ids.length === 0) break;
        this.#write("apply retention by size", () => {
          const del = this.#db.prepare("DELETE FROM chunks WHERE id = ?");
          for (const id of ids) del.run(id);
        });
        chunks += ids.length;
        this.#vacuum();
        if (size - this.sizeBytes() < (size - maxBytes) / 2) factor *= 2;
      }
    }
    let series = 0;
    this.#write("delete empty series", () => {
      const orphans = this.#db.query("SELECT ref FROM series WHERE NOT EXISTS (SELECT 1 FROM chunks WHERE chunks.ref = series.ref)").values();
      const del = this.#db.prepare("DELETE FROM series WHERE ref = ?");
      for (const [ref] of orphans as Array<[number]>) {
        if (keepRefs?.has(ref)) continue;
        del.run(ref);
        series++;
      }
    });
    if (series > 0) this.#vacuum();
    return { chunks, bytes, series };
  }

  /**
   * Merges runs of consecutive chunk rows of a series, each under `targetBytes` (default
   * 4096), into one row of at most `targetBytes`, keeping every chunk's bytes as they are.
   * Rows that fail their CRC are left alone. Gives freed pages back to the file system.
   */
  compact(opts: { targetBytes?: number } = {}): { rowsBefore: number; rowsAfter: number } {
    const target = opts.targetBytes ?? DEFAULT_COMPACT_TARGET;
    if (!(target > 0)) throw new RangeError(`Cannot compact ${this.path}: targetBytes must be positive, got ${target}`);
    const rowsBefore = this.#rowCount();
    const refs = this.#read("plan compaction", () =>
      (this.#db.query("SELECT ref FROM chunks WHERE length(data) < ? GROUP BY ref HAVING count(*) > 1").values(target) as Array<[number]>).map((r) => r[0]),
    );
    const select = this.#db.prepare("SELECT id, mint, maxt, count, parts, crc, data FROM chunks WHERE ref = ? ORDER BY maxt");
    const del = this.#db.prepare("DELETE FROM chunks WHERE id = ?");
    const ins = this.#db.prepare("INSERT INTO chunks (ref, mint, maxt, count, parts, crc, data) VALUES (?, ?, ?, ?, ?, ?, ?)");
    const BATCH = 500;
    for (let i = 0; i < refs.length; i += BATCH) {
      this.#write("compact", () => {
        for (const ref of refs.slice(i, i + BATCH)) {
          const rows = (select.values(ref) as Array<[number, number, number, number, number, number, Uint8Array]>).map(
            ([id, mint, maxt, count, parts, crc, data]) => ({ id, mint, maxt, count, parts, crc, data }),
          );
          let run: typeof rows = [];
          let runBytes = 0;
          const flush = () => {
            if (run.length > 1) {
              const parts: Part[] = [];
              for (const r of run) {
                if (r.parts === 1) parts.push({ mint: r.mint, maxt: r.maxt, count: r.count, data: r.data });
                else parts.push(...unpackParts(r.data, r.mint, r.parts));
              }
              parts.sort((a, b) => a.mint - b.mint);
              const mint = parts[0]!.mint;
              const maxt = Math.max(...parts.map((p) => p.maxt));
              const data = packParts(parts, mint);
              for (const r of run) del.run(r.id);
              ins.run(ref, mint, maxt, parts.reduce((s, p) => s + p.count, 0), parts.length, Bun.hash.crc32(data), data);
            }
            run = [];
            runBytes = 0;
          };
          for (const r of rows) {
            const ok = r.data.length < target && Bun.hash.crc32(r.data) === r.crc;
            if (!ok) {
              flush();
              continue;
            }
            // + up to ~12 bytes of part header per chunk
            if (runBytes + r.data.length + 12 * r.parts > target) flush();
            run.push(r);
            runBytes += r.data.length + 12 * r.parts;
          }
          flush();
        }
      });
    }
    this.#vacuum();
    return { rowsBefore, rowsAfter: this.#rowCount() };
  }

  /** The database's size in bytes (page_count × page_size; the -wal file is not counted). */
  sizeBytes(): number {
    return this.#read("read size", () => {
      const pages = this.#db.query("PRAGMA page_count").values()[0]?.[0] as number;
      const size = this.#db.query("PRAGMA page_size").values()[0]?.[0] as number;
      return pages * size;
    });
  }

  /** The schema version recorded in the file. */
  schemaVersion(): number {
    return this.#read("read schema version", () => {
      const r = this.#orm.select({ v: schema.schemaVersion.version }).from(schema.schemaVersion).orderBy(desc(schema.schemaVersion.version)).limit(1).get();
      return r?.v ?? 0;
    });
  }

  /** Checkpoints the WAL into the main file and closes it. */
  close(): void {
    try {
      this.#db.run("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch {
      // closing still releases the file; the WAL is replayed on next open
    }
    this.#db.close(false);
  }

  #rowCount(): number {
    return this.#db.query("SELECT count(*) FROM chunks").values()[0]?.[0] as number;
  }

  #vacuum(): void {
    this.#write("vacuum", () => {
      this.#db.run("PRAGMA incremental_vacuum");
    }, false);
  }

  #corrupt(row: { id: number; ref: number; mint: number; maxt: number; reason: string }): void {
    this.corruptRows++;
    this.#onCorrupt?.(row);
  }

  #write(what: string, fn: () => void, tx = true): void {
    try {
      if (tx) this.#db.transaction(fn)();
      else fn();
    } catch (err) {
      throw wrapSqliteError(this.path, what, err);
    }
  }

  #read<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw wrapSqliteError(this.path, what, err);
    }
  }
}

/** Insertion sort of out[start..] by mint (already sorted unless compaction overlapped rows). */
function sortByMint(out: StoredChunk[], start: number): void {
  for (let i = start + 1; i < out.length; i++) {
    const c = out[i]!;
    let j = i - 1;
    if (out[j]!.mint <= c.mint) continue;
    while (j >= start && out[j]!.mint > c.mint) {
      out[j + 1] = out[j]!;
      j--;
    }
    out[j + 1] = c;
  }
}

/** A clear error before SQLite's terse "file is not a database". */
function checkMagic(path: string): void {
  if (!existsSync(path)) return;
  const st = statSync(path);
  if (st.isDirectory()) throw new BlockStoreError(path, "not-a-database", `Cannot open block store ${path}: it is a directory, not a database file`);
  if (st.size === 0) return; // SQLite treats an empty file as a new database
  const head = Buffer.alloc(16);
  const fd = openSync(path, "r");
  let n: number;
  try {
    n = readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  const magic = head.subarray(0, n).toString("latin1");
  if (magic !== SQLITE_MAGIC) {
    throw new BlockStoreError(
      path,
      "not-a-database",
      `Cannot open block store ${path}: it is not a SQLite database (it starts with ${JSON.stringify(magic.replace(/[^\x20-\x7e]/g, "."))}, ${st.size} bytes); move it away or point --storage.tsdb.path elsewhere`,
    );
  }
}

function migrate(path: string, db: Database): void {
  const hasTable = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").values().length > 0;
  const current = hasTable ? ((db.query("SELECT coalesce(max(version), 0) FROM schema_version").values()[0]?.[0] ?? 0) as number) : 0;
  if (current > SCHEMA_VERSION) {
    throw new BlockStoreError(
      path,
      "newer-schema",
      `Cannot open block store ${path}: its schema version ${current} is newer than this gleaner's (${SCHEMA_VERSION}); run a newer gleaner or move the file away`,
    );
  }
  for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.run(MIGRATIONS[v - 1]!);
      db.run("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", [v, Date.now()]);
    })();
  }
}
