/**
 * The series table's `labels` column: names and values in Labels order, separated by NUL,
 * the same text as `Labels.key` whenever no name or value holds U+0000 or U+0001 (which
 * are escaped as U+0001 U+0003 and U+0001 U+0002 so any label set round-trips).
 */
import { Labels } from "../../../core/model/labels.ts";

const SPECIAL = /[\u0000\u0001]/;

export function encodeLabels(labels: Labels): string {
  const key = labels.key;
  if (!SPECIAL.test(key)) return key;
  const parts: string[] = [];
  for (const [n, v] of labels) parts.push(escape(n), escape(v));
  return parts.join("\u0000");
}

export function decodeLabels(text: string): Labels {
  if (text === "") return Labels.EMPTY;
  const parts = text.split("\u0000");
  const entries: Array<[string, string]> = [];
  for (let i = 0; i + 1 < parts.length; i += 2) entries.push([unescape(parts[i]!), unescape(parts[i + 1]!)]);
  return Labels.from(entries);
}

const escape = (s: string) => (SPECIAL.test(s) ? s.replaceAll("\u0001", "\u0001\u0002").replaceAll("\u0000", "\u0001\u0003") : s);
const unescape = (s: string) => (s.includes("\u0001") ? s.replace(/\u0001([\u0002\u0003])/g, (_, c: string) => (c === "\u0002" ? "\u0001" : "\u0000")) : s);
