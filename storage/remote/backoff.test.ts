import { expect, test } from "bun:test";
import { nextSleep, parseRetryAfter } from "./backoff.ts";

const NOW = Date.parse("2026-11-22T10:00:00Z");

test("Retry-After is read as delay-seconds or as an HTTP-date relative to now", () => {
  expect(parseRetryAfter("7", NOW)).toBe(7000);
  expect(parseRetryAfter(" 0 ", NOW)).toBe(0);
  expect(parseRetryAfter("Sun, 22 Nov 2026 10:00:30 GMT", NOW)).toBe(30_000);
  expect(parseRetryAfter("Sun, 22 Nov 2026 09:59:00 GMT", NOW)).toBe(-60_000);
});

test("a missing or unreadable Retry-After leaves the backoff in charge", () => {
  expect(parseRetryAfter(null, NOW)).toBe(0);
  expect(parseRetryAfter("soon", NOW)).toBe(0);
  expect(parseRetryAfter("1.5", NOW)).toBe(0);
  expect(parseRetryAfter("-5", NOW)).toBe(-5000); // negative: ignored by nextSleep
});

test("the backoff doubles from min_backoff up to max_backoff and a positive Retry-After replaces the sleep", () => {
  const sleeps: number[] = [];
  let backoff = 30;
  for (const retryAfter of [0, 0, 0, 2000, 0, 0, -5]) {
    const n = nextSleep(backoff, retryAfter, 5000);
    sleeps.push(n.sleep);
    backoff = n.backoff;
  }
  // After a Retry-After of 2 s the next backoff is 4 s, then capped at 5 s.
  expect(sleeps).toEqual([30, 60, 120, 2000, 4000, 5000, 5000]);
});
