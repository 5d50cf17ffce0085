/**
 * Go `regexp.Expand` semantics for relabel templates: `$1`, `${1}`, `$name`, `${name}`,
 * `$$` for a literal `$`. A name is the longest run of letters, digits and `_`, so
 * `$1_x` names the group `1_x` (which expands to "") and `${1}_x` is group 1 then `_x`.
 * A `$` not followed by a valid name is kept as text; a missing group expands to "".
 */

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

/** A parsed template: literal text and group references, expanded per match. */
export type Template = ReadonlyArray<string | { group: number } | { name: string }>;

export function parseTemplate(template: string): Template {
  const parts: Array<string | { group: number } | { name: string }> = [];
  let text = "";
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c !== "$") {
      text += c;
      i++;
      continue;
    }
    if (template[i + 1] === "$") {
      text += "$";
      i += 2;
      continue;
    }
    const brace = template[i + 1] === "{";
    let j = i + 1 + (brace ? 1 : 0);
    const start = j;
    while (j < template.length) {
      const cp = template.codePointAt(j)!;
      const ch = String.fromCodePoint(cp);
      if (!NAME_CHAR.test(ch)) break;
      j += ch.length;
    }
    const name = template.slice(start, j);
    if (name === "" || (brace && template[j] !== "}")) {
      text += "$"; // malformed: the $ is plain text
      i++;
      continue;
    }
    if (text !== "") parts.push(text);
    text = "";
    parts.push(groupRef(name));
    i = j + (brace ? 1 : 0);
  }
  if (text !== "") parts.push(text);
  return parts;
}

function groupRef(name: string): { group: number } | { name: string } {
  if (/^\d+$/.test(name) && !(name.length > 1 && name[0] === "0") && name.length <= 8) return { group: Number(name) };
  return { name };
}

/** Whether the template refers to any group (Go's `varInRegexTemplate`). */
export function hasVariables(template: string): boolean {
  return template.includes("$");
}

export interface MatchGroups {
  group(i: number): string | null;
  named(name: string): number | undefined;
  count: number;
}

export function expand(template: Template, m: MatchGroups): string {
  let out = "";
  for (const part of template) {
    if (typeof part === "string") out += part;
    else if ("group" in part) out += part.group <= m.count ? (m.group(part.group) ?? "") : "";
    else {
      const i = m.named(part.name);
      out += i === undefined ? "" : (m.group(i) ?? "");
    }
  }
  return out;
}
