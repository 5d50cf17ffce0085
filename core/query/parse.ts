/** parseQuery: PromQL text → checked AST, with Prometheus's parse error messages. */
import type { Expr } from "./ast.ts";
import { QueryError } from "./values.ts";

/** Parses and type-checks; throws QueryError("bad_data", "1:5: parse error: ...") (Prometheus wording). */
export function parseQuery(_expr: string): Expr {
  throw new QueryError("internal", "not implemented yet");
}
