/**
 * Go's `strings.ToLower` / `strings.ToUpper`: per code point, the simple Unicode case
 * mapping. JavaScript's toLowerCase/toUpperCase use the full mapping (İ → i̇, ß → SS) and
 * a context-sensitive final sigma; those differences would change label values.
 */

const ASCII = /^[\x00-\x7f]*$/;

function mapEach(s: string, full: (c: string) => string, special: Record<string, string>): string {
  let out = "";
  for (const ch of s) {
    const sp = special[ch];
    if (sp !== undefined) {
      out += sp;
      continue;
    }
    const mapped = full(ch);
    // A single code point is the simple mapping; a longer result has no simple mapping.
    out += [...mapped].length === 1 ? mapped : ch;
  }
  return out;
}

const LOWER_SPECIAL: Record<string, string> = { "\u0130": "i" };
const UPPER_SPECIAL: Record<string, string> = {};

export function goToLower(s: string): string {
  if (ASCII.test(s)) return s.toLowerCase();
  return mapEach(s, (c) => c.toLowerCase(), LOWER_SPECIAL);
}

export function goToUpper(s: string): string {
  if (ASCII.test(s)) return s.toUpperCase();
  return mapEach(s, (c) => c.toUpperCase(), UPPER_SPECIAL);
}
