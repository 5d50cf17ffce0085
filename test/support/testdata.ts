/**
 * Where the shared test corpora live: `../shared/testdata` beside the project root, or
 * `GLEANER_TESTDATA`. The conformance suites cannot run without them, so a missing
 * folder is an error that says what to do, not a pile of ENOENTs.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const TESTDATA_DIR = resolve(process.env.GLEANER_TESTDATA ?? resolve(import.meta.dir, "../../../shared/testdata"));

if (!existsSync(TESTDATA_DIR)) {
  throw new Error(`The shared test corpora are not at ${TESTDATA_DIR}: check out gleaner beside shared/ (as ../shared/testdata) or set GLEANER_TESTDATA to their folder.`);
}

/** The corpora folder as a file URL ending in "/", for `new URL(relative, TESTDATA)`. */
export const TESTDATA = pathToFileURL(`${TESTDATA_DIR}/`);
