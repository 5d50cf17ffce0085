/**
 * Child process for the WAL crash tests: opens the WAL, replays it, then commits numbered
 * transactions and prints each number once its commit resolved (so the parent knows what
 * was acknowledged before it sent kill -9).
 *
 *   bun crash-writer.ts <dir> <first tx> <fsyncIntervalMs> <segmentSize> [checkpoint-step]
 *
 * With a checkpoint step it commits 20 transactions, cuts a segment, checkpoints the series
 * of even transactions and SIGKILLs itself right after that step.
 */
import { Labels } from "../../../core/model/labels.ts";
import { type CheckpointStep, Wal, type WalSamples, type WalSeries } from "./index.ts";

/** Samples per transaction; sample i of tx k: ref k+1, t = k·1000+i, v = k + i/1000, every 97th stale (NaN value). */
export const TX_SAMPLES = 300;

export function txSeries(k: number): WalSeries {
  return { ref: k + 1, labels: Labels.from({ __name__: "tx", k: String(k) }) };
}

export function txSamples(k: number): WalSamples {
  const n = TX_SAMPLES;
  const s: WalSamples = { count: n, refs: new Uint32Array(n), ts: new Float64Array(n), values: new Float64Array(n), stale: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    s.refs[i] = k + 1;
    s.ts[i] = k * 1000 + i;
    s.stale[i] = i % 97 === 96 ? 1 : 0;
    s.values[i] = s.stale[i] ? Number.NaN : k + i / 1000;
  }
  return s;
}

if (import.meta.main) {
  const [dir, first, interval, segSize, step] = process.argv.slice(2);
  const wal = await Wal.open({
    dir: dir!,
    fsyncIntervalMs: Number(interval),
    segmentSize: Number(segSize),
    hooks: {
      checkpointStep(s: CheckpointStep) {
        if (s === step) process.kill(process.pid, "SIGKILL");
      },
    },
  });
  await wal.replay({ series() {}, samples() {} });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out("ready");
  let k = Number(first);
  if (step) {
    const live: WalSeries[] = [];
    for (const end = k + 20; k < end; k++) {
      await wal.commit([txSeries(k)], txSamples(k));
      if (k % 2 === 0) live.push(txSeries(k));
      out(String(k));
    }
    const seg = await wal.cut();
    out(`segment ${seg}`);
    await wal.checkpoint(live, seg);
    out("checkpointed");
  } else {
    // Up to 4 commits in flight, so concurrent commits share fsyncs as in the scrape loop.
    const inflight = new Set<Promise<void>>();
    for (;;) {
      const n = k++;
      const p = wal.commit([txSeries(n)], txSamples(n)).then(() => {
        out(String(n));
        inflight.delete(p);
      });
      inflight.add(p);
      if (inflight.size >= 4) await Promise.race(inflight);
    }
  }
}
