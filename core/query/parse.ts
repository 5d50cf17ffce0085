/**
 * parseQuery: PromQL text → checked AST. The syntax comes from the Prometheus project's
 * own lezer grammar (@prometheus-io/lezer-promql 0.315.0, Prometheus 3.x syntax: quoted
 * UTF-8 names, duration expressions, experimental functions and modifiers); the
 * conversion, the fixes for the grammar's gaps (`-2 ^ 2`, `0X1F`, `2.`, 2.x's
 * `holt_winters`) and the type checks (ported from the rules of Prometheus's checkAST)
 * are ours, with Prometheus's messages.
 */
import { parser } from "@prometheus-io/lezer-promql";
import type { SyntaxNode } from "@lezer/common";
import { RE2JS } from "re2js";
import type { Matcher, MatchType } from "../../storage/types.ts";
import type { AggregateOp, AtModifier, BinaryOp, DurationExpr, Expr, RangeModifier, VectorMatching, VectorSelector } from "./ast.ts";
import { checkExpr } from "./check.ts";
import { dependsOnQuery, durationSeconds } from "./duration-expr.ts";
import { goFloat, parseDuration, parseNumber, unquote } from "./lexical.ts";
import { QueryError } from "./values.ts";
import { lineCol, offsetSet, opPositions, ParseFailure, positions } from "./positions.ts";

function fail(pos: number, message: string): never {
  throw new ParseFailure(pos, message);
}

export interface ParseOptions {
  /**
   * `--enable-feature` values. `promql-duration-expr` allows duration expressions
   * (`foo[5m+1m]`, `offset (1m*2)`, `[step()]`), as Prometheus 3.x's flag of that name.
   */
  features?: ReadonlySet<string>;
}

/** The feature that turns on duration expressions. */
export const DURATION_EXPR_FEATURE = "promql-duration-expr";

/** Parses and type-checks; throws QueryError("bad_data", "1:5: parse error: ...") (Prometheus wording). */
export function parseQuery(input: string, opts: ParseOptions = {}): Expr {
  try {
    const expr = new Converter(input, opts.features ?? NO_FEATURES).run();
    checkExpr(expr);
    return expr;
  } catch (err) {
    if (err instanceof ParseFailure) throw new QueryError("bad_data", `${lineCol(input, err.pos)}: parse error: ${err.message}`);
    throw err;
  }
}

const NO_FEATURES: ReadonlySet<string> = new Set();

/**
 * Gaps in the grammar's lexer, fixed outside strings and comments without moving any
 * offset: uppercase hex (`0X1F` → `0x1F`), a number with a trailing dot (`2.` → `2 `,
 * which Prometheus accepts and 2.42's test scripts use), and `holt_winters`, which 3.x
 * renamed and the grammar no longer knows (parsed as a same-length function name; the
 * converter reads the name from the original text).
 */
function fixLexing(input: string): string {
  if (!/0X|\d\.|holt_winters/.test(input)) return input;
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
    else if (c === "." && /\d/.test(out[i - 1] ?? "") && !/[\w.]/.test(out[i + 1] ?? "")) {
      // Only a plain decimal: not the tail of a name (`a1.`) or a hex literal.
      let j = i - 1;
      while (j >= 0 && /\d/.test(out[j]!)) j--;
      if (!/[\w.]/.test(out[j] ?? "")) out[i] = " ";
    } else if (c === "h" && input.startsWith("holt_winters", i) && !/[\w:]/.test(out[i - 1] ?? "") && !/[\w:]/.test(out[i + 12] ?? "")) {
      out.splice(i, 12, ..."day_of_month");
      i += 11;
    }
  }
  return out.join("");
}

const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless", "atan2"]);

const DURATION_OPS: Record<string, "+" | "-" | "*" | "/" | "%" | "^"> = { Add: "+", Sub: "-", Mul: "*", Div: "/", Mod: "%", Pow: "^" };

/** Prometheus 3.x's feature names for syntax gleaner parses but does not evaluate yet. */
const EXTENDED_RANGE_FEATURE = "promql-extended-range-selectors";
const FILL_FEATURE = "promql-binop-fill-modifiers";

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
  constructor(
    readonly input: string,
    readonly features: ReadonlySet<string>,
  ) {
    this.src = fixLexing(input);
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
      case "NumberDurationLiteral":
        return this.at(n, { kind: "number", value: this.number(n) });
      case "StringLiteral":
        return this.at(n, { kind: "string", value: this.string(n) });
      case "VectorSelector":
        return this.at(n, this.vectorSelector(n));
      case "MatrixSelector":
        return this.matrixSelector(n);
      case "SubqueryExpr": {
        const kids = this.children(n);
        const durs = kids.filter((k) => k.name === "DurationExpr");
        const inner = this.expr(kids[0]!);
        const range = this.durationValue(durs[0]!, true);
        const step = durs[1] ? this.durationValue(durs[1], true) : null;
        return postfix(inner, (e) => {
          const sq: Extract<Expr, { kind: "subquery" }> = { kind: "subquery", expr: e, rangeMs: range.ms, stepMs: step?.ms ?? 0, offsetMs: 0, at: null };
          if (range.expr !== undefined) sq.rangeExpr = range.expr;
          if (step?.expr !== undefined) sq.stepExpr = step.expr;
          return this.atFrom(e, n, sq);
        });
      }
      case "OffsetExpr":
        return this.offset(n);
      case "StepInvariantExpr":
        return this.atModifier(n);
      case "AnchoredExpr":
      case "SmoothedExpr":
        return this.rangeModifier(n, n.name === "AnchoredExpr" ? "anchored" : "smoothed");
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
        // From the original text: fixLexing may have renamed holt_winters.
        const name = this.input.slice(kids[0]!.from, kids[0]!.to);
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
    // Prometheus 3.x reads a duration where a number goes as its seconds (`5m` is 300).
    const d = parseNumber(m[2]!) === null ? parseDuration(m[2]!) : null;
    const v = d !== null ? d / 1000 : parseNumber(m[2]!);
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

  /** A literal in a duration context: a duration (`5m`) or a number of seconds (`5`, `1.5`). */
  durationLiteral(n: SyntaxNode): number {
    const text = this.text(n);
    const d = parseDuration(text);
    if (d !== null) {
      // Prometheus keeps durations as int64 nanoseconds.
      if (d > 9_223_372_036_854.775) fail(n.from, "duration out of range");
      return d / 1000;
    }
    const v = parseNumber(text);
    if (v === null) fail(n.from, `not a valid duration string: ${JSON.stringify(text)}`);
    if (!Number.isFinite(v) || Math.abs(v) > 9_223_372_036.854775) fail(n.from, "duration out of range");
    return v;
  }

  /** A DurationExpr or OffsetDurationExpr node → our DurationExpr. */
  durationExpr(n: SyntaxNode): DurationExpr {
    const kids = this.children(n);
    const first = kids[0];
    if (first === undefined) fail(n.from, "unexpected end of input in duration expression");
    switch (first.name) {
      case "NumberDurationLiteralInDurationContext":
        return { kind: "literal", seconds: this.durationLiteral(first), text: this.text(first) };
      case "DurationStep":
        return { kind: "step" };
      case "DurationRange":
        return { kind: "range" };
      case "DurationMinOf":
      case "DurationMaxOf": {
        const args = kids.filter((k) => k.name === "DurationExpr");
        return { kind: first.name === "DurationMinOf" ? "min_of" : "max_of", lhs: this.durationExpr(args[0]!), rhs: this.durationExpr(args[1]!) };
      }
      case "UnaryOp":
        return { kind: "unary", op: this.text(first).trim() as "-" | "+", expr: this.durationExpr(kids[1]!) };
      default:
        if (kids.length === 1) return { kind: "paren", expr: this.durationExpr(first) };
        return { kind: "binary", op: DURATION_OPS[kids[1]!.name]!, lhs: this.durationExpr(first), rhs: this.durationExpr(kids[2]!) };
    }
  }

  /**
   * A range, step or offset duration: a literal (with a sign, for offsets) is its value;
   * anything else is a duration expression, which needs the promql-duration-expr feature.
   * Expressions without step()/range() are evaluated here, as Prometheus does.
   */
  durationValue(n: SyntaxNode, positive: boolean): { ms: number; expr?: DurationExpr } {
    const d = this.durationExpr(n);
    let lit: DurationExpr = d;
    let sign = 1;
    while (lit.kind === "unary") {
      if (lit.op === "-") sign = -sign;
      lit = lit.expr;
    }
    if (lit.kind === "literal") {
      // A zero literal is refused for offsets too (`offset -0s`), as Prometheus does.
      const ms = sign * Math.round(lit.seconds * 1000);
      if (!(Math.abs(ms) > 0) || (positive && sign < 0)) fail(n.from, "duration must be greater than 0");
      return { ms };
    }
    if (!this.features.has(DURATION_EXPR_FEATURE)) fail(n.from, `experimental duration expression is not enabled (--enable-feature=${DURATION_EXPR_FEATURE})`);
    if (dependsOnQuery(d)) return { ms: 0, expr: d };
    let secs: number;
    try {
      secs = durationSeconds(d, { stepMs: 0, rangeMs: 0 });
    } catch (err) {
      fail(n.from, (err as Error).message);
    }
    const ms = Math.round(secs * 1000);
    if (!Number.isFinite(secs) || Math.abs(ms) > 9_223_372_036_854.775) fail(n.from, "duration out of range");
    if (positive && !(ms > 0)) fail(n.from, `duration must be greater than 0`);
    return { ms, expr: d };
  }

  vectorSelector(n: SyntaxNode): VectorSelector {
    const id = n.getChild("Identifier");
    const name = id ? this.text(id) : "";
    // Prometheus lexes atan2 as an operator everywhere; the grammar lets it be a metric name.
    if (name.toLowerCase() === "atan2") fail(n.from, "unexpected <op:atan2>");
    const matchers: Matcher[] = [];
    // A quoted name alone in the braces (`{"my.metric"}`) is the metric name, as in Prometheus 3.x.
    let quotedName: string | null = null;
    let quotedNameNode: SyntaxNode | null = null;
    const lms = n.getChild("LabelMatchers");
    if (lms !== null) {
      for (const lm of this.children(lms)) {
        if (lm.name === "QuotedLabelName") {
          if (quotedName !== null || name !== "") fail(lm.from, `metric name must not be set twice: ${JSON.stringify(quotedName ?? name)} or ${JSON.stringify(this.string(lm.firstChild!))}`);
          quotedName = this.string(lm.firstChild!);
          quotedNameNode = lm;
          continue;
        }
        const ln = lm.name === "QuotedLabelName" ? lm : lm.firstChild!;
        const labelName = ln.name === "QuotedLabelName" ? this.string(ln.firstChild!) : this.text(ln);
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
        matchers.push({ type, name: labelName, value });
      }
    }
    if (quotedName !== null) {
      if (quotedName === "") fail(quotedNameNode!.from, "vector selector must contain at least one non-empty matcher");
      matchers.push({ type: "=", name: "__name__", value: quotedName });
      return { kind: "vector", name: quotedName, matchers, offsetMs: 0, at: null };
    }
    if (name !== "") matchers.push({ type: "=", name: "__name__", value: name });
    return { kind: "vector", name, matchers, offsetMs: 0, at: null };
  }

  matrixSelector(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const inner = kids[0]!;
    const innerExpr = this.expr(inner);
    const range = this.durationValue(kids.find((k) => k.name === "DurationExpr")!, true);
    const bracket = this.src.indexOf("[", inner.to);
    return postfix(innerExpr, (e) => {
      if (e.kind !== "vector") fail(bracket, "ranges only allowed for vector selectors");
      if (offsetSet.has(e)) fail(bracket, "no offset modifiers allowed before range");
      if (e.at !== null && e.at.kind === "time") fail(bracket, "no @ modifiers allowed before range");
      const m: Extract<Expr, { kind: "matrix" }> = { kind: "matrix", vector: e, rangeMs: range.ms };
      if (range.expr !== undefined) m.rangeExpr = range.expr;
      return this.atFrom(e, n, m);
    });
  }

  /**
   * `foo[5m] anchored` / `foo[5m] smoothed` (Prometheus 3.x, behind its
   * promql-extended-range-selectors feature): parsed, but gleaner's engine does not
   * evaluate them yet, so they are refused here with a message naming the modifier.
   */
  rangeModifier(n: SyntaxNode, modifier: RangeModifier): Expr {
    const kids = this.children(n);
    const kw = kids[kids.length - 1]!;
    return postfix(this.expr(kids[0]!), (e) => {
      if (e.kind !== "matrix" && e.kind !== "vector") fail(kw.from, `${modifier} modifier can only be used on range or instant vector selectors`);
      const target = e;
      if (target.modifier !== undefined) fail(kw.from, `${modifier} modifier may not be combined with ${target.modifier}`);
      if (!this.features.has(EXTENDED_RANGE_FEATURE)) fail(kw.from, `${modifier} modifier is experimental and not supported by this engine (--enable-feature=${EXTENDED_RANGE_FEATURE} is not available)`);
      target.modifier = modifier;
      return e;
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
    const inner = this.expr(kids[0]!);
    const d = this.durationValue(kids.find((k) => k.name === "OffsetDurationExpr")!, false);
    return postfix(inner, (e) => this.setOffset(n, e, d.ms, d.expr));
  }

  setOffset(n: SyntaxNode, e: Expr, ms: number, expr: DurationExpr | undefined): Expr {
    const target = this.modifiable(e, n.from, "offset");
    if (offsetSet.has(target)) fail(n.from, "offset may not be set multiple times");
    target.offsetMs = ms;
    if (expr !== undefined) target.offsetExpr = expr;
    offsetSet.add(target);
    return e;
  }

  atModifier(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const arg = kids[kids.length - 1]!;
    let at: AtModifier;
    if (arg.name === "AtModifierPreprocessors") {
      at = /Start/.test(arg.firstChild!.name) ? { kind: "start" } : { kind: "end" };
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
    // Experimental in Prometheus 3.x, and not evaluated here yet: refused as Prometheus refuses them without the flag.
    if (op === "limitk" || op === "limit_ratio") fail(n.from, `${op}() is experimental and must be enabled with --enable-feature=promql-experimental-functions (not available in gleaner yet)`);
    const needsParam = op === "topk" || op === "bottomk" || op === "quantile" || op === "count_values";
    if (args.length === 0) fail(n.from, "no arguments for aggregate expression provided");
    const want = needsParam ? 2 : 1;
    if (args.length !== want) fail(n.from, `wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`);
    let grouping: string[] = [];
    let without = false;
    if (mod !== undefined) {
      without = mod.firstChild!.name === "Without";
      const gl = mod.getChild("GroupingLabels");
      grouping = gl ? this.groupingLabels(gl) : [];
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
      const groups = mm.getChildren("GroupingLabels").map((g) => this.groupingLabels(g));
      const groupNode = mk.find((k) => k.name === "GroupLeft" || k.name === "GroupRight");
      matching = {
        card: groupNode === undefined ? "one-to-one" : groupNode.name === "GroupLeft" ? "many-to-one" : "one-to-many",
        on,
        labels: groups[0] ?? [],
        include: groups[1] ?? [],
      };
    }
    const fillNode = kids.find((k) => k.name === "FillModifier");
    const fill = fillNode === undefined ? undefined : this.fillModifier(fillNode);
    const signedLhs = op === "^" && lhsNode.name === "NumberDurationLiteral" && /^[+-]/.test(this.text(lhsNode));
    const lhsFirst = signedLhs ? null : this.expr(lhsNode);
    const rhs = this.expr(rhsNode);
    // Prometheus lexes `-2 ^ 2` as -(2 ^ 2): the grammar folds the sign into the literal.
    if (signedLhs) {
      const raw = this.text(lhsNode);
      const inner = this.at(lhsNode, { kind: "number", value: this.numberAbs(lhsNode) } as const);
      const pow = this.at(n, { kind: "binary", op, lhs: inner, rhs, returnBool, matching } as const);
      opPositions.set(pow, opNode.from);
      return this.at(n, { kind: "unary", op: raw[0] as "-" | "+", expr: pow });
    }
    const lhs = lhsFirst!;
    const e: Extract<Expr, { kind: "binary" }> = this.at(n, { kind: "binary", op, lhs, rhs, returnBool, matching });
    if (fill !== undefined) e.fill = fill;
    opPositions.set(e, opNode.from);
    return makeBinary(lhs, e);
  }

  /** `by (a, "b.c")`: bare and quoted (UTF-8) label names. */
  groupingLabels(g: SyntaxNode): string[] {
    const out: string[] = [];
    for (const l of this.children(g)) {
      if (l.name === "LabelName") out.push(this.text(l));
      else if (l.name === "QuotedLabelName") out.push(this.string(l.firstChild!));
    }
    return out;
  }

  /**
   * `fill(v)`, `fill_left(v)`, `fill_right(v)` (Prometheus 3.x, behind its
   * promql-binop-fill-modifiers feature): parsed, but refused with a message naming it,
   * as gleaner's engine does not evaluate them yet.
   */
  fillModifier(n: SyntaxNode): { lhs: number | null; rhs: number | null } {
    const out: { lhs: number | null; rhs: number | null } = { lhs: null, rhs: null };
    for (const c of this.children(n)) {
      const v = this.number(c.getChild("NumberDurationLiteral")!);
      if (c.name === "FillClause") out.lhs = out.rhs = v;
      else if (c.name === "FillLeftClause") out.lhs = v;
      else out.rhs = v;
    }
    if (!this.features.has(FILL_FEATURE)) fail(n.from, `fill modifiers are experimental and not supported by this engine (--enable-feature=${FILL_FEATURE} is not available)`);
    return out;
  }

  numberAbs(n: SyntaxNode): number {
    return Math.abs(this.number(n));
  }
}
