/**
 * A small XML reader for AWS query-protocol answers (EC2, STS): elements, text, the five
 * named entities and numeric references, CDATA, comments and the XML declaration.
 * Attributes are read past and dropped (AWS answers carry only xmlns). Malformed input
 * (a mismatched or unclosed tag, text outside the root) throws a SyntaxError naming the
 * offset, so a broken answer is an error rather than an empty result.
 */

export interface XmlElement {
  name: string;
  children: XmlElement[];
  /** The element's own text (character data directly inside it), entities decoded. */
  text: string;
}

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;

/** The name starting at `at`, or null (sticky, so a large document is not copied per tag). */
function nameAt(src: string, at: number): string | null {
  NAME.lastIndex = at;
  return NAME.exec(src)?.[0] ?? null;
}

function decode(s: string, at: number): string {
  return s.replace(/&([^;&\s]*);?/g, (m, ref: string) => {
    if (!m.endsWith(";")) throw new SyntaxError(`malformed XML at offset ${at}: bare "&"`);
    if (ref.startsWith("#x") || ref.startsWith("#X")) {
      const cp = Number.parseInt(ref.slice(2), 16);
      if (Number.isNaN(cp) || !/^[0-9a-fA-F]+$/.test(ref.slice(2))) throw new SyntaxError(`malformed XML at offset ${at}: bad character reference "${m}"`);
      return String.fromCodePoint(cp);
    }
    if (ref.startsWith("#")) {
      if (!/^\d+$/.test(ref.slice(1))) throw new SyntaxError(`malformed XML at offset ${at}: bad character reference "${m}"`);
      return String.fromCodePoint(Number(ref.slice(1)));
    }
    const e = ENTITIES[ref];
    if (e === undefined) throw new SyntaxError(`malformed XML at offset ${at}: unknown entity "${m}"`);
    return e;
  });
}

/** Parses a document and returns its root element. */
export function parseXml(src: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let i = 0;
  const fail = (why: string): never => {
    throw new SyntaxError(`malformed XML at offset ${i}: ${why}`);
  };
  while (i < src.length) {
    const lt = src.indexOf("<", i);
    const textEnd = lt === -1 ? src.length : lt;
    if (textEnd > i) {
      const text = src.slice(i, textEnd);
      const top = stack[stack.length - 1];
      if (top !== undefined) top.text += decode(text, i);
      else if (text.trim() !== "") fail("text outside the root element");
    }
    if (lt === -1) break;
    i = lt;
    if (src.startsWith("<?", i)) {
      const end = src.indexOf("?>", i);
      if (end === -1) fail("unterminated processing instruction");
      i = end + 2;
    } else if (src.startsWith("<!--", i)) {
      const end = src.indexOf("-->", i);
      if (end === -1) fail("unterminated comment");
      i = end + 3;
    } else if (src.startsWith("<![CDATA[", i)) {
      const end = src.indexOf("]]>", i);
      if (end === -1) fail("unterminated CDATA section");
      const top = stack[stack.length - 1] ?? fail("CDATA outside the root element");
      top.text += src.slice(i + 9, end);
      i = end + 3;
    } else if (src.startsWith("<!", i)) {
      fail("DOCTYPE and other declarations are not accepted");
    } else if (src.startsWith("</", i)) {
      const name = nameAt(src, i + 2) ?? fail("bad closing tag");
      const end = src.indexOf(">", i);
      if (end === -1 || src.slice(i + 2 + name.length, end).trim() !== "") fail(`bad closing tag </${name}`);
      const open = stack.pop();
      if (open === undefined || open.name !== name) fail(`</${name}> does not close <${open?.name ?? "nothing"}>`);
      i = end + 1;
    } else {
      const name = nameAt(src, i + 1) ?? fail("bad tag");
      // Skip attributes, honouring quotes (a ">" may sit inside a value).
      let j = i + 1 + name.length;
      let quote = "";
      for (; j < src.length; j++) {
        const c = src[j]!;
        if (quote !== "") {
          if (c === quote) quote = "";
        } else if (c === '"' || c === "'") quote = c;
        else if (c === ">") break;
      }
      if (j >= src.length) fail(`unterminated tag <${name}`);
      const selfClosing = src[j - 1] === "/";
      const el: XmlElement = { name, children: [], text: "" };
      const parent = stack[stack.length - 1];
      if (parent !== undefined) parent.children.push(el);
      else if (root !== null) fail("a second root element");
      else root = el;
      if (!selfClosing) stack.push(el);
      i = j + 1;
    }
  }
  if (stack.length > 0) throw new SyntaxError(`malformed XML: <${stack[stack.length - 1]!.name}> is not closed`);
  if (root === null) throw new SyntaxError("malformed XML: no root element");
  return root;
}

/** The first child named `name`, if any. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

/** The text of the child at `path`, or undefined when any step is missing. */
export function textAt(el: XmlElement | undefined, ...path: string[]): string | undefined {
  let cur = el;
  for (const p of path) cur = child(cur, p);
  return cur?.text;
}

/** The `<item>` children of the list element `name` (AWS's list encoding). */
export function items(el: XmlElement | undefined, name: string): XmlElement[] {
  return child(el, name)?.children.filter((c) => c.name === "item") ?? [];
}
