/**
 * Calendar fields of a Unix time in seconds as Go's time package computes them for
 * Prometheus's date functions (`time.Unix(int64(v), 0).UTC()`), including its edges:
 * a value that does not convert to int64 (NaN, ±Inf, |v| ≥ 2^63) becomes the minimum
 * int64, as on amd64, and Go's unsigned "absolute" day arithmetic wraps for it.
 */

export interface GoDate {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  /** 1-366 */
  yearDay: number;
  hour: number;
  minute: number;
  /** 0 = Sunday */
  weekday: number;
  daysInMonth: number;
}

const TWO_63 = 9223372036854775808;
const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

function daysIn(month: number, year: number): number {
  if (month === 2 && isLeap(year)) return 29;
  return DAYS_BEFORE[month]! - DAYS_BEFORE[month - 1]!;
}

/** Fields from JavaScript's Date: the same proleptic Gregorian calendar, for |sec| < 8.64e12. */
function fromDate(sec: number): GoDate {
  const d = new Date(sec * 1000);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  const start = Date.UTC(year, 0, 1);
  const utcYear = new Date(start);
  utcYear.setUTCFullYear(year);
  return {
    year,
    month,
    day: d.getUTCDate(),
    yearDay: Math.floor((d.getTime() - utcYear.getTime()) / 86_400_000) + 1,
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    weekday: d.getUTCDay(),
    daysInMonth: daysIn(month, year),
  };
}

// Go's constants: seconds from year 1 to 1970, and from the absolute zero year to year 1.
const UNIX_TO_INTERNAL = 62135596800n;
const INTERNAL_TO_ABSOLUTE = 9223371966579724800n;
const ABSOLUTE_ZERO_YEAR = -292277022399n;
const U64 = 1n << 64n;

/** Go's absDate / clock / weekday on the uint64 absolute time (for times JS's Date cannot hold). */
function fromAbsolute(sec: bigint): GoDate {
  const abs = (((sec + UNIX_TO_INTERNAL + INTERNAL_TO_ABSOLUTE) % U64) + U64) % U64;
  let d = abs / 86400n;
  let n = d / 146097n;
  let y = 400n * n;
  d -= 146097n * n;
  n = d / 36524n;
  n -= n >> 2n;
  y += 100n * n;
  d -= 36524n * n;
  n = d / 1461n;
  y += 4n * n;
  d -= 1461n * n;
  n = d / 365n;
  n -= n >> 2n;
  y += n;
  d -= 365n * n;
  const year = Number(y + ABSOLUTE_ZERO_YEAR);
  const yday = Number(d);
  let day = yday;
  let month: number;
  if (isLeap(year) && day === 31 + 29 - 1) {
    month = 2;
    day = 29;
  } else {
    if (isLeap(year) && day > 31 + 29 - 1) day--;
    month = Math.floor(day / 31);
    const end = DAYS_BEFORE[month + 1]!;
    let begin: number;
    if (day >= end) {
      month++;
      begin = end;
    } else begin = DAYS_BEFORE[month]!;
    month++;
    day = day - begin + 1;
  }
  const secOfDay = Number(abs % 86400n);
  return {
    year,
    month,
    day,
    yearDay: yday + 1,
    hour: Math.floor(secOfDay / 3600),
    minute: Math.floor((secOfDay % 3600) / 60),
    weekday: Math.floor(Number((abs + 86400n) % 604800n) / 86400),
    daysInMonth: daysIn(month, year),
  };
}

/** The calendar fields Go gives `time.Unix(int64(v), 0).UTC()`. */
export function goDate(v: number): GoDate {
  if (Number.isNaN(v) || v >= TWO_63 || v < -TWO_63) return fromAbsolute(-(1n << 63n));
  const sec = Math.trunc(v);
  if (Math.abs(sec) < 8.64e12) return fromDate(sec);
  return fromAbsolute(BigInt(sec));
}
