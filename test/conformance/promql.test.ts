/**
 * Prometheus 2.42's own PromQL test scripts (shared/testdata/promql/v2.42.0) run through
 * gleaner's engine: every eval as an instant query and as a range query's middle step.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../core/log/logger.ts";
import { Registry } from "../../core/metrics/registry.ts";
import { Tsdb } from "../../storage/tsdb/index.ts";
import { runScript, type EvalOutcome, type StoreFactory } from "./promql-script.ts";

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

describe("the same scripts over the TSDB's columnar read path", () => {
  test("every eval passes with the data in a Tsdb (head chunks, XOR decode in WASM)", async () => {
    const root = mkdtempSync(join(tmpdir(), "gleaner-promql-conf-"));
    let n = 0;
    const newStore: StoreFactory = () =>
      Tsdb.open({ dir: join(root, String(n++)), retentionMs: 0, retentionBytes: 0, registry: new Registry(), log: createLogger({ level: "error", format: "logfmt", write: () => {} }), flushIntervalMs: 3_600_000, now: () => Number.MAX_SAFE_INTEGER / 4 });
    try {
      const failures: string[] = [];
      let total = 0;
      for (const file of files) {
        const outcomes = await runScript(readFileSync(join(DIR, file), "utf8"), newStore);
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
