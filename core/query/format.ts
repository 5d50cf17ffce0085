/**
 * formatQuery: Prometheus's canonical printing of an expression (its String() methods, which
 * GET /api/v1/format_query returns for expressions that fit on one line).
 */
import type { AtModifier, Expr, VectorSelector } from "./ast.ts";
import { formatDuration, goFloat, goQuote } from "./lexical.ts";
import { parseQuery } from "./parse.ts";

/** Parses, checks and prints `expr`; throws QueryError("bad_data") like parseQuery. */
export function formatQuery(expr: string): string {
  return printExpr(parseQuery(expr));
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

function selectorString(v: VectorSelector): string {
  const parts: string[] = [];
  for (const m of v.matchers) {
    if (m.name === "__name__" && m.type === "=" && m.value === v.name) continue;
    parts.push(`${m.name}${m.type}${goQuote(m.value)}`);
  }
  if (parts.length === 0) return v.name;
  parts.sort();
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
      return `${printExpr(e.expr)}[${formatDuration(e.rangeMs)}:${e.stepMs > 0 ? formatDuration(e.stepMs) : ""}]${atString(e.at)}${offsetString(e.offsetMs)}`;
    case "paren":
      return `(${printExpr(e.expr)})`;
    case "unary":
      return `${e.op}${printExpr(e.expr)}`;
    case "call":
      return `${e.name}(${e.args.map(printExpr).join(", ")})`;
    case "aggregate": {
      let s: string = e.op;
      if (e.without) s += ` without (${e.grouping.join(", ")}) `;
      else if (e.grouping.length > 0) s += ` by (${e.grouping.join(", ")}) `;
      const args = e.param !== null ? `${printExpr(e.param)}, ${printExpr(e.expr)}` : printExpr(e.expr);
      return `${s}(${args})`;
    }
    case "binary": {
      let matching = "";
      const vm = e.matching;
      if (vm !== null && (vm.labels.length > 0 || vm.on)) {
        matching = ` ${vm.on ? "on" : "ignoring"} (${vm.labels.join(", ")})`;
        if (vm.card === "many-to-one" || vm.card === "one-to-many") matching += ` group_${vm.card === "many-to-one" ? "left" : "right"} (${vm.include.join(", ")})`;
      }
      return `${printExpr(e.lhs)} ${e.op}${e.returnBool ? " bool" : ""}${matching} ${printExpr(e.rhs)}`;
    }
  }
}
