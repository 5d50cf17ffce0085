import { describe, expect, test } from "bun:test";
import { parseSeriesDesc } from "./promql-script.ts";
import { almostEqual, expandSequence, parseScript3x, runScript3x } from "./promql-script-3x.ts";

describe("the Prometheus 3.x script reader", () => {
  test("expandSequence() expands repetitions, gaps, stale markers and histogram series", () => {
    const vals = expandSequence("1+2x2 _ _x2 stale -1-1x1 3x1 {{count:1}}+{{count:2}}x1");
    expect(vals.map((v) => (v === undefined ? "_" : v.kind === "float" ? v.v : v.kind === "stale" ? "stale" : `h${v.h.count}`))).toEqual([1, 3, 5, "_", "_", "_", "stale", -1, -2, 3, 3, "h1", "h3"]);
  });

  test("parseSeriesDesc() reads quoted UTF-8 metric and label names", () => {
    const { labels, rest } = parseSeriesDesc(`{"my.metric", "a.b"="c", d='e'} 1 2`);
    expect(labels.toObject()).toEqual({ __name__: "my.metric", "a.b": "c", d: "e" });
    expect(rest).toBe("1 2");
  });

  test("parseScript3x() reads instant and range evals with their expect lines", () => {
    const cmds = parseScript3x(
      ["load_with_nhcb 1m", "  m_bucket{le=\"1\"} 1 2", "", "eval range from 0 to 2m step 1m sum(m)", "  expect no_warn", "  expect info msg: PromQL info: x", "  {} 1 _ 3", "", "eval instant at 1m m", "  expect fail regex: bad.*thing", "", "eval instant at 0 \"a\"", "  expect string \"a\"", "", "eval_ordered instant at 1m m", "  expect range vector from 0 to 1m step 30s", "  m 1 2 3"].join("\n"),
      "x.test",
    );
    expect(cmds.map((c) => c.kind)).toEqual(["load", "eval", "eval", "eval", "eval"]);
    const [, r, f, s, o] = cmds.map((c) => (c.kind === "eval" ? c.case : null));
    expect(r).toMatchObject({ range: true, startMs: 0, endMs: 120_000, stepMs: 60_000, noWarn: true, line: 4 });
    expect(r!.info[0]!.message).toBe("PromQL info: x");
    expect(r!.unstored.has("nhcb")).toBe(true);
    expect(f!.fail!.regex!.test("a bad thing")).toBe(true);
    expect(s!.string).toBe("a");
    expect(o).toMatchObject({ ordered: true, rangeVector: { startMs: 0, endMs: 60_000, stepMs: 30_000 } });
  });

  test("bad script input is a SyntaxError naming file:line", () => {
    expect(() => parseScript3x("load 1m\n  m 1 2\n\nbogus", "f.test")).toThrow("f.test:4: invalid command");
    expect(() => parseScript3x("load 1m\n  m{a=1} 1", "f.test")).toThrow(/^f\.test:2: /);
    expect(() => parseScript3x("eval instant at 0 m\n  m 1 2", "f.test")).toThrow(/f\.test:2: expecting multiple values/);
    expect(() => parseScript3x("eval instant at 0 m\n  expect sometimes", "f.test")).toThrow(/f\.test:2: invalid expect statement/);
    expect(() => parseScript3x("eval range from 2m to 1m step 1m m", "f.test")).toThrow(/f\.test:1: the range end/);
    expect(() => parseScript3x("load 1m\n  m {{sum:x}}", "f.test")).toThrow(/f\.test:2: .*sum is not a number/);
  });

  test("almostEqual() allows a relative error of 1e-6 and treats NaN as equal to NaN", () => {
    expect(almostEqual(1, 1 + 1e-7)).toBe(true);
    expect(almostEqual(1, 1.00001)).toBe(false);
    expect(almostEqual(NaN, NaN)).toBe(true);
    expect(almostEqual(0, 1e-300)).toBe(false);
  });

  test("runScript3x() passes a correct range eval and reports a wrong one", async () => {
    const out = await runScript3x(["load 1m", "  m{a=\"x\"} 1 2 3", "", "eval range from 0 to 2m step 1m m", "  expect no_warn", "  m{a=\"x\"} 1 2 3", "", "eval range from 0 to 2m step 1m m", "  m{a=\"x\"} 1 2 4", "", "eval instant at 1m m", "  expect fail"].join("\n"), "r.test");
    expect(out.map((o) => o.ok)).toEqual([true, false, false]);
    expect(out[1]!.error).toContain("expected 4, got 3");
    expect(out[2]!.error).toContain("expected the query to fail");
  });
});
