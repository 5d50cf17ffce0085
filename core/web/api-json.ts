/**
 * JSON exactly as Prometheus's API writes it. JSON.stringify cannot write `1.500` or keep a
 * number's Go formatting, so query results are written as text: timestamps as seconds with
 * three decimals only when there are milliseconds, values as Go's `'f'` (switching to `'e'`
 * with a two-digit exponent for vectors and matrices), strings with Go's HTML-safe escapes.
 *
 * @example
 * formatTimestamp(1500);    // "1.500"
 * formatSampleValue(1e-7);  // "1e-07"
 * formatScalarValue(1e-7);  // "0.0000001"
 */
import type { Labels } from "../model/labels.ts";

/** ms → `1435781451.781`, `-1.500`, `1795320600` (Prometheus's marshalTimestamp). */
export function formatTimestamp(ms: number): string {
  let t = ms;
  let sign = "";
  if (t < 0) {
    sign = "-";
    t = -t;
  }
  const whole = Math.floor(t / 1000);
  const frac = t - whole * 1000;
  if (frac === 0) return `${sign}${whole}`;
  return `${sign}${whole}.${String(frac).padStart(3, "0")}`;
}

function special(v: number): string | null {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  return null;
}

/** A vector/matrix value: Go `'f'`, or `'e'` (`1e-07`, `1.5e+21`) when |v| < 1e-6 or |v| ≥ 1e21. */
export function formatSampleValue(v: number): string {
  const s = special(v);
  if (s !== null) return s;
  const text = String(v);
  // JS switches to exponents at the same bounds; only the exponent needs two digits.
  return text.includes("e") ? text.replace(/e([+-])(\d)$/, "e$10$2") : text;
}

/** A scalar value: Go `'f'` with the shortest digits, never an exponent (`0.0000001`). */
export function formatScalarValue(v: number): string {
  const s = special(v);
  if (s !== null) return s;
  const text = String(v);
  if (!text.includes("e")) return text;
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(v.toExponential())!;
  const digits = m[2]! + (m[3] ?? "");
  const exp = Number(m[4]);
  if (exp < 0) return `${m[1]}0.${"0".repeat(-exp - 1)}${digits}`;
  return `${m[1]}${digits.padEnd(exp + 1, "0")}`;
}

/** A JSON string as Go's encoder writes it: `<`, `>`, `&`, U+2028/9 and control bytes as \u00XX. */
export function jsonString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | null = null;
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      if (c === 0x22) esc = '\\"';
      else if (c === 0x5c) esc = "\\\\";
      else if (c === 0x0a) esc = "\\n";
      else if (c === 0x0d) esc = "\\r";
      else if (c === 0x09) esc = "\\t";
      else esc = `\\u${c.toString(16).padStart(4, "0")}`;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate is invalid UTF-8 in Go's eyes: it writes U+FFFD.
      const pair = c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (pair) {
        i++;
        continue;
      }
      esc = "\\ufffd";
    }
    if (esc !== null) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/** A label set as a JSON object, names in sorted order. */
export function labelsJson(labels: Labels): string {
  let out = "{";
  let first = true;
  for (const [name, value] of labels) {
    if (!first) out += ",";
    first = false;
    out += jsonString(name) + ":" + jsonString(value);
  }
  return out + "}";
}

/** Go's encoding of a float64 in plain JSON (stats timings): shortest digits, `e` outside [1e-6, 1e21). */
export function jsonNumber(v: number): string {
  if (!Number.isFinite(v)) return "0";
  return String(v).replace(/e([+-])(\d)$/, "e$1$2");
}
