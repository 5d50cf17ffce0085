/**
 * Base-2 byte sizes as Prometheus reads them (`units.Base2Bytes` from alecthomas/units):
 * `KB` and `KiB` both mean 1024, `MB`/`MiB` 1024², up to `EB`/`EiB`; `B` is one byte.
 * A sequence such as `1GB512MB` and decimals such as `1.5MB` are accepted; the SI
 * spelling `kB` is rejected; a bare number other than `0` has no unit and is rejected.
 *
 * @example
 * parseBytes("10MB"); // 10_485_760
 */

const PREFIXES = ["", "K", "M", "G", "T", "P", "E"] as const;

function unitTable(suffix: string): Map<string, number> {
  const table = new Map<string, number>([["B", 1]]);
  PREFIXES.forEach((p, i) => {
    if (i > 0) table.set(p + suffix, 1024 ** i);
  });
  return table;
}

const IEC = unitTable("iB");
const LEGACY = unitTable("B");
const TWO_63 = 2 ** 63;

function parseWith(text: string, units: Map<string, number>): number {
  let s = text;
  let negative = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    negative = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw new SyntaxError(`invalid size "${text}"`);
  let total = 0;
  const element = /^(\d*)(?:\.(\d*))?([^.\d]*)/;
  while (s !== "") {
    const m = element.exec(s);
    const whole = m?.[1] ?? "";
    const frac = m?.[2];
    if (m === null || (whole === "" && (frac === undefined || frac === ""))) {
      throw new SyntaxError(`invalid size "${text}"`);
    }
    const unit = m[3] ?? "";
    const factor = units.get(unit);
    if (factor === undefined) {
      throw new SyntaxError(
        unit === "" ? `size "${text}" has no unit (use B, KB, MB, GB, ... or KiB, MiB, ...)` : `unknown unit "${unit}" in size "${text}"`,
      );
    }
    const amount = Number(whole === "" ? "0" : whole) + (frac ? Number(frac) / 10 ** frac.length : 0);
    total += amount * factor;
    s = s.slice(m[0].length);
  }
  if (negative) total = -total;
  if (total < -TWO_63 || total >= TWO_63) throw new RangeError(`size "${text}" overflows`);
  return Math.trunc(total);
}

/** Parses a base-2 size string into bytes; throws SyntaxError or RangeError. */
export function parseBytes(text: string): number {
  try {
    return parseWith(text, IEC);
  } catch {
    return parseWith(text, LEGACY);
  }
}

/** Formats bytes the way alecthomas/units prints Base2Bytes (`1KiB512B`, `0B`). */
export function formatBytes(n: number): string {
  if (n === 0) return "0B";
  const parts: string[] = [];
  let rest = n;
  for (let i = 0; i < PREFIXES.length && rest !== 0; i++) {
    const r = rest % 1024;
    if (r !== 0) parts.unshift(`${r}${PREFIXES[i]}${i === 0 ? "B" : "iB"}`);
    rest = Math.trunc(rest / 1024);
  }
  return parts.join("");
}
