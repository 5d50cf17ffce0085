import { expect, test } from "bun:test";
import { formatBytes, parseBytes } from "./bytes.ts";

test("KB and KiB both mean 1024 bytes, and so on up the scale", () => {
  expect(parseBytes("1KB")).toBe(1024);
  expect(parseBytes("1KiB")).toBe(1024);
  expect(parseBytes("10MB")).toBe(10 * 1024 ** 2);
  expect(parseBytes("2GiB")).toBe(2 * 1024 ** 3);
  expect(parseBytes("1TB")).toBe(1024 ** 4);
  expect(parseBytes("512B")).toBe(512);
});

test("sequences and decimals are accepted as alecthomas/units does", () => {
  expect(parseBytes("1GB512MB")).toBe(1024 ** 3 + 512 * 1024 ** 2);
  expect(parseBytes("1.5KB")).toBe(1536);
  expect(parseBytes("0")).toBe(0);
});

test("the SI spelling kB, a bare number and junk are rejected", () => {
  for (const bad of ["1kB", "1024", "", "MB", "1 MB", "1XB", ".MB"]) {
    expect(() => parseBytes(bad), bad).toThrow();
  }
});

test("a bare number names the missing unit in its error", () => {
  expect(() => parseBytes("1024")).toThrow(/has no unit/);
});

test("formatBytes() prints the base-2 form", () => {
  expect(formatBytes(0)).toBe("0B");
  expect(formatBytes(1536)).toBe("1KiB512B");
  expect(formatBytes(10 * 1024 ** 2)).toBe("10MiB");
});
