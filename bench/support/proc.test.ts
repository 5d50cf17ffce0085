import { expect, test } from "bun:test";
import { diskUsage, hostCpu, peakRss, processTree, treeStat } from "./proc.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

test("processTree finds a child's own children, and treeStat adds them up", async () => {
  const parent = Bun.spawn(["sh", "-c", "sleep 30 & sleep 30 & wait"], { stdout: "ignore" });
  try {
    let tree: number[] = [];
    for (let i = 0; i < 50 && tree.length < 3; i++) {
      await Bun.sleep(20);
      tree = processTree(parent.pid);
    }
    expect(tree[0]).toBe(parent.pid);
    expect(tree.length).toBe(3);
    const s = treeStat(parent.pid);
    expect(s.rss).toBeGreaterThan(0);
    expect(s.peakRss).toBeGreaterThanOrEqual(s.rss);
  } finally {
    parent.kill("SIGKILL");
  }
});

test("peakRss of a process that is gone is 0, and hostCpu counts this machine's CPUs", () => {
  expect(peakRss(2 ** 22 + 12345)).toBe(0);
  const h = hostCpu();
  expect(h.cpus).toBeGreaterThanOrEqual(1);
  expect(h.busy).toBeGreaterThan(0);
});

test("diskUsage adds up the files of a directory tree", () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-du-"));
  writeFileSync(join(dir, "a"), new Uint8Array(10_000));
  expect(diskUsage(dir)).toBeGreaterThanOrEqual(10_000);
  rmSync(dir, { recursive: true });
});
