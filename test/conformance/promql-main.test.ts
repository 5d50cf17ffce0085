/**
 * Prometheus 3.x's own PromQL test scripts (shared/testdata/promql/main) run through gleaner's
 * engine, over a MemoryStorage and over the Tsdb. Every eval that fails must be in
 * KNOWN_FAILURES with the missing feature it needs; an eval in the list that passes fails the
 * suite too, so the list stays honest. `UPDATE_KNOWN_FAILURES=1` rewrites the list.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TESTDATA_DIR, TESTDATA_MISSING } from "../support/testdata.ts";
import { KNOWN_FAILURES } from "./promql-main.known.ts";
import { failureReason } from "./promql-main-reasons.ts";
import { runScript3x, type EvalOutcome3x } from "./promql-script-3x.ts";
import { tsdbStores } from "./promql-script.ts";

const DIR = join(TESTDATA_DIR, "promql/main");
// testdata.ts reports missing corpora (and fails under CI=true).
const present = TESTDATA_MISSING === null;
const files = present ? readdirSync(DIR).filter((f) => f.endsWith(".test")).sort() : [];

/** Failing evals not in the list, and listed evals that pass. */
function audit(file: string, outcomes: EvalOutcome3x[]): { unlisted: string[]; stale: string[] } {
  const unlisted: string[] = [];
  const stale: string[] = [];
  for (const o of outcomes) {
    const key = `${file}:${o.case.line}`;
    if (!o.ok && !KNOWN_FAILURES.has(key)) unlisted.push(`${key}: ${o.case.expr}: ${o.error}`);
    if (o.ok && KNOWN_FAILURES.has(key)) stale.push(`${key} passes now; remove it from KNOWN_FAILURES ("${KNOWN_FAILURES.get(key)}")`);
  }
  return { unlisted, stale };
}

const table: Array<{ file: string; passed: number; evals: number; known: number }> = [];
const all = new Map<string, EvalOutcome3x[]>();

describe.skipIf(!present)("Prometheus 3.x PromQL test scripts", () => {
  for (const file of files) {
    test(`every eval of ${file} passes or is a known failure with its reason`, async () => {
      const outcomes = await runScript3x(readFileSync(join(DIR, file), "utf8"), file);
      all.set(file, outcomes);
      table.push({ file, passed: outcomes.filter((o) => o.ok).length, evals: outcomes.length, known: outcomes.filter((o) => KNOWN_FAILURES.has(`${file}:${o.case.line}`)).length });
      if (process.env.UPDATE_KNOWN_FAILURES === "1") return;
      const { unlisted, stale } = audit(file, outcomes);
      expect(unlisted).toEqual([]);
      expect(stale).toEqual([]);
      expect(outcomes.length).toBeGreaterThan(0);
    });
  }

  test("the per-file pass counts and the known-failure reasons are reported", () => {
    if (process.env.UPDATE_KNOWN_FAILURES === "1") writeKnown();
    console.log("PromQL conformance (Prometheus main, 3.x)");
    console.table(table);
    const passed = table.reduce((a, r) => a + r.passed, 0);
    const evals = table.reduce((a, r) => a + r.evals, 0);
    console.log(`total: ${passed}/${evals} evals pass`);
    const reasons = new Map<string, number>();
    for (const r of KNOWN_FAILURES.values()) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    console.log("known failures by reason:");
    for (const [r, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(4)}  ${r}`);
    expect(table.length).toBe(files.length);
  });
});

function writeKnown(): void {
  const rows: string[] = [];
  for (const file of files) {
    for (const o of all.get(file) ?? []) {
      if (!o.ok) rows.push(`  [${JSON.stringify(`${file}:${o.case.line}`)}, ${JSON.stringify(failureReason(o))}],`);
    }
  }
  const text = `/**
 * Evals of shared/testdata/promql/main that gleaner fails, as "file:line" → the missing
 * feature. Written by \`UPDATE_KNOWN_FAILURES=1 bun test test/conformance/promql-main.test.ts\`;
 * promql-main.test.ts fails when an eval fails outside this list or passes inside it.
 */
export const KNOWN_FAILURES: ReadonlyMap<string, string> = new Map([
${rows.join("\n")}
]);
`;
  writeFileSync(join(import.meta.dir, "promql-main.known.ts"), text);
}

describe.skipIf(!present)("the same 3.x scripts over the TSDB", () => {
  test("every eval passes or is a known failure with the data in a Tsdb", async () => {
    const root = mkdtempSync(join(tmpdir(), "gleaner-promql-main-"));
    const newStore = tsdbStores(root);
    try {
      const unlisted: string[] = [];
      const stale: string[] = [];
      let passed = 0;
      let total = 0;
      for (const file of files) {
        const outcomes = await runScript3x(readFileSync(join(DIR, file), "utf8"), file, newStore);
        total += outcomes.length;
        passed += outcomes.filter((o) => o.ok).length;
        const a = audit(file, outcomes);
        unlisted.push(...a.unlisted);
        stale.push(...a.stale);
      }
      console.log(`over the Tsdb: ${passed}/${total} evals pass`);
      if (process.env.UPDATE_KNOWN_FAILURES === "1") return;
      expect(unlisted).toEqual([]);
      expect(stale).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
