/**
 * Start-up of the TSDB after a long run at high cardinality: `targets` × 20,007 series (the
 * k8s-http shape of storage/tsdb/wal/scrape-workload.ts) scraped for `rounds` intervals of
 * 10 s through the real head and WAL, with the TSDB's own flush (cut chunks to the block
 * store, WAL checkpoints) every 30 rounds, as the 10 s flush timer would do.
 *
 *   node_modules/.bin/bun bench/startup.bench.ts [targets = 50] [rounds = 360]
 *   (KEEP=1 keeps the data directories, VERBOSE=1 shows the TSDB's log)
 *
 * Two start-ups are timed on the same data, each in a fresh process (RSS included):
 * - after a clean shutdown (close(): the head snapshot, then nothing to replay),
 * - after a crash (a copy of the data directory taken before close(): WAL replay).
 * Both must end with the same head (series count, samples of sampled series).
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../core/log/logger.ts";
import { Registry } from "../core/metrics/registry.ts";
import { Tsdb } from "../storage/tsdb/index.ts";
import { SCRAPE_SAMPLES, TARGET_REFS, scrapeCommit, scrapeSeries } from "../storage/tsdb/wal/scrape-workload.ts";

const T0 = 1_763_800_000_000;
// VERBOSE=1: the TSDB's own log lines (load, flush, snapshot timings) on stderr.
const quiet = () => createLogger({ level: process.env.VERBOSE ? "info" : "error", format: "logfmt", write: (line) => process.env.VERBOSE && process.stderr.write(`${line}\n`) });

async function open(dir: string, now: () => number): Promise<Tsdb> {
  return Tsdb.open({ dir, retentionMs: 0, retentionBytes: 0, registry: new Registry(), log: quiet(), now, flushIntervalMs: 3_600_000 });
}

/** Child mode: open `dir`, print one JSON line with the start-up figures. */
async function child(dir: string, rounds: number, targets: number): Promise<void> {
  Bun.gc(true);
  const t = performance.now();
  const db = await open(dir, () => T0 + (rounds + 1) * 10_000);
  const s = (performance.now() - t) / 1000;
  Bun.gc(true);
  const rss = process.memoryUsage.rss();
  // A fingerprint of the head: samples of one series per 1,000.
  let fp = 0;
  let samples = 0;
  for (let tg = 0; tg < targets; tg++) {
    for (let i = 0; i < SCRAPE_SAMPLES; i += 1000) {
      const ref = 1 + tg * TARGET_REFS + i;
      for (const x of db.head.samples(ref, -Infinity, Infinity)) {
        fp = (Math.imul(fp, 31) + (x.t % 1_000_003) + Math.floor(x.v)) | 0;
        samples++;
      }
    }
  }
  console.log(JSON.stringify({ s, rss, series: db.head.seriesCount, openChunks: db.head.chunkCount, fp, samples, snapshot: db.loadedFrom }));
  await db.close();
}

async function main(): Promise<void> {
  const targets = Number(process.argv[2] ?? 50);
  const rounds = Number(process.argv[3] ?? 360);
  const root = mkdtempSync(join(tmpdir(), "startup-bench-"));
  const dir = join(root, "data");
  try {
    let now = T0;
    const db = await open(dir, () => now);
    let flushStall = 0;
    let flushS = 0;
    const g0 = performance.now();
    for (let k = 0; k <= rounds; k++) {
      now = T0 + k * 10_000;
      const pending: Promise<void>[] = [];
      for (let tg = 0; tg < targets; tg++) {
        const series = k === 0 ? scrapeSeries(tg) : [];
        for (const s of series) db.head.addSeries(s.labels, s.ref);
        const tx = { series, ...scrapeCommit(tg, k, now) };
        const segment = db.head.walSegment();
        pending.push(db.head.persist(tx).then(() => db.head.apply(tx, segment)));
      }
      await Promise.all(pending);
      if (k % 30 === 29) {
        // The flush writes every chunk cut since the last one (a million when all series cut
        // at once); it must leave the event loop to others in between.
        let last = performance.now();
        const tick = setInterval(() => {
          const t = performance.now();
          flushStall = Math.max(flushStall, t - last);
          last = t;
        }, 1);
        const f0 = performance.now();
        await db.flush();
        clearInterval(tick);
        flushStall = Math.max(flushStall, performance.now() - last);
        flushS = Math.max(flushS, (performance.now() - f0) / 1000);
      }
    }
    const gen = (performance.now() - g0) / 1000;
    const crashed = join(root, "crashed");
    cpSync(dir, crashed, { recursive: true });
    const c0 = performance.now();
    await db.close();
    const closeS = (performance.now() - c0) / 1000;
    const du = (d: string): number => readdirSync(d, { recursive: true }).reduce((n, f) => n + (statSync(join(d, String(f))).isFile() ? statSync(join(d, String(f))).size : 0), 0);
    const wal = join(crashed, "wal");
    console.log(`${targets} targets × ${SCRAPE_SAMPLES} series, ${rounds + 1} rounds of 10 s (${(((rounds + 1) * targets * SCRAPE_SAMPLES) / 1e6).toFixed(0)}M samples) written in ${gen.toFixed(0)} s`);
    console.log(`  longest flush ${flushS.toFixed(2)} s, longest event-loop stall during a flush ${flushStall.toFixed(0)} ms`);
    console.log(`  WAL left to replay after a crash: ${(du(wal) / 1e6).toFixed(0)} MB; block store ${(statSync(join(crashed, "blocks.db")).size / 1e6).toFixed(0)} MB; close() (unflushed chunks go into the snapshot) ${closeS.toFixed(2)} s${existsSync(join(dir, "head.snapshot")) ? `, snapshot ${(statSync(join(dir, "head.snapshot")).size / 1e6).toFixed(0)} MB` : ""}`);
    const run = (d: string) => {
      const p = Bun.spawnSync([process.execPath, import.meta.path, "--child", d, String(rounds), String(targets)], { stderr: "inherit" });
      const line = p.stdout.toString().trim().split("\n").pop()!;
      return JSON.parse(line) as { s: number; rss: number; series: number; openChunks: number; fp: number; samples: number; snapshot: string };
    };
    for (const [name, d] of [["clean shutdown", dir], ["crash (WAL replay)", crashed]] as const) {
      const r = run(d);
      console.log(`  start-up after a ${name}: ${r.s.toFixed(2)} s, RSS ${(r.rss / 2 ** 20).toFixed(0)} MiB, ${r.series} series, ${r.openChunks} open chunks, loaded from ${r.snapshot}; fingerprint ${r.fp} over ${r.samples} samples`);
    }
  } finally {
    if (process.env.KEEP) console.log(`  kept ${root}`);
    else await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") await child(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
else await main();
