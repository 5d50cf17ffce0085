import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Labels } from "../../../core/model/labels.ts";
import { Wal, type WalPosition, type WalSamples } from "./index.ts";
import { listWal, nextRecord, SegmentFile, segmentPath } from "./reader.ts";

const samples = (ref: number, t: number): WalSamples => ({ count: 1, refs: Uint32Array.of(ref), ts: Float64Array.of(t), values: Float64Array.of(t / 10), stale: Uint8Array.of(0) });

test("the durable position follows each fsync, and a reader up to it sees whole records in commit order", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-walr-"));
  const wal = await Wal.open({ dir, segmentSize: 256 });
  await wal.replay({ series: () => {}, samples: () => {} });
  expect(wal.durable).toEqual({ segment: -1, offset: 0 });
  const seen: WalPosition[] = [];
  const off = wal.onDurable((p) => seen.push(p));
  await wal.commit([{ ref: 1, labels: Labels.from({ __name__: "a" }) }], samples(1, 10));
  for (let t = 20; t <= 200; t += 10) await wal.commit([], samples(1, t));
  off();
  expect(seen.length).toBeGreaterThanOrEqual(19);
  expect(seen.at(-1)).toEqual(wal.durable);
  const files = await listWal(dir);
  expect(files.segments.length).toBeGreaterThan(1); // 256-byte segments roll over
  const ts: number[] = [];
  for (const n of files.segments) {
    const f = await SegmentFile.open(segmentPath(dir, n));
    const limit = n === wal.durable.segment ? wal.durable.offset : await f.size();
    const win = await f.window(0, limit);
    for (let p = 0; p < win.length; ) {
      const r = nextRecord(win, p, win.length);
      if (r.kind !== "record") throw new Error(`segment ${n} offset ${p}: ${r.kind}`);
      ts.push(...r.tx.samples!.ts);
      p = r.end;
    }
    await f.close();
  }
  expect(ts).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 10));
  await wal.close();
});

test("a record cut short reads as partial, and damaged bytes as bad with the reason", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-walr-"));
  const wal = await Wal.open({ dir });
  await wal.replay({ series: () => {}, samples: () => {} });
  await wal.commit([], samples(1, 10));
  await wal.close();
  const f = await SegmentFile.open(segmentPath(dir, 0));
  const win = (await f.window(0, await f.size())).slice();
  await f.close();
  expect(nextRecord(win, 0, win.length - 1)).toEqual({ kind: "partial", need: win.length });
  expect(nextRecord(win, 0, 3).kind).toBe("partial");
  win[7]! ^= 0xff;
  expect(nextRecord(win, 0, win.length)).toEqual({ kind: "bad", reason: "CRC mismatch" });
});
