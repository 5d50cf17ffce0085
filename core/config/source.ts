/**
 * A YAML config file turned into plain values that remember where they came from.
 *
 * Scalars become strings (the source text of plain scalars, the value of quoted ones) or
 * null, so that each field decides how to read them the way Go's yaml.v2 does (`yes` is a
 * bool, `123` is also a valid string, `0x10` an int). Every map and list keeps a link to
 * its YAML node, so an error at a path such as `scrape_configs[1].scrape_timeout` can be
 * reported as `file:line:column`, even through anchors, aliases and `<<` merge keys.
 */
import { Alias, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Node } from "yaml";
import { ConfigError, formatPath, type PathSegment } from "./errors.ts";

export type Plain = string | null | PlainMap | PlainList;
export interface PlainMap { [key: string]: Plain }
export type PlainList = Plain[];

interface Located {
  node: Node;
  keys: Map<string | number, Node>;
}

export class ConfigSource {
  readonly root: Plain;
  readonly #lines = new LineCounter();
  readonly #where = new WeakMap<object, Located>();
  readonly #rootNode: Node | null;

  /** `file` is used in messages exactly as given (e.g. the path the user typed). */
  constructor(readonly file: string, readonly text: string) {
    const doc = parseDocument(text, { lineCounter: this.#lines, merge: true, uniqueKeys: true, prettyErrors: false, strict: true });
    const problem = doc.errors[0];
    if (problem !== undefined) {
      const [line, col] = this.#pos(problem.pos[0]);
      const reason = problem.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
      throw new ConfigError(`${file}:${line}:${col}: invalid YAML: ${reason}`, { file, line, column: col, path: "" });
    }
    this.#rootNode = (doc.contents as Node | null) ?? null;
    this.root = this.#rootNode === null ? null : this.#convert(this.#rootNode, doc, 0);
  }

  #pos(offset: number): [number, number] {
    const p = this.#lines.linePos(offset);
    return [p.line, p.col];
  }

  #convert(node: Node, doc: ReturnType<typeof parseDocument>, depth: number): Plain {
    if (depth > 200) throw new ConfigError(`${this.file}: YAML nested too deeply (or alias cycle)`, { file: this.file, line: 0, column: 0, path: "" });
    if (isAlias(node)) {
      const target = (node as Alias).resolve(doc);
      if (target === undefined) return null;
      return this.#convert(target as Node, doc, depth + 1);
    }
    if (isScalar(node)) return scalarText(node);
    if (isSeq(node)) {
      const out: PlainList = [];
      const keys = new Map<string | number, Node>();
      node.items.forEach((item, i) => {
        out.push(this.#convert(item as Node, doc, depth + 1));
        keys.set(i, item as Node);
      });
      this.#where.set(out, { node, keys });
      return out;
    }
    if (isMap(node)) {
      const out: PlainMap = Object.create(null) as PlainMap;
      const keys = new Map<string | number, Node>();
      const merged: Array<[Node, ReturnType<typeof parseDocument>]> = [];
      for (const pair of node.items) {
        const keyNode = pair.key as Node;
        const key = isScalar(keyNode) ? String(scalarText(keyNode) ?? "") : String(keyNode);
        if (key === "<<" && isScalar(keyNode) && keyNode.type === "PLAIN") {
          merged.push([pair.value as Node, doc]);
          continue;
        }
        out[key] = pair.value === null ? null : this.#convert(pair.value as Node, doc, depth + 1);
        keys.set(key, keyNode);
      }
      // `<<: *base` supplies keys the map does not set itself.
      for (const [value] of merged) {
        const sources = isSeq(value) ? value.items : [value];
        for (const source of sources) {
          const plain = this.#convert(source as Node, doc, depth + 1);
          if (plain === null || typeof plain !== "object" || Array.isArray(plain)) continue;
          const loc = this.#where.get(plain);
          for (const [k, v] of Object.entries(plain)) {
            if (k in out) continue;
            out[k] = v;
            const kn = loc?.keys.get(k);
            if (kn !== undefined) keys.set(k, kn);
          }
        }
      }
      this.#where.set(out, { node, keys });
      return out;
    }
    return null;
  }

  /** Line and column (1-based) of the value at `path`, or of the closest thing that exists. */
  locate(path: readonly PathSegment[], prefer: "value" | "key" = "value"): [number, number] {
    let current: Plain = this.root;
    let best: Node | null = this.#rootNode;
    for (let i = 0; i < path.length; i++) {
      if (current === null || typeof current !== "object") break;
      const loc = this.#where.get(current);
      const seg = path[i]!;
      const keyNode = loc?.keys.get(seg);
      if (keyNode === undefined) {
        best = loc?.node ?? best;
        break;
      }
      const isLast = i === path.length - 1;
      const next: Plain | undefined = Array.isArray(current) ? current[seg as number] : (current as PlainMap)[seg as string];
      // Map keys point at their key node; list items and values at the value node.
      best = keyNode;
      if (Array.isArray(current) || !(isLast && prefer === "key")) {
        const valueLoc = next !== null && typeof next === "object" ? this.#where.get(next)?.node : undefined;
        if (Array.isArray(current)) best = keyNode;
        else if (valueLoc !== undefined) best = valueLoc;
        else best = this.#valueNodeOf(loc!, seg) ?? keyNode;
      }
      current = next ?? null;
    }
    const offset = best?.range?.[0] ?? 0;
    return this.#pos(offset);
  }

  #valueNodeOf(loc: Located, seg: string | number): Node | null {
    if (!isMap(loc.node)) return null;
    for (const pair of loc.node.items) {
      if (isScalar(pair.key) && String(scalarText(pair.key as Scalar)) === String(seg)) return (pair.value as Node | null) ?? null;
    }
    return null;
  }

  /** Builds the error for a problem at `path`: `file:line:col: <message>`. */
  error(path: readonly PathSegment[], message: string, prefer: "value" | "key" = "value"): ConfigError {
    const [line, column] = this.locate(path, prefer);
    return new ConfigError(`${this.file}:${line}:${column}: ${message}`, { file: this.file, line, column, path: formatPath(path) });
  }
}

function scalarText(node: Scalar): string | null {
  if (node.type === "PLAIN") {
    const src = node.source;
    if (typeof src !== "string") return node.value === null ? null : String(node.value);
    if (src === "" || src === "~" || src === "null" || src === "Null" || src === "NULL") return null;
    return src;
  }
  return node.value === null || node.value === undefined ? null : String(node.value);
}
