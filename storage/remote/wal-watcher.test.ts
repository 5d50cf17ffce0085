import { expect, test } from "bun:test";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../core/log/logger.ts";
import { Labels } from "../../core/model/labels.ts";
import { Wal } from "../tsdb/wal/index.ts";
import { until } from "./test-harness.ts";
import { WalWatcher } from "./wal-watcher.ts";

test("a read that fails (an I/O error) is retried from the same record: nothing is skipped or handed over twice", async () => {
  // A real WAL with three records, written elsewhere.
  const src = mkdtempSync(join(tmpdir(), "gleaner-ww-src-"));
  const wal = await Wal.open({ dir: src });
  await wal.replay({ series: () => {}, samples: () => {} });
  for (let t = 1; t <= 3; t++) {
    const series = t === 1 ? [{ ref: 1, labels: Labels.from({ __name__: "m" }) }] : [];
    await wal.commit(series, { count: 1, refs: Uint32Array.of(1), ts: Float64Array.of(t), values: Float64Array.of(t), stale: Uint8Array.of(0) });
  }
  const durable = wal.durable;
  await wal.close();
  // The watcher's WAL directory holds a directory where segment 0 should be: reads fail with EISDIR.
  const dir = mkdtempSync(join(tmpdir(), "gleaner-ww-"));
  mkdirSync(join(dir, "00000000"));
  const logs: string[] = [];
  const got: number[] = [];
  const watcher = new WalWatcher({
    wal: { dir, durable },
    log: createLogger({ level: "error", format: "logfmt", write: (l) => logs.push(l) }),
    stopping: () => got.length === 3,
    halted: () => false,
    sink: {
      series: () => {},
      reset: () => {},
      record: async (tx) => void got.push(...tx.samples!.ts),
      truncated: () => {},
      ready: () => {},
    },
  });
  const running = watcher.run({ segment: 0, offset: 0 });
  await until(() => logs.some((l) => l.includes("Reading the WAL failed; trying again in 1s")), 5000, "the failed read");
  rmdirSync(join(dir, "00000000"));
  copyFileSync(join(src, "00000000"), join(dir, "00000000"));
  watcher.wake();
  await running;
  expect(got).toEqual([1, 2, 3]);
});

test("a checkpoint written while reading refreshes the live series at the next segment, then the rest are reset", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-ww-"));
  const wal = await Wal.open({ dir, segmentSize: 256 });
  await wal.replay({ series: () => {}, samples: () => {} });
  const one = (ref: number, t: number) => ({ count: 1, refs: Uint32Array.of(ref), ts: Float64Array.of(t), values: Float64Array.of(t), stale: Uint8Array.of(0) });
  const a = { ref: 1, labels: Labels.from({ __name__: "a" }) };
  const b = { ref: 2, labels: Labels.from({ __name__: "b" }) };
  await wal.commit([a, b], one(2, 1));
  for (let t = 2; wal.segment < 4; t++) await wal.commit([], one(1, t));
  const durable = wal.durable;
  await wal.close();
  // The TSDB's checkpoint at segment 2 (series b is gone by then), made in a copy.
  const copy = mkdtempSync(join(tmpdir(), "gleaner-ww-cp-"));
  cpSync(dir, copy, { recursive: true });
  const other = await Wal.open({ dir: copy });
  await other.replay({ series: () => {}, samples: () => {} });
  await other.checkpoint([a], 2);
  await other.close();
  const events: string[] = [];
  let copied = false;
  const watcher = new WalWatcher({
    wal: { dir, durable },
    log: createLogger({ level: "error", format: "logfmt", write: () => {} }),
    stopping: () => true,
    halted: () => false,
    sink: {
      series: (ref, _labels, seg) => void events.push(`series ${ref} @${seg}`),
      reset: (seg) => void events.push(`reset ${seg}`),
      record: async (tx, seg) => {
        if (!copied) {
          copyFileSync(join(copy, "checkpoint.00000002"), join(dir, "checkpoint.00000002"));
          copied = true;
        }
        events.push(`record @${seg}${tx.series.map((x) => ` +${x.ref}`).join("")}`);
      },
      truncated: () => {},
      ready: () => {},
    },
  });
  await watcher.run({ segment: 0, offset: 0 });
  const reset = events.indexOf("reset 2");
  expect(events[0]).toBe("record @0 +1 +2"); // new series come inside their record
  expect(events.slice(reset - 1, reset + 2)).toEqual(["series 1 @2", "reset 2", "record @2"]);
  expect(events.filter((e) => e.startsWith("reset"))).toEqual(["reset 2"]);
});
