import { describe, expect, test } from "bun:test";
import { formatDuration, parseDuration } from "./duration.ts";

describe("parseDuration()", () => {
  test("reads every unit, largest first, as milliseconds", () => {
    expect(parseDuration("1y")).toBe(365 * 86_400_000);
    expect(parseDuration("2w")).toBe(14 * 86_400_000);
    expect(parseDuration("1d")).toBe(86_400_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("15s")).toBe(15_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("1h2m3s4ms")).toBe(3_723_004);
  });

  test("accepts a bare 0 and 0 with a unit", () => {
    expect(parseDuration("0")).toBe(0);
    expect(parseDuration("0s")).toBe(0);
  });

  test("rejects units out of order, decimals, signs, spaces and unknown units", () => {
    for (const bad of ["30s1m", "1.5h", "-1s", " 1s", "1s ", "10", "1x", "1H", "1m1m", "s", "1us"]) {
      expect(() => parseDuration(bad), bad).toThrow(SyntaxError);
    }
  });

  test("rejects the empty string with its own message", () => {
    expect(() => parseDuration("")).toThrow("empty duration string");
  });

  test("rejects durations that overflow Go's int64 nanoseconds", () => {
    expect(() => parseDuration("300y")).toThrow(RangeError);
    expect(parseDuration("292y")).toBe(292 * 365 * 86_400_000);
  });
});

describe("formatDuration()", () => {
  test("prints Prometheus's canonical form", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(90_000)).toBe("1m30s");
    expect(formatDuration(7 * 86_400_000)).toBe("1w");
    expect(formatDuration(8 * 86_400_000)).toBe("8d");
    expect(formatDuration(365 * 86_400_000)).toBe("1y");
    expect(formatDuration(1_500)).toBe("1s500ms");
  });

  test("round-trips through parseDuration()", () => {
    for (const ms of [1, 999, 60_000, 3_723_004, 86_400_000 * 9, 365 * 86_400_000 + 1]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
