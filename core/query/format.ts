/**
 * formatQuery: Prometheus's canonical printing of an expression (its String() methods, which
 * GET /api/v1/format_query returns for expressions that fit on one line).
 */
import type { AtModifier, Expr, VectorSelector } from "./ast.ts";
import { formatDuration, goFloat, goQuote } from "./lexical.ts";
import { parseQuery } from "./parse.ts";

/** Parses, checks and pretty-prints `expr` as format_query does; throws QueryError("bad_data") like parseQuery. */
export function formatQuery(expr: string): string {
  return prettyExpr(parseQuery(expr), 0);
}

const MAX_LINE = 100;
const indent = (level: number) => "  ".repeat(level);

/**
 * Prometheus's Prettify: an expression that prints longer than 100 characters is split, one
 * operand or argument per line, two spaces of indent per level.
 */
export function prettyExpr(e: Expr, level: number): string {
  const flat = printExpr(e);
  const split = flat.length > MAX_LINE;
  switch (e.kind) {
    case "aggregate": {
      if (!split) return indent(level) + flat;
      let s = indent(level) + aggOpString(e) + "(\n";
      if (e.param !== null) s += `${prettyExpr(e.param, level + 1)},\n`;
      return s + `${prettyExpr(e.expr, level + 1)}\n${indent(level)})`;
    }
    case "binary":
      if (!split) return indent(level) + flat;
      return `${prettyExpr(e.lhs, level + 1)}\n${indent(level)}${e.op}${e.returnBool ? " bool" : ""}${matchingString(e)}\n${prettyExpr(e.rhs, level + 1)}`;
    case "call":
      if (!split) return indent(level) + flat;
      return `${indent(level)}${e.name}(\n${e.args.map((a) => prettyExpr(a, level + 1)).join(",\n")}\n${indent(level)})`;
    case "paren":
      if (!split) return indent(level) + flat;
      return `${indent(level)}(\n${prettyExpr(e.expr, level + 1)}\n${indent(level)})`;
    case "subquery":
      if (!split) return flat;
      return prettyExpr(e.expr, level) + subquerySuffix(e);
    case "unary":
      return `${indent(level)}${e.op}${prettyExpr(e.expr, level).trim()}`;
    default:
      return indent(level) + flat;
  }
}

function aggOpString(e: Extract<Expr, { kind: "aggregate" }>): string {
  if (e.without) return `${e.op} without (${e.grouping.map(labelName).join(", ")}) `;
  if (e.grouping.length > 0) return `${e.op} by (${e.grouping.map(labelName).join(", ")}) `;
  return e.op;
}

function matchingString(e: Extract<Expr, { kind: "binary" }>): string {
  const vm = e.matching;
  if (vm === null || (vm.labels.length === 0 && !vm.on)) return "";
  let s = ` ${vm.on ? "on" : "ignoring"} (${vm.labels.map(labelName).join(", ")})`;
  if (vm.card === "many-to-one" || vm.card === "one-to-many") s += ` group_${vm.card === "many-to-one" ? "left" : "right"} (${vm.include.map(labelName).join(", ")})`;
  return s;
}

function subquerySuffix(e: Extract<Expr, { kind: "subquery" }>): string {
  return `[${formatDuration(e.rangeMs)}:${e.stepMs > 0 ? formatDuration(e.stepMs) : ""}]${atString(e.at)}${offsetString(e.offsetMs)}`;
}

function atString(at: AtModifier | null): string {
  if (at === null) return "";
  if (at.kind === "start") return " @ start()";
  if (at.kind === "end") return " @ end()";
  return ` @ ${(at.ms / 1000).toFixed(3)}`;
}

function offsetString(ms: number): string {
  if (ms > 0) return ` offset ${formatDuration(ms)}`;
  if (ms < 0) return ` offset -${formatDuration(-ms)}`;
  return "";
}

/** A label name as Prometheus 3.x prints it: bare when legacy-valid, else quoted. */
function labelName(name: string): string {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) ? name : goQuote(name);
}

function selectorString(v: VectorSelector): string {
  const parts: string[] = [];
  for (const m of v.matchers) {
    if (m.name === "__name__" && m.type === "=" && m.value === v.name) continue;
    parts.push(`${labelName(m.name)}${m.type}${goQuote(m.value)}`);
  }
  parts.sort();
  // A name that is not a legacy metric name goes inside the braces, quoted: {"my.metric"}.
  if (v.name !== "" && !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(v.name)) return `{${[goQuote(v.name), ...parts].join(", ")}}`;
  if (parts.length === 0) return v.name;
  return `${v.name}{${parts.join(",")}}`;
}

/** Prints an AST as Prometheus's String() does. */
export function printExpr(e: Expr): string {
  switch (e.kind) {
    case "number":
      return goFloat(e.value);
    case "string":
      return goQuote(e.value);
    case "vector":
      return selectorString(e) + atString(e.at) + offsetString(e.offsetMs);
    case "matrix":
      return `${selectorString(e.vector)}[${formatDuration(e.rangeMs)}]${atString(e.vector.at)}${offsetString(e.vector.offsetMs)}`;
    case "subquery":
      return printExpr(e.expr) + subquerySuffix(e);
    case "paren":
      return `(${printExpr(e.expr)})`;
    case "unary":
      return `${e.op}${printExpr(e.expr)}`;
    case "call":
      return `${e.name}(${e.args.map(printExpr).join(", ")})`;
    case "aggregate": {
      const args = e.param !== null ? `${printExpr(e.param)}, ${printExpr(e.expr)}` : printExpr(e.expr);
      return `${aggOpString(e)}(${args})`;
    }
    case "binary":
      return `${printExpr(e.lhs)} ${e.op}${e.returnBool ? " bool" : ""}${matchingString(e)} ${printExpr(e.rhs)}`;
  }
}
