/**
 * Retry timing for remote write (spec §6.2 "Backoff"): the first sleep is `min_backoff`, a
 * positive `Retry-After` replaces the sleep, and the next backoff is min(2 × the last sleep,
 * `max_backoff`). Retries never stop on their own.
 */

/**
 * Milliseconds a `Retry-After` header asks for: delay-seconds or an HTTP-date (relative to
 * `now`). 0 when absent or unparseable (the backoff applies); may be negative for a past date.
 */
export function parseRetryAfter(header: string | null, now: number): number {
  if (header === null) return 0;
  const s = header.trim();
  if (/^-?\d+$/.test(s)) return Number(s) * 1000;
  // An HTTP-date (IMF-fixdate, RFC 850 or asctime) always names a weekday or month.
  if (!/[A-Za-z]{3}/.test(s)) return 0;
  const date = Date.parse(s);
  if (Number.isNaN(date)) return 0;
  return date - now;
}

/** The sleep before the next attempt and the backoff after it. */
export function nextSleep(backoff: number, retryAfterMs: number, maxBackoff: number): { sleep: number; backoff: number } {
  const sleep = retryAfterMs > 0 ? retryAfterMs : backoff;
  return { sleep, backoff: Math.min(sleep * 2, maxBackoff) };
}
