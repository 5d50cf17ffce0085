import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, statSync, truncateSync, openSync, writeSync, closeSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Labels } from "../../../core/model/labels.ts";
import { createCore } from "../../../wasm/index.ts";
import { XorCodec } from "../../../wasm/xor.ts";
import { BlockStore, BlockStoreError, SCHEMA_VERSION, type StoredChunk } from "./index.ts";

let dir: string;
let xor: XorCodec;
let n = 0;
const file = () => join(dir, `blocks-${++n}.db`);
const T0 = 1_700_000_000_000;
const STEP = 15_000;
const STALE = 0x7ff0000000000002n;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gleaner-blocks-"));
  xor = new XorCodec(await createCore());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A real XOR chunk of `count` samples from t0, 15 s apart; the last one stale when asked. */
function chunk(ref: number, t0: number, count = 120, opts: { stale?: boolean; seed?: number; noisy?: boolean } = {}): StoredChunk {
  const c = xor.create();
  const seed = opts.seed ?? ref;
  for (let i = 0; i < count; i++) {
    const t = t0 + i * STEP;
    if (opts.stale && i === count - 1) xor.appendStale(c, t);
    else xor.append(c, t, opts.noisy ? Math.round((seed * 1000 + i * 1.5 + Math.sin(i) * 10) * 100) / 100 : seed * 1000 + i * (seed % 5));
  }
  const out = { ref, mint: t0, maxt: t0 + (count - 1) * STEP, count, data: xor.bytes(c) };
  xor.free(c);
  return out;
}

/** Every sample as "ref t bits" strings, decoded from the chunks' bytes. */
function samples(chunks: readonly StoredChunk[]): string[] {
  const out: string[] = [];
  for (const sc of chunks) {
    const c = xor.fromBytes(sc.data);
    const { t, bits } = xor.decodeBits(c);
    xor.free(c);
    expect(t.length).toBe(sc.count);
    expect(Number(t[0])).toBe(sc.mint);
    expect(Number(t[t.length - 1])).toBe(sc.maxt);
    for (let i = 0; i < t.length; i++) out.push(`${sc.ref} ${t[i]} ${bits[i]!.toString(16)}`);
  }
  return out;
}

const labels = (i: number) => Labels.from({ __name__: `metric_${i % 7}`, job: "node", instance: `host-${i}:9100` });

describe("BlockStore", () => {
  test("series and chunks round-trip: labels come back equal and chunk bytes decode to the same samples, stale markers included", () => {
    const path = file();
    const store = BlockStore.open(path);
    const odd = Labels.from({ __name__: "odd", a: "x\u0000y", b: "\u0001\u0002", "c\u0000": "z" });
    store.upsertSeries([
      { ref: 1, labels: labels(1) },
      { ref: 2, labels: odd },
      { ref: 3, labels: Labels.from({ job: "no-name" }) },
    ]);
    const written = [chunk(1, T0, 120, { noisy: true }), chunk(1, T0 + 120 * STEP, 120, { stale: true }), chunk(2, T0, 37, { noisy: true })];
    store.writeChunks(written);
    const series = store.allSeries();
    expect(series.map((s) => s.ref)).toEqual([1, 2, 3]);
    expect(series[0]!.labels.equals(labels(1))).toBe(true);
    expect(series[1]!.labels.equals(odd)).toBe(true);
    expect(series[2]!.labels.equals(Labels.from({ job: "no-name" }))).toBe(true);
    const back = store.chunks([1, 2, 3], 0, Number.MAX_SAFE_INTEGER);
    expect(samples(back)).toEqual(samples(written));
    expect(samples(back).at(119 + 120)).toEndWith(STALE.toString(16));
    store.close();
  });

  test("writing the same series and chunks again changes nothing", () => {
    const store = BlockStore.open(file());
    const cs = [chunk(1, T0), chunk(1, T0 + 120 * STEP)];
    for (let k = 0; k < 3; k++) {
      store.upsertSeries([{ ref: 1, labels: labels(1) }]);
      store.writeChunks(cs);
    }
    expect(store.allSeries()).toHaveLength(1);
    expect(store.chunks([1], 0, Infinity)).toHaveLength(2);
    expect(store.maxTimes()).toEqual(new Map([[1, T0 + 239 * STEP]]));
    store.close();
  });

  test("chunks() returns only chunks overlapping [mint, maxt] of the asked series, ordered by ref then mint, bounds inclusive", () => {
    const store = BlockStore.open(file());
    const span = 120 * STEP;
    const all: StoredChunk[] = [];
    for (const ref of [5, 2, 9]) for (let k = 3; k >= 0; k--) all.push(chunk(ref, T0 + k * span));
    store.writeChunks(all);
    const key = (c: StoredChunk) => `${c.ref}@${(c.mint - T0) / span}`;
    // Chunk k covers [T0 + k*span, T0 + k*span + 119*STEP].
    expect(store.chunks([9, 2], T0 + span, T0 + 2 * span).map(key)).toEqual(["2@1", "2@2", "9@1", "9@2"]);
    expect(store.chunks([5], T0 + span + 119 * STEP, T0 + span + 119 * STEP).map(key)).toEqual(["5@1"]);
    expect(store.chunks([5], T0 + span + 119 * STEP + 1, T0 + 2 * span - 1).map(key)).toEqual([]);
    expect(store.chunks([5, 5, 7], 0, T0).map(key)).toEqual(["5@0"]);
    expect(store.chunks([], 0, Infinity)).toEqual([]);
    store.close();
  });

  test("retention by time deletes whole chunks ending before minTime and series left empty unless the head keeps them", () => {
    const store = BlockStore.open(file());
    const span = 120 * STEP;
    store.upsertSeries([1, 2, 3].map((ref) => ({ ref, labels: labels(ref) })));
    store.writeChunks([chunk(1, T0), chunk(1, T0 + span), chunk(2, T0), chunk(3, T0)]);
    const minTime = T0 + 119 * STEP + 1; // just after the first chunks end
    const got = store.applyRetention({ minTime, maxBytes: 0, keepRefs: new Set([3]) });
    expect(got.chunks).toBe(3);
    expect(got.bytes).toBeGreaterThan(0);
    expect(got.series).toBe(1); // 2 goes; 1 has a chunk left; 3 is still in the head
    expect(store.allSeries().map((s) => s.ref)).toEqual([1, 3]);
    expect(store.chunks([1, 2, 3], 0, Infinity).map((c) => [c.ref, c.mint])).toEqual([[1, T0 + span]]);
    expect(store.applyRetention({ minTime, maxBytes: 0 })).toEqual({ chunks: 0, bytes: 0, series: 1 });
    store.close();
  });

  test("retention by size deletes the oldest chunks until the file is under the limit", () => {
    const store = BlockStore.open(file());
    const span = 120 * STEP;
    const cs: StoredChunk[] = [];
    for (let k = 0; k < 20; k++) for (let ref = 1; ref <= 200; ref++) cs.push(chunk(ref, T0 + k * span, 120, { seed: ref * 31 + k }));
    store.writeChunks(cs);
    const before = store.sizeBytes();
    const limit = Math.floor(before / 2);
    const got = store.applyRetention({ minTime: -Infinity, maxBytes: limit });
    expect(store.sizeBytes()).toBeLessThanOrEqual(limit);
    expect(got.chunks).toBeGreaterThan(0);
    const left = store.chunks(Array.from({ length: 200 }, (_, i) => i + 1), 0, Infinity);
    expect(left.length).toBe(cs.length - got.chunks);
    const oldestLeft = Math.min(...left.map((c) => c.maxt));
    // Everything deleted ended no later than everything kept.
    const keptKeys = new Set(left.map((c) => `${c.ref}:${c.mint}`));
    const deletedNewest = Math.max(...cs.filter((c) => !keptKeys.has(`${c.ref}:${c.mint}`)).map((c) => c.maxt));
    expect(deletedNewest).toBeLessThanOrEqual(oldestLeft);
    store.close();
  });

  test("compaction merges small chunk rows, keeps every sample, and partial-range queries still return exact chunks", () => {
    const path = file();
    const store = BlockStore.open(path);
    const span = 120 * STEP;
    const cs: StoredChunk[] = [];
    for (let ref = 1; ref <= 50; ref++) for (let k = 0; k < 12; k++) cs.push(chunk(ref, T0 + k * span, 120, { seed: ref, stale: k === 11 }));
    store.writeChunks(cs);
    const refs = Array.from({ length: 50 }, (_, i) => i + 1);
    const before = samples(store.chunks(refs, 0, Infinity));
    const mid = store.chunks(refs, T0 + 5 * span, T0 + 6 * span + 10);
    const { rowsBefore, rowsAfter } = store.compact({ targetBytes: 1024 });
    expect(rowsBefore).toBe(600);
    expect(rowsAfter).toBeLessThan(rowsBefore / 2);
    expect(samples(store.chunks(refs, 0, Infinity))).toEqual(before);
    expect(samples(store.chunks(refs, T0 + 5 * span, T0 + 6 * span + 10))).toEqual(samples(mid));
    // Compacting again merges what is still small, and never loses a sample.
    const again = store.compact({ targetBytes: 4096 });
    expect(again.rowsAfter).toBeLessThanOrEqual(rowsAfter);
    expect(samples(store.chunks(refs, 0, Infinity))).toEqual(before);
    store.close();
    const reopened = BlockStore.open(path);
    expect(samples(reopened.chunks(refs, 0, Infinity))).toEqual(before);
    reopened.close();
  });

  test("a reopened store keeps series and chunks and does not re-run migrations", () => {
    const path = file();
    const a = BlockStore.open(path);
    a.upsertSeries([{ ref: 7, labels: labels(7) }]);
    a.writeChunks([chunk(7, T0)]);
    a.close();
    const applied = new Database(path).query("SELECT version, applied_at FROM schema_version").all();
    expect(applied).toHaveLength(SCHEMA_VERSION);
    const b = BlockStore.open(path);
    expect(b.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(b.allSeries().map((s) => s.ref)).toEqual([7]);
    expect(samples(b.chunks([7], 0, Infinity))).toEqual(samples([chunk(7, T0)]));
    b.close();
    expect(new Database(path).query("SELECT version, applied_at FROM schema_version").all()).toEqual(applied);
  });

  test("a database from a newer schema version is refused with a message naming the file and both versions", () => {
    const path = file();
    BlockStore.open(path).close();
    const db = new Database(path);
    db.run("INSERT INTO schema_version (version, applied_at) VALUES (99, 0)");
    db.close();
    const err = openError(path);
    expect(err.reason).toBe("newer-schema");
    expect(err.message).toContain(path);
    expect(err.message).toContain("99");
  });

  test("a file that is not SQLite is refused with a clear error naming it", () => {
    const path = file();
    writeFileSync(path, "# HELP up 1 if the target is up\nup 1\n".repeat(100));
    const err = openError(path);
    expect(err.reason).toBe("not-a-database");
    expect(err.message).toStartWith(`Cannot open block store ${path}: it is not a SQLite database`);
    expect(openError(dir).reason).toBe("not-a-database"); // a directory
  });

  test("another application's SQLite file is refused, and left as it was", () => {
    const path = file();
    const db = new Database(path);
    db.run("CREATE TABLE notes (x TEXT)");
    db.close();
    const size = statSync(path).size;
    expect(openError(path).reason).toBe("not-gleaner");
    expect(statSync(path).size).toBe(size);
  });

  test("a truncated database file is refused as corrupt, naming the file", () => {
    const path = bigStore();
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const err = openError(path);
    expect(err.reason).toBe("corrupt");
    expect(err.message).toContain(path);
  });

  test("a database with overwritten pages is refused as corrupt, naming the file", () => {
    const path = bigStore();
    const fd = openSync(path, "r+");
    const junk = Buffer.alloc(4096 * 3, 0xa5);
    writeSync(fd, junk, 0, junk.length, 4096 * 2); // b-tree pages right after the schema
    closeSync(fd);
    const err = openError(path);
    expect(err.reason).toBe("corrupt");
    expect(err.message).toContain(path);
  });

  test("a write past the size cap fails as disk-full, keeps everything committed before, and writing resumes once there is room", () => {
    const path = file();
    const small = BlockStore.open(path);
    small.writeChunks([chunk(1, T0)]);
    small.close();
    const store = BlockStore.open(path, { hardLimitBytes: 256 * 1024 });
    const many: StoredChunk[] = [];
    for (let ref = 2; ref < 3000; ref++) many.push(chunk(ref, T0, 120, { noisy: true }));
    let err: unknown;
    try {
      store.writeChunks(many);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BlockStoreError);
    expect((err as BlockStoreError).reason).toBe("disk-full");
    expect((err as BlockStoreError).message).toContain(path);
    expect(store.chunks([1, 2], 0, Infinity).map((c) => c.ref)).toEqual([1]); // the batch rolled back whole
    store.close();
    const roomy = BlockStore.open(path);
    roomy.writeChunks(many);
    expect(roomy.chunks([1, 2, 2999], 0, Infinity).map((c) => c.ref)).toEqual([1, 2, 2999]);
    roomy.close();
  });

  test("a chunk row whose bytes were damaged is skipped and reported; the other rows are returned", () => {
    const path = file();
    const store = BlockStore.open(path);
    store.writeChunks([chunk(1, T0), chunk(1, T0 + 120 * STEP), chunk(1, T0 + 240 * STEP), chunk(2, T0)]);
    const db = new Database(path);
    db.run("UPDATE chunks SET data = zeroblob(length(data)) WHERE ref = 1 AND mint = ?", [T0 + 120 * STEP]);
    db.close();
    const seen: number[] = [];
    const s2 = BlockStore.open(path, { onCorrupt: (r) => seen.push(r.ref) });
    expect(s2.chunks([1, 2], 0, Infinity).map((c) => [c.ref, c.mint])).toEqual([
      [1, T0],
      [1, T0 + 240 * STEP],
      [2, T0],
    ]);
    expect(seen).toEqual([1]);
    expect(s2.corruptRows).toBe(1);
    expect(s2.compact().rowsAfter).toBe(4); // rows are not merged across the damaged one
    s2.close();
    store.close();
  });
});

function openError(path: string): BlockStoreError {
  try {
    BlockStore.open(path).close();
  } catch (err) {
    expect(err).toBeInstanceOf(BlockStoreError);
    return err as BlockStoreError;
  }
  throw new Error(`BlockStore.open(${path}) did not fail`);
}

/** A closed store of a few hundred KB. */
function bigStore(): string {
  const path = file();
  const store = BlockStore.open(path);
  store.upsertSeries(Array.from({ length: 300 }, (_, i) => ({ ref: i + 1, labels: labels(i + 1) })));
  const cs: StoredChunk[] = [];
  for (let k = 0; k < 8; k++) for (let ref = 1; ref <= 300; ref++) cs.push(chunk(ref, T0 + k * 120 * STEP, 120, { seed: ref + k }));
  store.writeChunks(cs);
  store.close();
  return path;
}
