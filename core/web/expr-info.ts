/** Static facts about a checked PromQL expression that the HTTP API needs before evaluating it. */
import type { Expr, VectorSelector } from "../query/ast.ts";
import type { Matcher } from "../../storage/types.ts";

/** The matchers of every series selector in the expression (Prometheus's ExtractSelectors). */
export function selectorMatchers(e: Expr): Matcher[][] {
  const out: Matcher[][] = [];
  const walk = (x: Expr): void => {
    switch (x.kind) {
      case "vector":
        out.push((x as VectorSelector).matchers);
        return;
      case "matrix":
        out.push(x.vector.matchers);
        return;
      case "number":
      case "string":
        return;
      case "call":
        x.args.forEach(walk);
        return;
      case "aggregate":
        walk(x.expr);
        if (x.param !== null) walk(x.param);
        return;
      case "binary":
        walk(x.lhs);
        walk(x.rhs);
        return;
      case "subquery":
      case "unary":
      case "paren":
        walk(x.expr);
    }
  };
  walk(e);
  return out;
}
