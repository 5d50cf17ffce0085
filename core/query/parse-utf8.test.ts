import { expect, test } from "bun:test";
import { formatQuery, parseQuery } from "./engine.ts";

test("a quoted UTF-8 metric name selects by __name__", () => {
  const e = parseQuery('{"my.metric", "a.b"="c"}');
  expect(e.kind === "vector" && e.matchers).toEqual([{ type: "=", name: "a.b", value: "c" }, { type: "=", name: "__name__", value: "my.metric" }]);
});

test("names that are not legacy-valid print quoted, legacy names stay bare", () => {
  expect(formatQuery('{"my.metric"}')).toBe('{"my.metric"}');
  expect(formatQuery('{"foo"}')).toBe("foo");
  expect(formatQuery('sum by ("a.b") (x)')).toBe('sum by ("a.b") (x)');
});

test("duration expressions need the promql-duration-expr feature", () => {
  expect(() => parseQuery("foo[5m+1m]")).toThrow("1:5: parse error: experimental duration expression is not enabled");
  const e = parseQuery("foo[5m+1m]", { features: new Set(["promql-duration-expr"]) });
  expect(e.kind === "matrix" && e.rangeMs).toBe(360_000);
});
