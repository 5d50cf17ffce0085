import { describe, expect, test } from "bun:test";
import { formatQuery, parseQuery, QueryError } from "./engine.ts";

/** Bad inputs with the exact messages Prometheus 2.42 gives (captured from its /api/v1/format_query). */
const BAD: Array<[string, string]> = [
  ["rate(foo)", "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"],
  ["abs(1,2)", "1:1: parse error: expected 1 argument(s) in call to \"abs\", got 2"],
  ["foo[5m] + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types"],
  ["1 > 2", "1:3: parse error: comparisons between scalars must use BOOL modifier"],
  ["foo and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"],
  ["foo and bool bar", "1:5: parse error: bool modifier can only be used on comparison operators"],
  ["{__name__=~\".*\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"],
  ["foo{__name__=\"bar\"}", "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""],
  ["foo offset 5m offset 5m", "1:1: parse error: offset may not be set multiple times"],
  ["foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"],
  ["foo[5m][5m]", "1:8: parse error: ranges only allowed for vector selectors"],
  ["(foo)[5m]", "1:6: parse error: ranges only allowed for vector selectors"],
  ["sum(foo) by (a) offset 5m", "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"],
  ["topk(\"x\", foo)", "1:6: parse error: expected type scalar in aggregation parameter, got string"],
  ["a + on(x) group_left(x) b", "1:3: parse error: label \"x\" must not occur in ON and GROUP clause at once"],
  ["sum(foo", "1:8: parse error: unclosed left parenthesis"],
  ["foo)", "1:5: parse error: unexpected right parenthesis ')'"],
  ["{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"],
  ["foo[0m]", "1:5: parse error: duration must be greater than 0"],
  ["foo{a=\"b\"", "1:10: parse error: unexpected end of input inside braces"],
  ["sum()", "1:1: parse error: no arguments for aggregate expression provided"],
  ["sum(a, b)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2"],
  ["topk(a)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"],
  ["count_values(1, a)", "1:14: parse error: expected type string in aggregation parameter, got scalar"],
  ["label_join(a, \"b\")", "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 2"],
  ["round(a, 1, 2)", "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3"],
  ["day_of_month(a, b)", "1:1: parse error: expected at most 1 argument(s) in call to \"day_of_month\", got 2"],
  ["unknownfn(a)", "1:1: parse error: unknown function with name \"unknownfn\""],
  ["-\"a\"", "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"string\""],
  ["foo[5m:1m][5m]", "1:11: parse error: ranges only allowed for vector selectors"],
  ["\"a\"[5m:]", "1:1: parse error: subquery is only allowed on instant vector, got string instead"],
  ["foo offset 1m [5m]", "1:15: parse error: no offset modifiers allowed before range"],
  ["a + on(b) group_left and c", "1:26: parse error: unexpected identifier \"c\""],
  ["a and on(b) group_left(c) d", "1:1: parse error: no grouping allowed for \"and\" operation"],
  ["1 + on(a) 2", "1:1: parse error: vector matching only allowed between instant vectors"],
  ["foo @ Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"],
  ["foo{a=~\"(\"}", "1:5: parse error: error parsing regexp: missing closing ): `^(?:()$`"],
  ["x[5m] offset 1h offset 2h", "1:1: parse error: offset may not be set multiple times"],
  ["'a\\q'", "1:1: parse error: unknown escape sequence U+0071 'q'"],
  ["time(1)", "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1"],
  ["vector(foo)", "1:8: parse error: expected type scalar in call to function \"vector\", got instant vector"],
  ["absent_over_time(foo)", "1:18: parse error: expected type range vector in call to function \"absent_over_time\", got instant vector"],
  ["a atan2 bool b", "1:3: parse error: bool modifier can only be used on comparison operators"],
  ["foo @ 100 [5m]", "1:11: parse error: no @ modifiers allowed before range"],
  ["sum(rate(foo))", "1:10: parse error: expected type range vector in call to function \"rate\", got instant vector"],
  ["foo[5m] @ 100 @ 200", "1:1: parse error: @ <timestamp> may not be set multiple times"],
  ["abs(foo", "1:8: parse error: unclosed left parenthesis"],
  ["abc def", "1:5: parse error: unexpected identifier \"def\""],
  ["1 +", "1:4: parse error: unexpected end of input"],
  ["{a=\"b\"} + {}", "1:11: parse error: vector selector must contain at least one non-empty matcher"],
  ["foo[5m] offset 1m offset 2m", "1:1: parse error: offset may not be set multiple times"],
  ["label_replace(a, \"b\")", "1:1: parse error: expected 5 argument(s) in call to \"label_replace\", got 2"],
  ["\"a\" + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types"],
  ["{a=\"\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"],
  ["rate(foo[5m:1m:1m])", "1:15: parse error: unexpected colon ':'"],
  ["foo[5m:0s]", "1:8: parse error: duration must be greater than 0"],
  ["quantile(foo, bar)", "1:10: parse error: expected type scalar in aggregation parameter, got instant vector"],
  ["count_values(\"a\", \"b\")", "1:19: parse error: expected type instant vector in aggregation expression, got string"],
  ["abs(\"a\")", "1:5: parse error: expected type instant vector in call to function \"abs\", got string"],
  ["scalar(foo[5m])", "1:8: parse error: expected type instant vector in call to function \"scalar\", got range vector"],
  ["-foo[5m]", "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\""],
  ["holt_winters(foo[5m], 0.5)", "1:1: parse error: expected 3 argument(s) in call to \"holt_winters\", got 2"],
  ["1 and 2", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"],
  ["foo + bool bar", "1:5: parse error: bool modifier can only be used on comparison operators"],
  ["a or on(b) group_right c", "1:1: parse error: no grouping allowed for \"or\" operation"],
  ["a * on(b) group_left(b) c", "1:3: parse error: label \"b\" must not occur in ON and GROUP clause at once"],
  ["sum without(a) (b) by (c)", "1:20: parse error: unexpected <by>"],
  ["foo @ start(1)", "1:13: parse error: unexpected number \"1\" in @, expected timestamp"],
  ["foo @ \"a\"", "1:7: parse error: unexpected string \"\\\"a\\\"\" in @, expected timestamp"],
  ["time() offset 5m", "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"],
  ["(foo) @ 100", "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery"],
  ["atan2", "1:1: parse error: unexpected <op:atan2>"],
  ["foo offset 5m offset", "1:21: parse error: unexpected end of input in offset, expected duration"],
  ["bool", "1:1: parse error: unexpected <bool>"],
  ["foo[1.5m]", '1:5: parse error: not a valid duration string: "1.5m"'],
  ["foo[5m:1h5m2h]", '1:8: parse error: not a valid duration string: "1h5m2h"'],
  ["sum(foo,)", "1:8: parse error: trailing commas not allowed in function call args"],
  ["sum(x) by", '1:10: parse error: unexpected end of input in grouping opts, expected "("'],
  ["x[293y]", "1:3: parse error: duration out of range"],
  ["x offset 106752d", "1:10: parse error: duration out of range"],
];

function errorOf(expr: string): QueryError {
  try {
    parseQuery(expr);
  } catch (err) {
    if (err instanceof QueryError) return err;
    throw err;
  }
  throw new Error(`${JSON.stringify(expr)} parsed without an error`);
}

describe("parseQuery", () => {
  for (const [expr, message] of BAD) {
    test(`rejects ${JSON.stringify(expr)} with Prometheus's message`, () => {
      const err = errorOf(expr);
      expect(err.type).toBe("bad_data");
      expect(err.message).toBe(message);
    });
  }

  test("an empty query is a parse error", () => {
    expect(errorOf("   ").message).toBe("1:1: parse error: no expression found in input");
  });

  test("a signed literal on the left of ^ binds like Prometheus: -2 ^ 2 is -(2 ^ 2)", () => {
    const e = parseQuery("-2 ^ 2");
    expect(e.kind).toBe("unary");
    expect(formatQuery("-2 ^ 2")).toBe("-2 ^ 2");
  });

  test("uppercase hex literals parse although the grammar's lexer misses them", () => {
    expect(parseQuery("0X1F")).toEqual({ kind: "number", value: 31 });
    expect(formatQuery('foo{a="0X1F"} + 0X1F')).toBe('foo{a="0X1F"} + 31');
  });

  test("offset, @, ranges and subqueries bind tighter than binary operators", () => {
    expect(formatQuery("a or b offset 5m")).toBe("a or b offset 5m");
    const e = parseQuery("a @ 50 + b @ 100");
    expect(e.kind === "binary" && e.lhs.kind === "vector" && e.lhs.at).toEqual({ kind: "time", ms: 50_000 });
    expect(errorOf("-foo[5m:]").message).toContain("unary expression only allowed on expressions of type scalar or instant vector");
  });

  test("strings are unquoted with Go's escape rules", () => {
    expect(parseQuery('"a\\tb\\u00e9\\x41\\101"')).toEqual({ kind: "string", value: "a\tbéAA" });
    expect(parseQuery("'it\\'s'")).toEqual({ kind: "string", value: "it's" });
    expect(parseQuery("`raw\\n`")).toEqual({ kind: "string", value: "raw\\n" });
  });

  test("numbers follow Prometheus: octal, hex, Inf and NaN in any case, trailing dot", () => {
    expect(parseQuery("010")).toEqual({ kind: "number", value: 8 });
    expect(parseQuery("inF")).toEqual({ kind: "number", value: Infinity });
    expect(parseQuery("2.")).toEqual({ kind: "number", value: 2 });
    expect(formatQuery("1000000")).toBe("1e+06");
    expect(formatQuery("0.00001")).toBe("1e-05");
  });

  test("durations print as model.Duration: years and weeks only when exact", () => {
    expect(formatQuery("foo offset 1y2w")).toBe("foo offset 379d");
    expect(formatQuery("foo[90m]")).toBe("foo[1h30m]");
    expect(formatQuery("foo @ start() offset -5m")).toBe("foo @ start() offset -5m");
  });

  test("format_query splits expressions longer than 100 characters", () => {
    const q = "sum without (instance)(node_cpu) / ignoring (mode) group_left sum without (instance, mode)(node_cpu)";
    expect(formatQuery(q)).toBe("  sum without (instance) (node_cpu)\n/ ignoring (mode) group_left ()\n  sum without (instance, mode) (node_cpu)");
  });

  test("a number without a unit is a duration in seconds, as in Prometheus 3.x (2.42 refused it)", () => {
    const e = parseQuery("foo[5]");
    expect(e.kind === "matrix" && e.rangeMs).toBe(5000);
    expect(formatQuery("foo offset 5")).toBe("foo offset 5s");
    expect(formatQuery("foo[5m:1]")).toBe("foo[5m:1s]");
  });

  test("keywords are label names inside grouping clauses", () => {
    expect(formatQuery("sum without (on, by, offset) (foo)")).toBe("sum without (on, by, offset) (foo)");
  });
});
