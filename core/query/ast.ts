/**
 * gleaner's typed PromQL AST: what the lezer tree is converted into, what the checker
 * types and the evaluator walks. Durations and times are integer milliseconds.
 */
import type { Matcher } from "../../storage/types.ts";

export type ValueType = "scalar" | "vector" | "matrix" | "string";

/** `@` modifier: a fixed time (ms), or the query's start()/end(). */
export type AtModifier = { kind: "time"; ms: number } | { kind: "start" } | { kind: "end" };

export interface NumberLiteral {
  kind: "number";
  value: number;
}

export interface StringLiteral {
  kind: "string";
  value: string;
}

export interface VectorSelector {
  kind: "vector";
  /** The metric name written before the braces ("" when none). */
  name: string;
  /** Every matcher, including `__name__="<name>"` for a written name. */
  matchers: Matcher[];
  offsetMs: number;
  /** Set when the offset was written as a duration expression rather than a literal. */
  offsetExpr?: DurationExpr;
  at: AtModifier | null;
  modifier?: RangeModifier;
}

/**
 * A Prometheus 3.x duration expression (`[5m+1m]`, `offset (1m*2)`, `[step()]`), kept for
 * printing and for what only the query can settle (step(), range()). Numbers are seconds.
 */
export type DurationExpr =
  | { kind: "literal"; seconds: number; text: string }
  | { kind: "step" }
  | { kind: "range" }
  | { kind: "min_of" | "max_of"; lhs: DurationExpr; rhs: DurationExpr }
  | { kind: "binary"; op: "+" | "-" | "*" | "/" | "%" | "^"; lhs: DurationExpr; rhs: DurationExpr }
  | { kind: "unary"; op: "-" | "+"; expr: DurationExpr }
  | { kind: "paren"; expr: DurationExpr };

/** Prometheus 3.x range-selector modifiers (`foo[5m] anchored`, `foo[5m] smoothed`). */
export type RangeModifier = "anchored" | "smoothed";

export interface MatrixSelector {
  kind: "matrix";
  vector: VectorSelector;
  rangeMs: number;
  /** Set when the range was written as a duration expression rather than a literal. */
  rangeExpr?: DurationExpr;
  modifier?: RangeModifier;
}

export interface SubqueryExpr {
  kind: "subquery";
  expr: Expr;
  rangeMs: number;
  /** 0 when omitted (`[5m:]`): the engine's default step. */
  stepMs: number;
  offsetMs: number;
  rangeExpr?: DurationExpr;
  stepExpr?: DurationExpr;
  offsetExpr?: DurationExpr;
  at: AtModifier | null;
}

export interface Call {
  kind: "call";
  name: string;
  args: Expr[];
}

export type AggregateOp = "sum" | "avg" | "count" | "min" | "max" | "stddev" | "stdvar" | "group" | "topk" | "bottomk" | "quantile" | "count_values" | "limitk" | "limit_ratio";

export interface AggregateExpr {
  kind: "aggregate";
  op: AggregateOp;
  expr: Expr;
  param: Expr | null;
  grouping: string[];
  without: boolean;
}

export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "^" | "atan2" | "==" | "!=" | ">" | "<" | ">=" | "<=" | "and" | "or" | "unless";

export type Cardinality = "one-to-one" | "many-to-one" | "one-to-many" | "many-to-many";

export interface VectorMatching {
  card: Cardinality;
  /** `on(...)` when true, `ignoring(...)` (or nothing) when false. */
  on: boolean;
  labels: string[];
  /** The group_left/group_right label list. */
  include: string[];
}

export interface BinaryExpr {
  kind: "binary";
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  returnBool: boolean;
  /** Null unless both sides are vectors (set by the checker). */
  matching: VectorMatching | null;
  /** Prometheus 3.x `fill(v)`, `fill_left(v)`, `fill_right(v)`: values for a missing side. */
  fill?: { lhs: number | null; rhs: number | null };
}

export interface UnaryExpr {
  kind: "unary";
  op: "-" | "+";
  expr: Expr;
}

export interface ParenExpr {
  kind: "paren";
  expr: Expr;
}

export type Expr = NumberLiteral | StringLiteral | VectorSelector | MatrixSelector | SubqueryExpr | Call | AggregateExpr | BinaryExpr | UnaryExpr | ParenExpr;
