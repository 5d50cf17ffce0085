/**
 * Prometheus 2.42's own PromQL test scripts (shared/testdata/promql/v2.42.0) run through
 * gleaner's engine: every eval as an instant query and as a range query's middle step. They
 * run with 2.x's closed windows (`v2Semantics`), where every eval passes, and with 3.x's
 * left-open windows (the default), where exactly the evals listed in
 * promql-v2-window-changes.ts give another result.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TESTDATA_DIR, TESTDATA_MISSING, withTestdata } from "../support/testdata.ts";
import { runScript, tsdbStores, type EvalOutcome } from "./promql-script.ts";
import { CHANGED_BY_EXTRAPOLATION_ORDER, CHANGED_BY_LEFT_OPEN_WINDOWS, CHANGED_BY_UTF8_NAMES } from "./promql-v2-window-changes.ts";

/** 2.x's windows: what these scripts (and Debian's Prometheus) were written for. */
const V2 = { v2Semantics: true };

const DIR = join(TESTDATA_DIR, "promql/v2.42.0");

/** Evals we knowingly fail under 2.x windows, as "file:line" → why: only what 3.x changed besides the windows. */
const SKIP = new Map<string, string>([...CHANGED_BY_UTF8_NAMES.keys()].map((k) => [k, "3.x accepts any UTF-8 label name"]));

const files = TESTDATA_MISSING !== null ? [] : readdirSync(DIR).filter((f) => f.endsWith(".test")).sort();
const table: Array<{ file: string; passed: number; evals: number; skipped: number }> = [];

withTestdata("Prometheus 2.42 PromQL test scripts", () => {
  for (const file of files) {
    test(`every eval of ${file} gives Prometheus's result`, async () => {
      const outcomes: EvalOutcome[] = await runScript(readFileSync(join(DIR, file), "utf8"), undefined, V2);
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

withTestdata("the same scripts over the TSDB's columnar read path", () => {
  test("every eval passes with the data in a Tsdb (head chunks, XOR decode in WASM)", async () => {
    const root = mkdtempSync(join(tmpdir(), "gleaner-promql-conf-"));
    const newStore = tsdbStores(root);
    try {
      const failures: string[] = [];
      let total = 0;
      for (const file of files) {
        const outcomes = await runScript(readFileSync(join(DIR, file), "utf8"), newStore, V2);
        total += outcomes.length;
        for (const o of outcomes) if (!o.ok && !SKIP.has(`${file}:${o.case.line}`)) failures.push(`${file}:${o.case.line}: ${o.case.expr}: ${o.error}`);
      }
      expect(failures).toEqual([]);
      expect(total).toBe(566);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

withTestdata("the same scripts under Prometheus 3.x's semantics", () => {
  test("exactly the evals 3.x changed on purpose give another result, and every other eval passes", async () => {
    const differ: string[] = [];
    let total = 0;
    for (const file of files) {
      const outcomes = await runScript(readFileSync(join(DIR, file), "utf8"));
      total += outcomes.length;
      for (const o of outcomes) if (!o.ok) differ.push(`${file}:${o.case.line}`);
    }
    console.log(`PromQL v2.42.0 scripts under 3.x semantics: ${total - differ.length}/${total} evals give 2.42's result; ${differ.length} differ as 3.x intends`);
    const changed = new Set([...CHANGED_BY_LEFT_OPEN_WINDOWS.keys(), ...CHANGED_BY_UTF8_NAMES.keys(), ...CHANGED_BY_EXTRAPOLATION_ORDER.keys()]);
    expect(differ.filter((k) => !changed.has(k))).toEqual([]);
    expect([...changed].filter((k) => !differ.includes(k))).toEqual([]);
  });
});
