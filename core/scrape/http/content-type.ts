/**
 * Parser selection by `Content-Type` (spec §4.4), with Go's `mime.ParseMediaType` rules for
 * what counts as parsable, and Prometheus's messages for what fails the scrape.
 */
import { SCRAPE_PROTOCOL_MEDIA_TYPES } from "../../config/global.ts";
import type { ScrapeProtocol } from "../../config/types.ts";

export type ScrapeFormat = "text" | "openmetrics" | "protobuf";

export type FormatSelection =
  /** `fallback`: why the fallback protocol was used (Prometheus logs it at debug level). */
  | { ok: true; format: ScrapeFormat; mediaType: string; fallback?: string }
  | { ok: false; error: string };

const FORMATS: Record<string, ScrapeFormat> = {
  "text/plain": "text",
  "application/openmetrics-text": "openmetrics",
  "application/vnd.google.protobuf": "protobuf",
};

/**
 * Picks the parser for a response. Only the media type counts; its parameters are ignored.
 * A blank, unparsable or unknown Content-Type uses `fallbackProtocol`'s media type, or fails
 * the scrape when there is none.
 *
 * @example
 * selectFormat("text/plain; version=0.0.4; charset=utf-8") // { ok: true, format: "text", … }
 * selectFormat("", undefined).ok                           // false
 */
export function selectFormat(contentType: string, fallbackProtocol?: ScrapeProtocol): FormatSelection {
  const fallbackType = fallbackProtocol === undefined ? "" : mediaTypeOf(fallbackProtocol);
  const useFallback = (why: string): FormatSelection => ({ ok: true, format: FORMATS[fallbackType]!, mediaType: fallbackType, fallback: why });
  // Go trims header values when it reads them, so blanks arrive as "".
  const value = contentType.trim();
  if (value === "") {
    if (fallbackType === "") return { ok: false, error: "non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target" };
    return useFallback(`non-compliant scrape target sending blank Content-Type, using fallback_scrape_protocol "${fallbackType}"`);
  }
  const parsed = parseMediaType(value);
  if (typeof parsed !== "string") {
    // errors.Join puts each error on its own line.
    if (fallbackType === "") return { ok: false, error: `cannot parse Content-Type "${value}" and no fallback_scrape_protocol for target\n${parsed.error}` };
    return useFallback(`could not parse received Content-Type "${value}", using fallback_scrape_protocol "${fallbackType}"\n${parsed.error}`);
  }
  const format = FORMATS[parsed];
  if (format !== undefined) return { ok: true, format, mediaType: parsed };
  if (fallbackType === "") return { ok: false, error: `received unsupported Content-Type "${value}" and no fallback_scrape_protocol specified for target` };
  return useFallback(`received unsupported Content-Type "${value}", using fallback_scrape_protocol "${fallbackType}"`);
}

function mediaTypeOf(protocol: ScrapeProtocol): string {
  const full = SCRAPE_PROTOCOL_MEDIA_TYPES[protocol];
  if (full === undefined) throw new TypeError(`Cannot select a parser: unknown fallback_scrape_protocol "${protocol}"`);
  return full.split(";")[0]!.toLowerCase();
}

/** RFC 2045 `tspecials`, which end a token. */
const TSPECIALS = new Set('()<>@,;:\\"/[]?=');

function isTokenChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return code > 0x20 && code < 0x7f && !TSPECIALS.has(c);
}

function tokenEnd(s: string, from: number): number {
  let i = from;
  while (i < s.length && isTokenChar(s[i]!)) i++;
  return i;
}

function skipSpace(s: string, from: number): number {
  let i = from;
  while (i < s.length && /\s/.test(s[i]!)) i++;
  return i;
}

/**
 * The lower-cased media type of a Content-Type value, or Go's error text when
 * `mime.ParseMediaType` would reject it (parameters are checked but not returned).
 */
export function parseMediaType(value: string): string | { error: string } {
  const semi = value.indexOf(";");
  const base = (semi < 0 ? value : value.slice(0, semi)).toLowerCase().trim();
  const typeEnd = tokenEnd(base, 0);
  if (typeEnd === 0) return { error: "mime: no media type" };
  if (typeEnd < base.length) {
    if (base[typeEnd] !== "/") return { error: "mime: expected slash after first token" };
    const subEnd = tokenEnd(base, typeEnd + 1);
    if (subEnd === typeEnd + 1) return { error: "mime: expected token after slash" };
    if (subEnd < base.length) return { error: "mime: unexpected content after media subtype" };
  }
  if (semi < 0) return base;

  const seen = new Set<string>();
  let i = semi;
  while (i < value.length) {
    i = skipSpace(value, i);
    if (i >= value.length) break;
    const param = consumeParam(value, i);
    if (param === null) {
      if (value.slice(i).trim() === ";") break; // a trailing semicolon is allowed
      return { error: "mime: invalid media parameter" };
    }
    if (seen.has(param.key)) return { error: "mime: duplicate parameter name" };
    seen.add(param.key);
    i = param.end;
  }
  return base;
}

/** `; key = value` starting at `i`; null when malformed. */
function consumeParam(s: string, start: number): { key: string; end: number } | null {
  if (s[start] !== ";") return null;
  let i = skipSpace(s, start + 1);
  const keyEnd = tokenEnd(s, i);
  if (keyEnd === i) return null;
  const key = s.slice(i, keyEnd).toLowerCase();
  i = skipSpace(s, keyEnd);
  if (s[i] !== "=") return null;
  i = skipSpace(s, i + 1);
  if (s[i] === '"') {
    for (let j = i + 1; j < s.length; j++) {
      const c = s[j]!;
      if (c === '"') return { key, end: j + 1 };
      if (c === "\r" || c === "\n") return null;
      if (c === "\\" && j + 1 < s.length && TSPECIALS.has(s[j + 1]!)) j++;
    }
    return null; // unterminated quoted string
  }
  const valueEnd = tokenEnd(s, i);
  if (valueEnd === i) return null;
  return { key, end: valueEnd };
}
