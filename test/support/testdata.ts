/**
 * Where the shared test corpora live: `../shared/testdata` beside the project root, or
 * `GLEANER_TESTDATA`. A plain clone does not have them: the suites that read them are then
 * skipped (wrap them in `withTestdata`), with one line saying how to point at the corpora —
 * except under CI=true, where a missing corpus is a failure.
 */
import { describe, test } from "bun:test";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const TESTDATA_DIR = resolve(process.env.GLEANER_TESTDATA ?? resolve(import.meta.dir, "../../../shared/testdata"));

/** The corpora folder as a file URL ending in "/", for `new URL(relative, TESTDATA)`. */
export const TESTDATA = pathToFileURL(`${TESTDATA_DIR}/`);

/** Why the corpora cannot be read, or null when they are there. */
export const TESTDATA_MISSING: string | null = existsSync(TESTDATA_DIR)
  ? null
  : `The shared test corpora are not at ${TESTDATA_DIR}: check gleaner out beside shared/ (as ../shared/testdata) or set GLEANER_TESTDATA to their folder.`;

if (TESTDATA_MISSING !== null) {
  if (process.env.CI === "true") throw new Error(`${TESTDATA_MISSING} (CI=true: the corpus suites must run)`);
  console.warn(`Skipping the suites that read the shared test corpora. ${TESTDATA_MISSING}`);
}

/**
 * describe(), or one skipped test when the corpora are missing: `body` runs only when they
 * are there (bun runs the body of a skipped describe), so it may read them to register tests.
 */
export function withTestdata(name: string, body: () => void): void {
  if (TESTDATA_MISSING === null) describe(name, body);
  else test.skip(`${name} (the shared test corpora are missing)`, () => {});
}
