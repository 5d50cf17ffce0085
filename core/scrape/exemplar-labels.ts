/**
 * The label set of an exemplar, from its text `{trace_id="abc",span="x"} 1.5 123.4`
 * (already validated by the parser). Exemplars are rare, so this runs in JS.
 */
export function parseExemplarLabels(text: string): Array<[string, string]> | null {
  const out: Array<[string, string]> = [];
  let i = text.indexOf("{");
  if (i < 0) return null;
  i++;
  const readQuoted = (): string | null => {
    if (text[i] !== '"') return null;
    i++;
    let s = "";
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\" && i + 1 < text.length) {
        const c = text[i + 1]!;
        s += c === "n" ? "\n" : c;
        i += 2;
      } else s += text[i++];
    }
    if (text[i] !== '"') return null;
    i++;
    return s;
  };
  for (;;) {
    while (text[i] === " " || text[i] === ",") i++;
    if (text[i] === "}") return out;
    let name: string | null;
    if (text[i] === '"') name = readQuoted();
    else {
      const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
      name = m ? m[0] : null;
      if (m) i += m[0].length;
    }
    if (name === null || text[i] !== "=") return null;
    i++;
    const value = readQuoted();
    if (value === null) return null;
    out.push([name, value]);
  }
}
