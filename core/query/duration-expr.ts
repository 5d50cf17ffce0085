/**
 * Prometheus 3.x duration expressions (`foo[5m+1m]`, `offset (1m*2)`, `[step()]`):
 * evaluation to milliseconds, and printing as Prometheus prints them.
 */
import type { DurationExpr, Expr } from "./ast.ts";
import { formatDuration, goFloat } from "./lexical.ts";

/** What step() and range() stand for; both are 0 in an instant query. */
export interface DurationContext {
  stepMs: number;
  rangeMs: number;
}

/** True when the expression needs the query (step(), range()) to be evaluated. */
export function dependsOnQuery(d: DurationExpr): boolean {
  switch (d.kind) {
    case "literal":
      return false;
    case "step":
    case "range":
      return true;
    case "unary":
    case "paren":
      return dependsOnQuery(d.expr);
    default:
      return dependsOnQuery(d.lhs) || dependsOnQuery(d.rhs);
  }
}

/**
 * Evaluates a duration expression to seconds.
 * @throws RangeError on a division or modulo by zero.
 */
export function durationSeconds(d: DurationExpr, ctx: DurationContext): number {
  switch (d.kind) {
    case "literal":
      return d.seconds;
    case "step":
      return ctx.stepMs / 1000;
    case "range":
      return ctx.rangeMs / 1000;
    case "paren":
      return durationSeconds(d.expr, ctx);
    case "unary": {
      const v = durationSeconds(d.expr, ctx);
      return d.op === "-" ? -v : v;
    }
    case "min_of":
      return Math.min(durationSeconds(d.lhs, ctx), durationSeconds(d.rhs, ctx));
    case "max_of":
      return Math.max(durationSeconds(d.lhs, ctx), durationSeconds(d.rhs, ctx));
    case "binary": {
      const a = durationSeconds(d.lhs, ctx);
      const b = durationSeconds(d.rhs, ctx);
      switch (d.op) {
        case "+":
          return a + b;
        case "-":
          return a - b;
        case "*":
          return a * b;
        case "/":
          if (b === 0) throw new RangeError("division by zero");
          return a / b;
        case "%":
          if (b === 0) throw new RangeError("modulo by zero");
          return a % b;
        case "^":
          return Math.pow(a, b);
      }
    }
  }
}

/** Prints a duration expression as Prometheus 3.x does: literals as written, operators spaced. */
export function printDurationExpr(d: DurationExpr): string {
  switch (d.kind) {
    case "literal":
      return d.text;
    case "step":
      return "step()";
    case "range":
      return "range()";
    case "paren":
      return `(${printDurationExpr(d.expr)})`;
    case "unary":
      return `${d.op}${printDurationExpr(d.expr)}`;
    case "min_of":
    case "max_of":
      return `${d.kind}(${printDurationExpr(d.lhs)}, ${printDurationExpr(d.rhs)})`;
    case "binary":
      return `${printDurationExpr(d.lhs)} ${d.op} ${printDurationExpr(d.rhs)}`;
  }
}

/** A literal's canonical text: a whole number of ms prints as a duration, else as seconds. */
export function literalText(seconds: number): string {
  const ms = seconds * 1000;
  return Number.isInteger(ms) && ms > 0 ? formatDuration(ms) : goFloat(seconds);
}

/**
 * Fills in rangeMs, stepMs and offsetMs of every selector and subquery whose duration
 * was written as an expression depending on step() or range(), for one query.
 * @throws RangeError when an expression divides by zero or yields a range that is not positive.
 */
export function resolveDurations(e: Expr, ctx: DurationContext): void {
  switch (e.kind) {
    case "vector":
      if (e.offsetExpr !== undefined) e.offsetMs = Math.round(durationSeconds(e.offsetExpr, ctx) * 1000);
      return;
    case "matrix":
      resolveDurations(e.vector, ctx);
      if (e.rangeExpr !== undefined) e.rangeMs = positiveMs(e.rangeExpr, ctx, "range");
      return;
    case "subquery":
      resolveDurations(e.expr, ctx);
      if (e.rangeExpr !== undefined) e.rangeMs = positiveMs(e.rangeExpr, ctx, "range");
      if (e.stepExpr !== undefined) e.stepMs = positiveMs(e.stepExpr, ctx, "step");
      if (e.offsetExpr !== undefined) e.offsetMs = Math.round(durationSeconds(e.offsetExpr, ctx) * 1000);
      return;
    case "call":
      for (const a of e.args) resolveDurations(a, ctx);
      return;
    case "aggregate":
      resolveDurations(e.expr, ctx);
      if (e.param !== null) resolveDurations(e.param, ctx);
      return;
    case "binary":
      resolveDurations(e.lhs, ctx);
      resolveDurations(e.rhs, ctx);
      return;
    case "unary":
    case "paren":
      resolveDurations(e.expr, ctx);
      return;
    default:
      return;
  }
}

function positiveMs(d: DurationExpr, ctx: DurationContext, what: string): number {
  const ms = Math.round(durationSeconds(d, ctx) * 1000);
  if (!(ms > 0)) throw new RangeError(`${what} duration ${printDurationExpr(d)} must be greater than 0, got ${goFloat(ms / 1000)}s`);
  return ms;
}
