/**
 * gleaner's PromQL engine (Prometheus 2.42 semantics): parse + type-check with Prometheus's
 * error messages, then evaluate instant and range queries over a columnar SeriesQuerier.
 * The HTTP API (/api/v1/query, /api/v1/query_range, /api/v1/format_query) sits on top.
 */
export type { Expr } from "./ast.ts";
export type { SeriesQuerier, SeriesColumns } from "../../storage/types.ts";
export { QueryError } from "./values.ts";
export type { QueryErrorType, ScalarValue, StringValue, VectorValue, MatrixValue, QueryValue, QueryStats, QueryResult, EngineOptions, QueryOptions } from "./values.ts";
export { QueryEngine } from "./query-engine.ts";
export { parseQuery } from "./parse.ts";
export { formatQuery } from "./format.ts";
