/**
 * Block store benchmark: chunk write rate, bytes on disk per sample, query time, compaction.
 *
 *   node_modules/.bin/bun bench/blocks.bench.ts [series=1000] [hours=24]
 *
 * Series: every sample line of shared/testdata/real-exporters/node-exporter.prom, repeated
 * over instances until there are `series` of them, with values that move the way counters
 * and gauges do; 120 samples per chunk, 15 s apart on the scrape grid, `hours` of history.
 * Figures are medians of 5 runs after a warm-up (Bun.nanoseconds()). Files live in a temp dir.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { sql } from "drizzle-orm";
import { Labels } from "../core/model/labels.ts";
import { BlockStore, type StoredChunk } from "../storage/tsdb/blocks/index.ts";
import * as schema from "../storage/tsdb/blocks/schema.ts";
import { createCore } from "../wasm/index.ts";
import { XorCodec } from "../wasm/xor.ts";
import { rng } from "../test/support/random.ts";
import { TESTDATA_DIR } from "../test/support/testdata.ts";
import { median } from "./timing.ts";

const SERIES = Number(process.argv[2] ?? 1000);
const HOURS = Number(process.argv[3] ?? 24);
const CHUNK = 120;
const STEP = 15_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % STEP);
const dir = mkdtempSync(join(tmpdir(), "gleaner-blocks-bench-"));
const r = rng(7);
const xor = new XorCodec(await createCore());

// ---- realistic series ----------------------------------------------------------------------
interface Src {
  labels: Labels;
  next: (i: number) => number;
}
const text = await Bun.file(resolve(TESTDATA_DIR, "real-exporters/node-exporter.prom")).text();
const lines = text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
const types = new Map<string, string>();
for (const l of text.split("\n")) if (l.startsWith("# TYPE ")) types.set(l.split(" ")[2]!, l.split(" ")[3]!);

function source(line: string, instance: number): Src {
  const sp = line.lastIndexOf(" ");
  const key = line.slice(0, sp);
  const v0 = Number(line.slice(sp + 1));
  const name = key.replace(/\{.*$/, "");
  const pairs = [...key.matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!] as [string, string]);
  const labels = Labels.from([["__name__", name], ["job", "node"], ["instance", `host-${instance}:9100`], ...pairs]);
  const counter = types.get(name) === "counter" || /_(total|count|sum|bucket)$/.test(name);
  const decimals = /^-?\d+$/.test(line.slice(sp + 1)) ? 0 : 2;
  let v = Number.isFinite(v0) ? v0 : 0;
  const p = r();
  if (!Number.isFinite(v0) || p < 0.4) return { labels, next: () => v };
  if (counter) {
    const rate = 10 ** (r() * 4 - 1);
    return { labels, next: (i) => (i === 0 ? v : (v = decimals === 0 ? v + Math.round(rate * (0.5 + r())) : Math.round((v + rate * (0.5 + r())) * 100) / 100)) };
  }
  return { labels, next: (i) => (i > 0 && r() < 0.3 ? (v = Math.round(v * (1 + (r() - 0.5) * 0.02) * 100) / 100) : v) };
}

const sources: Src[] = [];
for (let inst = 0; sources.length < SERIES; inst++) for (const l of lines) if (sources.length < SERIES) sources.push(source(l, inst));

const chunksPerSeries = Math.round((HOURS * 3600_000) / (CHUNK * STEP));
const all: StoredChunk[] = []; // ordered by time, then ref: the order the head flushes them
const perSeries: StoredChunk[][] = sources.map(() => []);
let dataBytes = 0;
const tEncode = Bun.nanoseconds();
for (let k = 0; k < chunksPerSeries; k++) {
  for (let s = 0; s < sources.length; s++) {
    const c = xor.create();
    const t0 = T0 + k * CHUNK * STEP;
    for (let i = 0; i < CHUNK; i++) xor.append(c, t0 + i * STEP, sources[s]!.next(k * CHUNK + i));
    const sc = { ref: s + 1, mint: t0, maxt: t0 + (CHUNK - 1) * STEP, count: CHUNK, data: xor.bytes(c) };
    xor.free(c);
    all.push(sc);
    perSeries[s]!.push(sc);
    dataBytes += sc.data.length;
  }
}
const samples = all.length * CHUNK;
console.log(
  `${sources.length} series × ${chunksPerSeries} chunks (${HOURS} h) = ${all.length} chunks, ${samples} samples; XOR data ${(dataBytes / samples).toFixed(3)} B/sample, ${(dataBytes / all.length).toFixed(0)} B/chunk (encoded in ${((Bun.nanoseconds() - tEncode) / 1e6).toFixed(0)} ms)`,
);

// ---- write rate ------------------------------------------------------------------------------
let fileNo = 0;
function writeRate(batch: number): number {
  const rates: number[] = [];
  for (let run = 0; run < 6; run++) {
    const path = join(dir, `w${fileNo++}.db`);
    const store = BlockStore.open(path);
    const n = Math.min(all.length, batch * 10);
    let ns = 0;
    for (let i = 0; i < n; i += batch) {
      const slice = all.slice(i, i + batch);
      const t = Bun.nanoseconds();
      store.writeChunks(slice);
      ns += Bun.nanoseconds() - t;
    }
    store.close();
    rmSync(path, { force: true });
    if (run > 0) rates.push(n / (ns / 1e9));
  }
  return median(rates);
}

/** The same inserts through a drizzle prepared statement, for comparison. */
function drizzleRate(batch: number): number {
  const rates: number[] = [];
  for (let run = 0; run < 6; run++) {
    const path = join(dir, `d${fileNo++}.db`);
    BlockStore.open(path).close(); // schema + pragmas
    const db = new Database(path, { strict: true });
    db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = FULL");
    const orm = drizzle({ client: db, schema });
    const ins = orm
      .insert(schema.chunks)
      .values({ ref: sql.placeholder("ref"), mint: sql.placeholder("mint"), maxt: sql.placeholder("maxt"), count: sql.placeholder("count"), parts: 1, crc: sql.placeholder("crc"), data: sql.placeholder("data") })
      .onConflictDoNothing()
      .prepare();
    const n = Math.min(all.length, batch * 10);
    let ns = 0;
    for (let i = 0; i < n; i += batch) {
      const slice = all.slice(i, i + batch);
      const t = Bun.nanoseconds();
      orm.transaction(() => {
        for (const c of slice) ins.run({ ref: c.ref, mint: c.mint, maxt: c.maxt, count: c.count, crc: Bun.hash.crc32(c.data), data: Buffer.from(c.data.buffer, c.data.byteOffset, c.data.length) });
      });
      ns += Bun.nanoseconds() - t;
    }
    db.close();
    rmSync(path, { force: true });
    if (run > 0) rates.push(n / (ns / 1e9));
  }
  return median(rates);
}

for (const batch of [1000, 10_000]) {
  console.log(`write, batches of ${batch}: ${(writeRate(batch) / 1000).toFixed(0)}k chunks/s raw prepared statement; drizzle prepared insert ${(drizzleRate(batch) / 1000).toFixed(0)}k chunks/s`);
}

// ---- the full store: size, query, compaction -------------------------------------------------
const path = join(dir, "store.db");
const store = BlockStore.open(path);
store.upsertSeries(sources.map((s, i) => ({ ref: i + 1, labels: s.labels })));
let t = Bun.nanoseconds();
for (let i = 0; i < all.length; i += 10_000) store.writeChunks(all.slice(i, i + 10_000));
const writeAll = (Bun.nanoseconds() - t) / 1e6;
const size0 = store.sizeBytes();
const rows0 = all.length;
console.log(`store: ${all.length} chunks written in ${writeAll.toFixed(0)} ms; file ${(size0 / 1e6).toFixed(2)} MB = ${(size0 / samples).toFixed(3)} B/sample on disk (XOR data alone ${(dataBytes / samples).toFixed(3)})`);

/** Bytes per table and index (SQLite's dbstat), as B/sample. */
function breakdown(): string {
  const db = new Database(path, { readonly: true });
  const rows = db.query("SELECT name, sum(pgsize) AS size, sum(payload) AS payload FROM dbstat GROUP BY name ORDER BY size DESC").all() as Array<{ name: string; size: number; payload: number }>;
  db.close();
  return rows.map((r) => `${r.name} ${(r.size / samples).toFixed(3)} (payload ${(r.payload / samples).toFixed(3)})`).join(", ");
}
console.log(`  B/sample by table/index: ${breakdown()}`);

const refs = sources.map((_, i) => i + 1).slice(0, 1000);
const end = T0 + chunksPerSeries * CHUNK * STEP - STEP;
function queryMs(decode: boolean): { ms: number; chunks: number; samples: number } {
  const ms: number[] = [];
  let chunks = 0;
  let n = 0;
  for (let run = 0; run < 8; run++) {
    const t1 = Bun.nanoseconds();
    const got = store.chunks(refs, end - 2 * 3600_000, end);
    n = 0;
    if (decode) {
      for (const c of got) {
        const h = xor.fromBytes(c.data);
        const it = xor.iterator(h);
        while (it.next()) n++;
        it.close();
        xor.free(h);
      }
    }
    chunks = got.length;
    if (run > 0) ms.push((Bun.nanoseconds() - t1) / 1e6);
  }
  return { ms: median(ms), chunks, samples: n };
}
function reportQuery(label: string): void {
  const q = queryMs(false);
  const d = queryMs(true);
  console.log(`query ${refs.length} series over the last 2 h (${label}): ${q.ms.toFixed(2)} ms for ${q.chunks} chunks; with WASM decode of every sample ${d.ms.toFixed(2)} ms (${d.samples} samples)`);
}
reportQuery("before compaction");

const open = (quickCheck: boolean) => {
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t1 = Bun.nanoseconds();
    BlockStore.open(path, { quickCheck }).close();
    ms.push((Bun.nanoseconds() - t1) / 1e6);
  }
  return median(ms);
};
const openFast = open(false);
const openChecked = open(true);
console.log(`open: ${openFast.toFixed(1)} ms without quick_check, ${openChecked.toFixed(1)} ms with it (${(size0 / 1e6).toFixed(1)} MB)`);

for (const target of [1024, 4096]) {
  t = Bun.nanoseconds();
  const c = store.compact({ targetBytes: target });
  const ms = (Bun.nanoseconds() - t) / 1e6;
  const size = store.sizeBytes();
  console.log(
    `compact(targetBytes ${target}): ${c.rowsBefore} → ${c.rowsAfter} rows in ${ms.toFixed(0)} ms; file ${(size / 1e6).toFixed(2)} MB = ${(size / samples).toFixed(3)} B/sample (was ${(size0 / samples).toFixed(3)})`,
  );
  console.log(`  B/sample by table/index: ${breakdown()}`);
  reportQuery(`after compaction to ${target} B rows`);
}
store.close();
const vac = new Database(path);
vac.run("VACUUM");
vac.close();
console.log(`after a full VACUUM: ${(statSync(path).size / 1e6).toFixed(2)} MB = ${(statSync(path).size / samples).toFixed(3)} B/sample (rows before compaction: ${rows0})`);

const s2 = BlockStore.open(path);
t = Bun.nanoseconds();
const del = s2.applyRetention({ minTime: -Infinity, maxBytes: Math.floor(s2.sizeBytes() / 2) });
console.log(`retention to half the size: deleted ${del.chunks} chunk rows in ${((Bun.nanoseconds() - t) / 1e6).toFixed(0)} ms; file now ${(s2.sizeBytes() / 1e6).toFixed(2)} MB`);
s2.close();
rmSync(dir, { recursive: true, force: true });
