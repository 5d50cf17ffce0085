// The OpenMetrics parser conformance suite (shared/testdata/openmetrics-suite/): one test per
// case folder; a case passes when the strict OpenMetrics parse succeeds exactly when
// test.json says `shouldParse`.
import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createCore } from "../../wasm/index.ts";
import { ExpositionParser, Format } from "../../wasm/parser.ts";
import { TESTDATA, withTestdata } from "../support/testdata.ts";

const suite = new URL("openmetrics-suite/", TESTDATA);
const parser = new ExpositionParser(await createCore());

interface Case {
  type: string;
  file: string;
  shouldParse: boolean;
}

withTestdata("the OpenMetrics conformance suite", () => {
for (const name of readdirSync(fileURLToPath(suite)).sort()) {
  test(name, async () => {
    const spec = (await Bun.file(new URL(`${name}/test.json`, suite)).json()) as Case;
    const body = await Bun.file(new URL(`${name}/${spec.file}`, suite)).bytes();
    const r = parser.parse(body, Format.OpenMetrics, { strict: true });
    const outcome = r.ok ? "parsed" : `rejected at ${r.line}:${r.column} (${r.reason})`;
    expect(outcome === "parsed").toBe(spec.shouldParse);
  });
}
});
