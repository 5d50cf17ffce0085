/**
 * Crash tests with a real child process (crash-writer.ts) killed with SIGKILL at random
 * moments: acknowledged transactions survive, none is half there, and writing continues.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rng } from "../../../test/support/random.ts";
import { type CheckpointStep, Wal, type WalSamples } from "./index.ts";
import { TX_SAMPLES, txSamples, txSeries } from "./crash-writer.ts";

const WRITER = join(import.meta.dir, "crash-writer.ts");
let root = "";
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "wal-crash-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs the writer until `killWhen` says so (given its output so far), then SIGKILLs it. */
async function runAndKill(args: string[], killWhen: (out: string) => boolean | Promise<boolean>, timeoutMs = 4000): Promise<string> {
  const child = Bun.spawn([process.execPath, WRITER, ...args], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  const dec = new TextDecoder();
  let out = "";
  const deadline = performance.now() + timeoutMs;
  let killed = false;
  while (!killed) {
    const chunk = await reader.read();
    if (chunk.done) break;
    out += dec.decode(chunk.value, { stream: true });
    if (await killWhen(out)) {
      child.kill("SIGKILL");
      killed = true;
    } else if (performance.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`crash writer did not reach the kill point in ${timeoutMs} ms; output:\n${out}`);
    }
  }
  // Whatever was printed before the kill landed was acknowledged first.
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    out += dec.decode(chunk.value, { stream: true });
  }
  await child.exited;
  return out;
}

const acked = (out: string) => out.split("\n").filter((l) => /^\d+$/.test(l)).map(Number);

/** Replays `dir` in this process and checks every transaction is whole; returns their numbers. */
async function replayTxs(dir: string): Promise<{ txs: number[]; seriesRefs: Set<number>; corruption: unknown }> {
  const wal = await Wal.open({ dir });
  const txs: number[] = [];
  const seriesRefs = new Set<number>();
  const res = await wal.replay({
    series: (s) => {
      expect(s.labels.key).toBe(txSeries(s.ref - 1).labels.key);
      seriesRefs.add(s.ref);
    },
    samples: (b: WalSamples) => {
      const k = b.refs[0]! - 1;
      const want = txSamples(k);
      expect(b.count).toBe(TX_SAMPLES);
      expect([...b.refs]).toEqual([...want.refs]);
      expect([...b.ts]).toEqual([...want.ts]);
      expect([...b.stale]).toEqual([...want.stale]);
      expect([...b.values]).toEqual([...want.values]);
      txs.push(k);
    },
  });
  await wal.close();
  return { txs, seriesRefs, corruption: res.corruption };
}

for (const interval of [0, 20]) {
  test(`kill -9 at random moments (fsyncIntervalMs ${interval}) loses no acknowledged transaction and never half of one`, async () => {
    const dir = join(root, `random-${interval}`);
    const r = rng(interval + 7);
    let next = 0;
    for (let round = 0; round < 10; round++) {
      const delay = 5 + Math.floor(r() * 60);
      let readyAt = 0;
      const out = await runAndKill([dir, String(next), String(interval), "65536"], async (o) => {
        if (!o.includes("ready")) return false;
        readyAt ||= performance.now();
        return performance.now() - readyAt >= delay;
      });
      const ack = acked(out);
      const { txs, seriesRefs } = await replayTxs(dir);
      // In order, without gaps: everything from the first transaction to the last one written.
      expect(txs).toEqual([...Array(txs.length).keys()]);
      for (const k of ack) expect(txs).toContain(k);
      for (const k of txs) expect(seriesRefs.has(k + 1)).toBe(true);
      expect(txs.length).toBeGreaterThanOrEqual(next); // writing continued after the last replay
      if (process.env.WAL_DEBUG) console.log(`round ${round}: acked ${ack.length}, replayed ${txs.length}, written ${txs.length - next}`);
      next = txs.length;
    }
    expect(next).toBeGreaterThan(10);
  }, 20_000);
}

for (const step of ["written", "renamed", "segments-deleted", "done"] as CheckpointStep[]) {
  test(`kill -9 right after checkpoint step "${step}" loses no data`, async () => {
    const dir = join(root, `checkpoint-${step}`);
    // A first run leaves 10 transactions behind, so the checkpoint has segments to delete.
    await runAndKill([dir, "0", "0", "8192"], (o) => acked(o).includes(9));
    const before = await replayTxs(dir);
    const first = before.txs.length;
    const out = await runAndKill([dir, String(first), "0", "8192", step], () => false);
    expect(out).not.toContain("checkpointed");
    const seg = Number(/segment (\d+)/.exec(out)?.[1]);
    const { txs, seriesRefs, corruption } = await replayTxs(dir);
    expect(corruption).toBeNull();
    // All 20 transactions of the second run were committed before the checkpoint began, in
    // segments < seg: they survive whole (old state) or as live series only (new state).
    const second = [...Array(20).keys()].map((i) => first + i);
    if (txs.length === 0) {
      expect(step === "written").toBe(false);
      for (const k of second.filter((k) => k % 2 === 0)) expect(seriesRefs.has(k + 1)).toBe(true);
      expect((await readdir(dir)).filter((n) => /^\d{8}$/.test(n)).every((n) => Number(n) >= seg)).toBe(true);
    } else {
      expect(txs).toEqual([...Array(first + 20).keys()]);
    }
  }, 10_000);
}
