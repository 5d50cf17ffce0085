/**
 * The PromQL type checker: the rules of Prometheus 2.42's checkAST (promql/parser/parse.go)
 * with its messages, plus the result type of every expression for the evaluator.
 */
import type { Expr, ValueType } from "./ast.ts";
import { FUNCTIONS } from "./functions.ts";
import { opPositions, ParseFailure, positions } from "./positions.ts";
import { RE2JS } from "re2js";

/** Prometheus's name for a value type in messages. */
export function typeName(t: ValueType): string {
  switch (t) {
    case "vector":
      return "instant vector";
    case "matrix":
      return "range vector";
    default:
      return t;
  }
}

const COMPARISON = new Set(["==", "!=", ">", "<", ">=", "<="]);
const SET_OPS = new Set(["and", "or", "unless"]);

/** The value type an expression evaluates to. */
export function typeOf(e: Expr): ValueType {
  switch (e.kind) {
    case "number":
      return "scalar";
    case "string":
      return "string";
    case "vector":
      return "vector";
    case "matrix":
    case "subquery":
      return "matrix";
    case "call":
      return FUNCTIONS.get(e.name)?.returnType ?? "vector";
    case "aggregate":
      return "vector";
    case "binary":
      return typeOf(e.lhs) === "scalar" && typeOf(e.rhs) === "scalar" ? "scalar" : "vector";
    case "unary":
    case "paren":
      return typeOf(e.expr);
  }
}

function fail(e: Expr, message: string): never {
  throw new ParseFailure(positions.get(e)?.from ?? 0, message);
}

/** Errors about the operator itself point at it, as Prometheus's do. */
function failAtOp(e: Expr, message: string): never {
  throw new ParseFailure(opPositions.get(e) ?? positions.get(e)?.from ?? 0, message);
}

function expectType(e: Expr, want: ValueType, context: string): void {
  const got = typeOf(e);
  if (got !== want) fail(e, `expected type ${typeName(want)} in ${context}, got ${typeName(got)}`);
}

/** Walks the tree; throws ParseFailure on the first rule broken. */
export function checkExpr(e: Expr): ValueType {
  switch (e.kind) {
    case "number":
    case "string":
      break;
    case "paren":
      checkExpr(e.expr);
      break;
    case "unary": {
      const t = checkExpr(e.expr);
      if (t !== "scalar" && t !== "vector") fail(e, `unary expression only allowed on expressions of type scalar or instant vector, got ${JSON.stringify(typeName(t))}`);
      break;
    }
    case "vector": {
      if (e.name !== "") {
        for (const m of e.matchers.slice(0, -1)) if (m.name === "__name__") fail(e, `metric name must not be set twice: ${JSON.stringify(e.name)} or ${JSON.stringify(m.value)}`);
      }
      const nonEmpty = e.matchers.some((m) => !matchesEmpty(m.type, m.value));
      if (!nonEmpty) fail(e, "vector selector must contain at least one non-empty matcher");
      break;
    }
    case "matrix":
      checkExpr(e.vector);
      break;
    case "subquery": {
      const t = checkExpr(e.expr);
      if (t !== "vector") fail(e.expr, `subquery is only allowed on instant vector, got ${t} instead`);
      break;
    }
    case "aggregate": {
      const t = checkExpr(e.expr);
      if (t !== "vector") fail(e.expr, `expected type instant vector in aggregation expression, got ${typeName(t)}`);
      if (e.param !== null) {
        const pt = checkExpr(e.param);
        if (e.op === "count_values") {
          if (pt !== "string") fail(e.param, `expected type string in aggregation parameter, got ${typeName(pt)}`);
        } else if (pt !== "scalar") fail(e.param, `expected type scalar in aggregation parameter, got ${typeName(pt)}`);
      }
      break;
    }
    case "call": {
      const f = FUNCTIONS.get(e.name);
      if (f === undefined) fail(e, `unknown function with name ${JSON.stringify(e.name)}`);
      const nargs = f.argTypes.length;
      if (f.variadic === 0) {
        if (nargs !== e.args.length) fail(e, `expected ${nargs} argument(s) in call to ${JSON.stringify(f.name)}, got ${e.args.length}`);
      } else {
        const na = nargs - 1;
        if (na > e.args.length) fail(e, `expected at least ${na} argument(s) in call to ${JSON.stringify(f.name)}, got ${e.args.length}`);
        else if (f.variadic > 0 && na + f.variadic < e.args.length) fail(e, `expected at most ${na + f.variadic} argument(s) in call to ${JSON.stringify(f.name)}, got ${e.args.length}`);
      }
      for (let i = 0; i < e.args.length; i++) {
        let k = i;
        if (i >= nargs) {
          if (f.variadic !== -1) break;
          k = nargs - 1;
        }
        checkExpr(e.args[i]!);
        expectType(e.args[i]!, f.argTypes[k]!, `call to function ${JSON.stringify(f.name)}`);
      }
      break;
    }
    case "binary": {
      const lt = checkExpr(e.lhs);
      const rt = checkExpr(e.rhs);
      const isCmp = COMPARISON.has(e.op);
      const isSet = SET_OPS.has(e.op);
      if (e.returnBool && !isCmp) failAtOp(e, "bool modifier can only be used on comparison operators");
      if (isCmp && !e.returnBool && lt === "scalar" && rt === "scalar") failAtOp(e, "comparisons between scalars must use BOOL modifier");
      if (isSet && e.matching !== null && e.matching.card === "one-to-one") e.matching.card = "many-to-many";
      if (e.matching !== null && e.matching.on) {
        for (const l of e.matching.labels) if (e.matching.include.includes(l)) failAtOp(e, `label ${JSON.stringify(l)} must not occur in ON and GROUP clause at once`);
      }
      if (lt !== "scalar" && lt !== "vector") fail(e.lhs, "binary expression must contain only scalar and instant vector types");
      if (rt !== "scalar" && rt !== "vector") fail(e.rhs, "binary expression must contain only scalar and instant vector types");
      if (lt !== "vector" || rt !== "vector") {
        if (e.matching !== null && (e.matching.labels.length > 0 || e.matching.on)) {
          if (e.matching.labels.length > 0) fail(e, "vector matching only allowed between instant vectors");
        }
        e.matching = null;
      } else {
        e.matching ??= { card: isSet ? "many-to-many" : "one-to-one", on: false, labels: [], include: [] };
        if (isSet) {
          if (e.matching.card === "one-to-many" || e.matching.card === "many-to-one") fail(e, `no grouping allowed for ${JSON.stringify(e.op)} operation`);
          if (e.matching.card !== "many-to-many") fail(e, "set operations must always be many-to-many");
        }
      }
      if ((lt === "scalar" || rt === "scalar") && isSet) fail(e, `set operator ${JSON.stringify(e.op)} not allowed in binary scalar expression`);
      break;
    }
  }
  return typeOf(e);
}

function matchesEmpty(type: string, value: string): boolean {
  switch (type) {
    case "=":
      return value === "";
    case "!=":
      return value !== "";
    default: {
      const m = RE2JS.compile(`^(?:${value})$`).matches("");
      return type === "=~" ? m : !m;
    }
  }
}
