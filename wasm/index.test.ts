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

test("views() are re-created after memory grows", async () => {
  const c = await createCore();
  const before = c.views().u8;
  c.exports.alloc(8 << 20);
  const after = c.views().u8;
  expect(after.byteLength).toBeGreaterThan(before.byteLength);
  expect(before.byteLength).toBe(0); // detached by memory.grow
});
