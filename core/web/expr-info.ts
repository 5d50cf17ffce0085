/** Static facts about a checked PromQL expression that the HTTP API needs before evaluating it. */
import type { Expr } from "../query/ast.ts";

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
