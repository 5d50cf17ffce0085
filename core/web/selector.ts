/**
 * Series selectors as the HTTP API takes them in `match[]`: `up`, `{job="node"}`,
 * `http_requests_total{code=~"5..",method!="GET"}` (a PromQL vector selector without
 * range or offset). Strings take Go's quoting: "…", '…' or `…`.
 */
import type { Matcher, MatchType } from "../../storage/types.ts";
import { RE2JS } from "re2js";
import { checkRegex } from "../config/schema/fields.ts";

export class SelectorError extends SyntaxError {
  override name = "SelectorError";
}

const NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL = /[a-zA-Z_][a-zA-Z0-9_]*/y;

export function parseSelector(text: string): Matcher[] {
  let i = 0;
  const fail = (msg: string): never => {
    throw new SelectorError(`1:${i + 1}: parse error: ${msg}`);
  };
  const space = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const word = (re: RegExp): string | null => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (m === null) return null;
    i = re.lastIndex;
    return m[0];
  };
  const quoted = (): string => {
    const q = text[i];
    if (q !== '"' && q !== "'" && q !== "`") return fail(`unexpected character ${JSON.stringify(text[i] ?? "end of input")}, expected a quoted string`);
    const start = i++;
    let out = "";
    while (i < text.length && text[i] !== q) {
      if (text[i] === "\\" && q !== "`") {
        const c = text[i + 1];
        const esc: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'", a: "\x07", b: "\b", f: "\f", v: "\v" };
        if (c !== undefined && esc[c] !== undefined) {
          out += esc[c];
          i += 2;
          continue;
        }
        if (c === "u" || c === "x" || c === "U") {
          const len = c === "x" ? 2 : c === "u" ? 4 : 8;
          const hex = text.slice(i + 2, i + 2 + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) return fail(`invalid escape sequence in ${text.slice(start, i + 2)}`);
          out += String.fromCodePoint(parseInt(hex, 16));
          i += 2 + len;
          continue;
        }
        return fail(`unknown escape sequence \\${c ?? ""}`);
      }
      out += text[i++];
    }
    if (text[i] !== q) return fail("unterminated quoted string");
    i++;
    return out;
  };

  const matchers: Matcher[] = [];
  space();
  const name = word(NAME);
  if (name !== null) matchers.push({ type: "=", name: "__name__", value: name });
  space();
  if (text[i] === "{") {
    i++;
    for (;;) {
      space();
      if (text[i] === "}") break;
      const label = text[i] === '"' ? quoted() : word(LABEL);
      if (label === null) return fail(`unexpected character ${JSON.stringify(text[i] ?? "end of input")} in label matching, expected a label name`);
      space();
      const op = (["=~", "!~", "!=", "="] as const).find((o) => text.startsWith(o, i));
      if (op === undefined) return fail(`unexpected ${JSON.stringify(text[i] ?? "end of input")} in label matching, expected one of "=", "!=", "=~" or "!~"`);
      i += op.length;
      space();
      const value = quoted();
      if (op === "=~" || op === "!~") {
        const problem = checkRegex(value);
        if (problem !== null) return fail(`invalid regular expression ${JSON.stringify(value)}: ${problem}`);
      }
      matchers.push({ type: op as MatchType, name: label, value });
      space();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] !== "}") return fail(`unexpected ${JSON.stringify(text[i] ?? "end of input")} in label matching, expected "," or "}"`);
    }
    i++;
  }
  space();
  if (i < text.length) return fail(`unexpected ${JSON.stringify(text.slice(i, i + 10))} after the selector`);
  if (matchers.length === 0) return fail("vector selector must contain at least one non-empty matcher");
  const empty = (m: Matcher) => (m.type === "=" ? m.value === "" : m.type === "!=" ? m.value !== "" : m.type === "=~" ? checkMatchesEmpty(m.value) : !checkMatchesEmpty(m.value));
  if (matchers.every(empty)) return fail("vector selector must contain at least one non-empty matcher");
  return matchers;
}

function checkMatchesEmpty(pattern: string): boolean {
  return RE2JS.compile(`^(?s:${pattern})$`).matches("");
}
