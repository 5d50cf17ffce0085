/** Static facts about a checked PromQL expression that the HTTP API needs before evaluating it. */
import type { Expr } from "../query/ast.ts";

/** A value type as Prometheus's messages name it ("range vector", "instant vector"). */
export function documentedType(t: "scalar" | "vector" | "matrix" | "string"): string {
  return t === "matrix" ? "range vector" : t === "vector" ? "instant vector" : t;
}

const SCALAR_FUNCTIONS = new Set(["pi", "scalar", "time"]);

/** The static type of a checked expression. */
export function exprType(e: Expr): "scalar" | "vector" | "matrix" | "string" {
  switch (e.kind) {
    case "number":
      return "scalar";
    case "string":
      return "string";
    case "vector":
    case "aggregate":
      return "vector";
    case "matrix":
    case "subquery":
      return "matrix";
    case "call":
      return SCALAR_FUNCTIONS.has(e.name) ? "scalar" : "vector";
    case "binary":
      return exprType(e.lhs) === "scalar" && exprType(e.rhs) === "scalar" ? "scalar" : "vector";
    case "unary":
    case "paren":
      return exprType(e.expr);
  }
}

/** True when the expression reads any series (Prometheus's ExtractSelectors is not empty). */
export function hasSelector(e: Expr): boolean {
  switch (e.kind) {
    case "vector":
    case "matrix":
      return true;
    case "number":
    case "string":
      return false;
    case "call":
      return e.args.some(hasSelector);
    case "aggregate":
      return hasSelector(e.expr) || (e.param !== null && hasSelector(e.param));
    case "binary":
      return hasSelector(e.lhs) || hasSelector(e.rhs);
    case "subquery":
    case "unary":
    case "paren":
      return hasSelector(e.expr);
  }
}
