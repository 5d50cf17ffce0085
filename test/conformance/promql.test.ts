/**
 * Prometheus 2.42's own PromQL test scripts (shared/testdata/promql/v2.42.0) run through
 * gleaner's engine: every eval as an instant query and as a range query's middle step.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runScript, type EvalOutcome } from "./promql-script.ts";

const DIR = join(import.meta.dir, "../../../shared/testdata/promql/v2.42.0");

/** Evals we knowingly fail, as "file:line" → reason. Empty: all of v2.42.0 passes. */
const SKIP = new Map<string, string>();

const files = readdirSync(DIR).filter((f) => f.endsWith(".test")).sort();
const table: Array<{ file: string; passed: number; evals: number; skipped: number }> = [];

describe("Prometheus 2.42 PromQL test scripts", () => {
  for (const file of files) {
    test(`every eval of ${file} gives Prometheus's result`, async () => {
      const outcomes: EvalOutcome[] = await runScript(readFileSync(join(DIR, file), "utf8"));
      const failures = outcomes.filter((o) => !o.ok && !SKIP.has(`${file}:${o.case.line}`));
      const skipped = outcomes.filter((o) => SKIP.has(`${file}:${o.case.line}`)).length;
      table.push({ file, passed: outcomes.filter((o) => o.ok).length, evals: outcomes.length, skipped });
      expect(failures.map((f) => `line ${f.case.line}: ${f.case.expr}: ${f.error}`)).toEqual([]);
      expect(outcomes.length).toBeGreaterThan(0);
    });
  }

  test("the per-file pass counts are reported", () => {
    console.log("PromQL conformance (v2.42.0)");
    console.table(table);
    const total = table.reduce((a, r) => a + r.passed, 0);
    const evals = table.reduce((a, r) => a + r.evals, 0);
    console.log(`total: ${total}/${evals} evals pass`);
    expect(table.length).toBe(files.length);
  });
});
