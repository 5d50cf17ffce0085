/**
 * parseQuery: PromQL text → checked AST. The syntax comes from the Prometheus project's
 * own lezer grammar (@prometheus-io/lezer-promql 0.42.0, matching Prometheus 2.42); the
 * conversion, the fixes for the grammar's gaps (`-2 ^ 2`, `0X1F`) and the type checks
 * (ported from the rules of Prometheus's checkAST) are ours, with Prometheus's messages.
 */
import { parser } from "@prometheus-io/lezer-promql";
import type { SyntaxNode } from "@lezer/common";
import { RE2JS } from "re2js";
import type { Matcher, MatchType } from "../../storage/types.ts";
import type { AggregateOp, AtModifier, BinaryOp, Expr, VectorMatching, VectorSelector } from "./ast.ts";
import { checkExpr } from "./check.ts";
import { goFloat, parseDuration, parseNumber, unquote } from "./lexical.ts";
import { QueryError } from "./values.ts";
import { lineCol, offsetSet, opPositions, ParseFailure, positions } from "./positions.ts";

function fail(pos: number, message: string): never {
  throw new ParseFailure(pos, message);
}

/** Parses and type-checks; throws QueryError("bad_data", "1:5: parse error: ...") (Prometheus wording). */
export function parseQuery(input: string): Expr {
  try {
    const expr = new Converter(input).run();
    checkExpr(expr);
    return expr;
  } catch (err) {
    if (err instanceof ParseFailure) throw new QueryError("bad_data", `${lineCol(input, err.pos)}: parse error: ${err.message}`);
    throw err;
  }
}

/** Lezer 0.42's lexer misses uppercase hex (`0X1F`); lowercase the X outside strings and comments (same length). */
function fixHexPrefix(input: string): string {
  if (!/0X/.test(input)) return input;
  const out = input.split("");
  let q: string | null = null;
  for (let i = 0; i < out.length; i++) {
    const c = out[i]!;
    if (q !== null) {
      if (c === "\\" && q !== "`") i++;
      else if (c === q) q = null;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") q = c;
    else if (c === "#") {
      while (i < out.length && out[i] !== "\n") i++;
    } else if (c === "0" && out[i + 1] === "X" && /[0-9a-fA-F]/.test(out[i + 2] ?? "") && !/[\w.]/.test(out[i - 1] ?? "")) out[i + 1] = "x";
  }
  return out.join("");
}

const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless", "atan2"]);

const MATCH_OPS: Record<string, MatchType> = { EqlSingle: "=", Neq: "!=", EqlRegex: "=~", NeqRegex: "!~" };
const BINARY_OPS: Record<string, BinaryOp> = {
  Add: "+", Sub: "-", Mul: "*", Div: "/", Mod: "%", Pow: "^", Atan2: "atan2",
  Eql: "==", Neq: "!=", Gtr: ">", Lss: "<", Gte: ">=", Lte: "<=", And: "and", Or: "or", Unless: "unless",
};

/**
 * The grammar gives offset, `@`, ranges and subqueries the lowest precedence (`a or b offset 5m`
 * wraps the whole `or`); Prometheus binds them tightest. Apply the postfix to the rightmost operand.
 */
function postfix(e: Expr, apply: (e: Expr) => Expr): Expr {
  if (e.kind === "binary") {
    e.rhs = postfix(e.rhs, apply);
    reassociated.add(e);
    return e;
  }
  if (e.kind === "unary") {
    e.expr = postfix(e.expr, apply);
    reassociated.add(e);
    return e;
  }
  return apply(e);
}

/** Binary and unary nodes whose rightmost operand took a postfix: the grammar grouped them too early. */
const reassociated = new WeakSet<object>();

const PRECEDENCE: Record<BinaryOp, number> = {
  or: 1, and: 2, unless: 2, "==": 3, "!=": 3, ">": 3, "<": 3, ">=": 3, "<=": 3, "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, atan2: 5, "^": 6,
};

/**
 * Builds `lhs op rhs`. When lhs came out of a postfix fix-up (`a + b @ 1 * 2` arrives as
 * `(a + b @ 1) * 2`), the operator that binds tighter moves down to lhs's right operand.
 */
function makeBinary(lhs: Expr, node: Extract<Expr, { kind: "binary" }>): Expr {
  if (lhs.kind === "binary" && reassociated.has(lhs)) {
    const pl = PRECEDENCE[lhs.op];
    const po = PRECEDENCE[node.op];
    if (pl < po || (pl === po && node.op === "^")) {
      node.lhs = lhs.rhs;
      lhs.rhs = makeBinary(lhs.rhs, node);
      return lhs;
    }
  }
  if (lhs.kind === "unary" && reassociated.has(lhs) && node.op === "^") {
    node.lhs = lhs.expr;
    lhs.expr = makeBinary(lhs.expr, node);
    return lhs;
  }
  node.lhs = lhs;
  return node;
}

class Converter {
  readonly src: string;
  constructor(readonly input: string) {
    this.src = fixHexPrefix(input);
  }

  text(n: SyntaxNode): string {
    return this.src.slice(n.from, n.to);
  }

  run(): Expr {
    if (this.src.trim() === "" || /^\s*(#[^\n]*\n?\s*)*$/.test(this.src)) fail(0, "no expression found in input");
    const tree = parser.parse(this.src);
    let bad: SyntaxNode | null = null;
    tree.iterate({
      enter: (n) => {
        if (bad === null && n.type.isError) bad = n.node;
        return bad === null;
      },
    });
    if (bad !== null) this.syntaxError(bad);
    const kids = this.children(tree.topNode);
    if (kids.length !== 1) fail(kids[1]?.from ?? 0, "unexpected expression");
    return this.expr(kids[0]!);
  }

  /** A message for the first error node, close to Prometheus's wording where we can tell. */
  syntaxError(n: SyntaxNode): never {
    // Unbalanced parentheses first: they are Prometheus's most common complaint.
    let depth = 0;
    let q: string | null = null;
    let qStart = 0;
    for (let i = 0; i < this.src.length; i++) {
      const c = this.src[i]!;
      if (q !== null) {
        if (c === "\\" && q !== "`") i++;
        else if (c === q) q = null;
        continue;
      }
      if (c === '"' || c === "'" || c === "`") {
        q = c;
        qStart = i;
      } else if (c === "#") while (i < this.src.length && this.src[i] !== "\n") i++;
      else if (c === "(") depth++;
      else if (c === ")") {
        depth--;
        if (depth < 0) fail(i + 1, "unexpected right parenthesis ')'");
      }
    }
    if (q !== null && qStart <= n.from) fail(qStart, q === "`" ? "unterminated raw string" : "unterminated quoted string");
    if (depth > 0 && this.src.slice(n.from).trim() === "") fail(this.src.length, "unclosed left parenthesis");
    const braceOpen = this.src.lastIndexOf("{");
    if (braceOpen >= 0 && this.src.indexOf("}", braceOpen) < 0 && this.src.slice(n.from).trim() === "") fail(this.src.length, "unexpected end of input inside braces");
    const at = n.from;
    const prev = n.prevSibling;
    // `foo(bar)` with an unknown function name.
    if (this.src[at] === "(" && prev !== null && prev.name === "Identifier") fail(prev.from, `unknown function with name ${JSON.stringify(this.text(prev))}`);
    if (n.parent?.name === "VectorSelector" && this.src[at] === "(") {
      const id = n.parent.getChild("Identifier");
      if (id !== null) fail(id.from, `unknown function with name ${JSON.stringify(this.text(id))}`);
    }
    const rest = this.src.slice(at).trimStart();
    const start = at + (this.src.slice(at).length - rest.length);
    const before = this.src.slice(0, start).trimEnd();
    // A trailing comma in an argument list: `sum(foo,)`.
    if (before.endsWith(",") && rest.startsWith(")")) fail(before.length - 1, "trailing commas not allowed in function call args");
    // A range whose duration is not one: `foo[5]`, `foo[1.5m]`.
    const range = /([[:])\s*([0-9][\w.]*)\s*[\]:]?$/.exec(this.src.slice(0, start + (/^[\w.]+/.exec(rest)?.[0].length ?? 0)));
    if (range !== null && parseDuration(range[2]!) === null) {
      const pos = range.index + range[0].indexOf(range[2]!);
      const bare = /^\d+$/.test(range[2]!);
      if (range[1] === "[" && bare) fail(pos, "missing unit character in duration");
      if (!bare) fail(pos, `not a valid duration string: ${JSON.stringify(range[2])}`);
    }
    const context = /\boffset$/i.test(before)
      ? " in offset, expected duration"
      : /@$/.test(before) || /@\s*(start|end)\s*\($/.test(before)
        ? " in @, expected timestamp"
        : /\[[^\]]*:$/.test(before)
          ? ' in subquery selector, expected duration or "]"'
          : /\b(by|without)$/i.test(before)
            ? ' in grouping opts, expected "("'
            : "";
    if (rest === "") fail(this.src.length, `unexpected end of input${context}`);
    const word = /^[a-zA-Z_][\w]*/.exec(rest)?.[0];
    if (word !== undefined && KEYWORDS.has(word.toLowerCase())) fail(start, `unexpected <${word.toLowerCase()}>${context}`);
    if (word !== undefined) fail(start, `unexpected identifier ${JSON.stringify(/^[a-zA-Z_:][\w:]*/.exec(rest)![0])}${context}`);
    const num = /^[0-9.][\w.]*/.exec(rest)?.[0];
    if (num !== undefined) fail(start, `unexpected number ${JSON.stringify(num)}${context}`);
    const str = /^("[^"]*"|'[^']*'|`[^`]*`)/.exec(rest)?.[0];
    if (str !== undefined) fail(start, `unexpected string ${JSON.stringify(str)}${context}`);
    const inBraces = before.lastIndexOf("{") > before.lastIndexOf("}");
    if (rest[0] === ":") fail(start, "unexpected colon ':'");
    if (rest[0] === ",") fail(start, "unexpected \",\"");
    if (rest[0] === "{") fail(start, "unexpected left brace '{'");
    if (rest[0] === "]" && !inBraces) fail(start, "unexpected right bracket ']'");
    // Prometheus 2.42 prints its @ token this way (an unnamed item type).
    if (rest[0] === "@" && !inBraces) fail(start, 'unexpected "<Item 57385>" <op:@>');
    if (inBraces && rest[0] === "[") fail(start, "unexpected character inside braces: '['");
    if (rest[0] === "[" || rest[0] === "(") fail(start, `unexpected "${rest[0]}"${/^(sum|avg|count|min|max|stddev|stdvar|group|topk|bottomk|quantile|count_values)\b/i.test(before.replace(/^.*?([a-z_]+)\s*(by|without)?\s*(\([^)]*\))?\s*$/is, "$1")) ? " in aggregation" : ""}`);
    if (rest.startsWith("=~") || rest.startsWith("!~")) fail(start, `unexpected character after '${rest[0]}': '~'`);
    fail(start, `unexpected character${inBraces ? " inside braces" : ""}: '${rest[0]}'`);
  }

  children(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c !== null; c = c.nextSibling) if (c.name !== "LineComment") out.push(c);
    return out;
  }

  at<T extends Expr>(n: SyntaxNode, e: T): T {
    positions.set(e, { from: n.from, to: n.to });
    return e;
  }

  /** A postfix node's range: from its operand (which the grammar may have grouped too widely) to the postfix's end. */
  atFrom<T extends Expr>(operand: Expr, n: SyntaxNode, e: T): T {
    positions.set(e, { from: positions.get(operand)?.from ?? n.from, to: n.to });
    return e;
  }

  expr(n: SyntaxNode): Expr {
    switch (n.name) {
      case "NumberLiteral":
        return this.at(n, { kind: "number", value: this.number(n) });
      case "StringLiteral":
        return this.at(n, { kind: "string", value: this.string(n) });
      case "VectorSelector":
        return this.at(n, this.vectorSelector(n));
      case "MatrixSelector":
        return this.matrixSelector(n);
      case "SubqueryExpr": {
        const kids = this.children(n);
        const durs = kids.filter((k) => k.name === "Duration");
        const inner = this.expr(kids[0]!);
        const rangeMs = this.duration(durs[0]!, true);
        const stepMs = durs[1] ? this.duration(durs[1], true) : 0;
        return postfix(inner, (e) => this.atFrom(e, n, { kind: "subquery", expr: e, rangeMs, stepMs, offsetMs: 0, at: null }));
      }
      case "OffsetExpr":
        return this.offset(n);
      case "StepInvariantExpr":
        return this.atModifier(n);
      case "ParenExpr":
        return this.at(n, { kind: "paren", expr: this.expr(this.children(n)[0]!) });
      case "UnaryExpr": {
        const kids = this.children(n);
        const op = this.text(kids[0]!).trim() as "-" | "+";
        const inner = this.expr(kids[1]!);
        // Prometheus folds a sign into a number literal: `- - 1` is the literal 1.
        if (inner.kind === "number") return this.at(n, { kind: "number", value: op === "-" ? -inner.value : inner.value });
        return this.at(n, { kind: "unary", op, expr: inner });
      }
      case "FunctionCall": {
        const kids = this.children(n);
        const name = this.text(kids[0]!);
        const body = kids[1]!;
        return this.at(n, { kind: "call", name, args: this.children(body).map((a) => this.expr(a)) });
      }
      case "AggregateExpr":
        return this.aggregate(n);
      case "BinaryExpr":
        return this.binary(n);
      default:
        fail(n.from, `unexpected ${n.name}`);
    }
  }

  number(n: SyntaxNode): number {
    const raw = this.text(n);
    const m = /^([+-]?)\s*(.*)$/s.exec(raw)!;
    const v = parseNumber(m[2]!);
    if (v === null) fail(n.from, `bad number or duration syntax: ${JSON.stringify(raw)}`);
    return m[1] === "-" ? -v : v;
  }

  string(n: SyntaxNode): string {
    try {
      return unquote(this.text(n));
    } catch (err) {
      fail(n.from, (err as Error).message);
    }
  }

  duration(n: SyntaxNode, positive: boolean): number {
    const d = parseDuration(this.text(n));
    if (d === null) fail(n.from, `bad duration syntax: ${JSON.stringify(this.text(n))}`);
    if (positive && d === 0) fail(n.from, "duration must be greater than 0");
    // Prometheus keeps durations as int64 nanoseconds.
    if (d > 9_223_372_036_854.775) fail(n.from, "duration out of range");
    return d;
  }

  vectorSelector(n: SyntaxNode): VectorSelector {
    const id = n.getChild("Identifier");
    const name = id ? this.text(id) : "";
    // Prometheus lexes atan2 as an operator everywhere; the grammar lets it be a metric name.
    if (name.toLowerCase() === "atan2") fail(n.from, "unexpected <op:atan2>");
    const matchers: Matcher[] = [];
    const lms = n.getChild("LabelMatchers");
    if (lms !== null) {
      for (const lm of lms.getChildren("LabelMatcher")) {
        const ln = lm.getChild("LabelName")!;
        const op = lm.getChild("MatchOp")!.firstChild!;
        const value = this.string(lm.getChild("StringLiteral")!);
        const type = MATCH_OPS[op.name]!;
        if (type === "=~" || type === "!~") {
          try {
            RE2JS.compile(`^(?:${value})$`);
          } catch (err) {
            fail(lm.from, (err as Error).message);
          }
        }
        matchers.push({ type, name: this.text(ln), value });
      }
    }
    if (name !== "") matchers.push({ type: "=", name: "__name__", value: name });
    return { kind: "vector", name, matchers, offsetMs: 0, at: null };
  }

  matrixSelector(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const inner = kids[0]!;
    const innerExpr = this.expr(inner);
    const range = this.duration(kids.find((k) => k.name === "Duration")!, true);
    const bracket = this.src.indexOf("[", inner.to);
    return postfix(innerExpr, (e) => {
      if (e.kind !== "vector") fail(bracket, "ranges only allowed for vector selectors");
      if (offsetSet.has(e)) fail(bracket, "no offset modifiers allowed before range");
      if (e.at !== null && e.at.kind === "time") fail(bracket, "no @ modifiers allowed before range");
      return this.atFrom(e, n, { kind: "matrix", vector: e, rangeMs: range });
    });
  }

  /** The node that takes offset/@: a vector selector, the vector of a matrix selector, or a subquery. */
  modifiable(e: Expr, pos: number, what: "offset" | "@"): VectorSelector | Extract<Expr, { kind: "subquery" }> {
    if (e.kind === "vector" || e.kind === "subquery") return e;
    if (e.kind === "matrix") return e.vector;
    fail(pos, `${what} modifier must be preceded by an instant vector selector or range vector selector or a subquery`);
  }

  offset(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const neg = kids.some((k) => k.name === "Sub");
    const inner = this.expr(kids[0]!);
    const d = this.duration(kids.find((k) => k.name === "Duration")!, true);
    return postfix(inner, (e) => this.setOffset(n, e, neg ? -d : d));
  }

  setOffset(n: SyntaxNode, e: Expr, ms: number): Expr {
    const target = this.modifiable(e, n.from, "offset");
    if (offsetSet.has(target)) fail(n.from, "offset may not be set multiple times");
    target.offsetMs = ms;
    offsetSet.add(target);
    return e;
  }

  atModifier(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const arg = kids[kids.length - 1]!;
    let at: AtModifier;
    if (arg.name === "AtModifierPreprocessors") {
      at = arg.firstChild!.name === "Start" ? { kind: "start" } : { kind: "end" };
    } else {
      const secs = this.number(arg);
      if (!Number.isFinite(secs) || Math.abs(secs * 1000) > 9.2e18) fail(n.from, `timestamp out of bounds for @ modifier: ${goFloat(secs)}`);
      at = { kind: "time", ms: Math.round(secs * 1000) };
    }
    return postfix(this.expr(kids[0]!), (e) => {
      const target = this.modifiable(e, n.from, "@");
      if (target.at !== null) fail(n.from, "@ <timestamp> may not be set multiple times");
      target.at = at;
      return e;
    });
  }

  aggregate(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const op = this.text(kids[0]!).toLowerCase() as AggregateOp;
    const body = kids.find((k) => k.name === "FunctionCallBody")!;
    const mod = kids.find((k) => k.name === "AggregateModifier");
    const args = this.children(body).map((a) => this.expr(a));
    const needsParam = op === "topk" || op === "bottomk" || op === "quantile" || op === "count_values";
    if (args.length === 0) fail(n.from, "no arguments for aggregate expression provided");
    const want = needsParam ? 2 : 1;
    if (args.length !== want) fail(n.from, `wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`);
    let grouping: string[] = [];
    let without = false;
    if (mod !== undefined) {
      without = mod.firstChild!.name === "Without";
      const gl = mod.getChild("GroupingLabels");
      grouping = gl ? gl.getChildren("LabelName").map((l) => this.text(l)) : [];
    }
    return this.at(n, { kind: "aggregate", op, expr: needsParam ? args[1]! : args[0]!, param: needsParam ? args[0]! : null, grouping, without });
  }

  binary(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const lhsNode = kids[0]!;
    const rhsNode = kids[kids.length - 1]!;
    const opNode = kids[1]!;
    const op = BINARY_OPS[opNode.name]!;
    const returnBool = kids.some((k) => k.name === "BoolModifier");
    const mm = kids.find((k) => k.name === "MatchingModifierClause");
    let matching: VectorMatching | null = null;
    if (mm !== undefined) {
      const mk = this.children(mm);
      const on = mk[0]!.name === "On";
      const groups = mm.getChildren("GroupingLabels").map((g) => g.getChildren("LabelName").map((l) => this.text(l)));
      const groupNode = mk.find((k) => k.name === "GroupLeft" || k.name === "GroupRight");
      matching = {
        card: groupNode === undefined ? "one-to-one" : groupNode.name === "GroupLeft" ? "many-to-one" : "one-to-many",
        on,
        labels: groups[0] ?? [],
        include: groups[1] ?? [],
      };
    }
    const lhsFirst = op === "^" && lhsNode.name === "NumberLiteral" && /^[+-]/.test(this.text(lhsNode)) ? null : this.expr(lhsNode);
    const rhs = this.expr(rhsNode);
    // Prometheus lexes `-2 ^ 2` as -(2 ^ 2): the grammar folds the sign into the literal.
    if (op === "^" && lhsNode.name === "NumberLiteral" && /^[+-]/.test(this.text(lhsNode))) {
      const raw = this.text(lhsNode);
      const inner = this.at(lhsNode, { kind: "number", value: this.numberAbs(lhsNode) } as const);
      const pow = this.at(n, { kind: "binary", op, lhs: inner, rhs, returnBool, matching } as const);
      opPositions.set(pow, opNode.from);
      return this.at(n, { kind: "unary", op: raw[0] as "-" | "+", expr: pow });
    }
    const lhs = lhsFirst!;
    const e = this.at(n, { kind: "binary", op, lhs, rhs, returnBool, matching } as const);
    opPositions.set(e, opNode.from);
    return makeBinary(lhs, e);
  }

  numberAbs(n: SyntaxNode): number {
    return Math.abs(this.number(n));
  }
}
