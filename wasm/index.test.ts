import { expect, test } from "bun:test";
import { ABI_VERSION } from "./assembly/abi.ts";
import { createCore } from "./index.ts";

test("the core module loads and reports the ABI version the bindings expect", async () => {
  const c = await createCore();
  expect(c.exports.abiVersion()).toBe(ABI_VERSION);
});

test("alloc() reuses a freed block of the same size class", async () => {
  const c = await createCore();
  const a = c.exports.alloc(100);
  expect(a % 16).toBe(0);
  c.exports.free(a, 100);
  expect(c.exports.alloc(120)).toBe(a);
  expect(c.exports.alloc(120)).not.toBe(a);
});

test("slabs whose blocks are all freed are reused by another size class: lockstep growth leaves no garbage", async () => {
  const c = await createCore();
  const x = c.exports as unknown as { alloc(n: number): number; free(p: number, n: number): void; allocHeapBytes(): number };
  // 200k 64-byte blocks (like chunk buffers of one scrape's new series), then each grows to 128.
  const small = Array.from({ length: 200_000 }, () => x.alloc(64));
  expect(new Set(small).size).toBe(small.length);
  expect(small.every((p) => p % 16 === 0)).toBe(true);
  const afterSmall = x.allocHeapBytes();
  const big = small.map((p) => {
    const q = x.alloc(128);
    x.free(p, 64);
    return q;
  });
  const grownBy = x.allocHeapBytes() - afterSmall;
  // Without reuse the 128-byte blocks would take 25.6 MB more; the emptied slabs supply most of it.
  expect(grownBy).toBeLessThan(200_000 * 128 * 0.6);
  // Blocks are distinct and writable without overlap.
  const u32 = new Uint32Array(c.exports.memory.buffer);
  big.forEach((p, i) => (u32[p >>> 2] = i));
  expect(big.every((p, i) => u32[p >>> 2] === i)).toBe(true);
  for (const p of big) x.free(p, 128);
});

test("views() are re-created after memory grows", async () => {
  const c = await createCore();
  const before = c.views().u8;
  c.exports.alloc(8 << 20);
  const after = c.views().u8;
  expect(after.byteLength).toBeGreaterThan(before.byteLength);
  expect(before.byteLength).toBe(0); // detached by memory.grow
});
