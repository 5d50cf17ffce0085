/**
 * Prometheus durations (`model.Duration` in prometheus/common): `1h30m`, `15s`, `0`.
 *
 * Units, largest first and each at most once: y (365d), w (7d), d, h, m, s, ms; integer
 * amounts only. A bare `0` is accepted. Values are carried as milliseconds.
 *
 * @example
 * parseDuration("1m30s"); // 90_000
 * formatDuration(90_000); // "1m30s"
 */

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ["y", 365 * 24 * 3_600_000],
  ["w", 7 * 24 * 3_600_000],
  ["d", 24 * 3_600_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
  ["ms", 1],
];

const PATTERN = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** The largest duration Go's time.Duration (int64 nanoseconds) can hold, in ms. */
export const MAX_DURATION_MS = Math.floor(Number(2n ** 63n - 1n) / 1e6);

/** Parses a Prometheus duration string into milliseconds; throws SyntaxError or RangeError. */
export function parseDuration(text: string): number {
  if (text === "") throw new SyntaxError("empty duration string");
  if (text === "0") return 0;
  const m = PATTERN.exec(text);
  if (m === null) throw new SyntaxError(`not a valid duration string: "${text}"`);
  let ms = 0;
  for (let i = 0; i < UNITS.length; i++) {
    const amount = m[i + 1];
    if (amount === undefined) continue;
    ms += Number(amount) * UNITS[i]![1];
    if (!Number.isSafeInteger(ms) || ms > MAX_DURATION_MS) {
      throw new RangeError(`duration out of range: "${text}"`);
    }
  }
  return ms;
}

/** Formats milliseconds the way Prometheus prints a duration (`1m30s`, `1w`, `0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const [unit, size] of UNITS) {
    // Years and weeks are only used when they divide the remainder exactly.
    if ((unit === "y" || unit === "w") && rest % size !== 0) continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
