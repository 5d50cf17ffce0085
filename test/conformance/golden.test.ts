// Golden files: the expected samples of a few inputs as reviewed JSON, checked in under
// golden/. Regenerate with `GOLDEN_UPDATE=1 bun test test/conformance/golden` and review the
// diff by hand: the files are the reference, not the parser.
import { expect, test } from "bun:test";
import * as abi from "../../wasm/assembly/abi.ts";
import { createCore } from "../../wasm/index.ts";
import { ExpositionParser, Format, type ParsedSamples } from "../../wasm/parser.ts";
import { TESTDATA, withTestdata } from "../support/testdata.ts";

const testdata = TESTDATA;
const parser = new ExpositionParser(await createCore());

const KIND_NAMES: Record<number, string> = {
  [abi.KIND_UNTYPED]: "untyped", [abi.KIND_COUNTER]: "counter", [abi.KIND_GAUGE]: "gauge",
  [abi.KIND_HISTOGRAM_BUCKET]: "histogram_bucket", [abi.KIND_HISTOGRAM_SUM]: "histogram_sum",
  [abi.KIND_HISTOGRAM_COUNT]: "histogram_count", [abi.KIND_SUMMARY_QUANTILE]: "summary_quantile",
  [abi.KIND_SUMMARY_SUM]: "summary_sum", [abi.KIND_SUMMARY_COUNT]: "summary_count",
  [abi.KIND_GAUGEHISTOGRAM_BUCKET]: "gaugehistogram_bucket", [abi.KIND_GAUGEHISTOGRAM_GSUM]: "gaugehistogram_gsum",
  [abi.KIND_GAUGEHISTOGRAM_GCOUNT]: "gaugehistogram_gcount", [abi.KIND_INFO]: "info",
  [abi.KIND_STATESET]: "stateset", [abi.KIND_CREATED]: "created",
};
const TYPE_NAMES = ["unknown", "counter", "gauge", "histogram", "summary", "gaugehistogram", "info", "stateset"];

function num(v: number): number | string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (Object.is(v, -0)) return "-0";
  return v;
}

function golden(r: ParsedSamples): unknown {
  const samples = [];
  for (let i = 0; i < r.count; i++) {
    const l = r.labels(i);
    const s: Record<string, unknown> = {
      line: r.line[i],
      series: r.seriesText(i),
      name: l.name,
      labels: Object.fromEntries(l.labels),
      value: num(r.value[i]!),
      kind: KIND_NAMES[r.kind[i]!],
    };
    if (r.hasTimestamp(i)) s.timestamp = r.timestamp[i];
    if (r.flags[i]! & abi.SAMPLE_HAS_EXEMPLAR) {
      s.exemplar = { text: r.exemplarText(i), value: num(r.exemplarValue[i]!) };
      if (r.flags[i]! & abi.SAMPLE_EXEMPLAR_HAS_TIMESTAMP) (s.exemplar as Record<string, unknown>).timestamp = r.exemplarTimestamp[i];
    }
    samples.push(s);
  }
  const families = r.families().map((f) => ({ ...f, type: TYPE_NAMES[f.type] }));
  return { families, samples };
}

const cases: [string, string, Format][] = [
  ["om-escaping", "openmetrics-suite/escaping/metrics", Format.OpenMetrics],
  ["om-alltypes-5mfs", "prometheus-textparse/alltypes.5mfs.om.txt", Format.OpenMetrics],
  ["om-python-custom", "client-libraries/prometheus-client-python/generated/python-custom.om.txt", Format.OpenMetrics],
  ["text-prometheus-net-histogram", "client-libraries/prometheus-net/upstream-expected/ValidateTextFmtHistogramExposition_Labels.prom", Format.Text],
  ["text-expfmt-fuzz-parse-4", "prometheus-textparse/common-expfmt/fuzz-corpus/from_test_parse_4", Format.Text],
  ["text-pushgateway", "real-exporters/pushgateway.prom", Format.Text],
  ["protobuf-pushgateway", "real-exporters/pushgateway.pb", Format.Protobuf],
  ["protobuf-multimessage", "prometheus-textparse/common-expfmt/protobuf-multimessage", Format.Protobuf],
];

withTestdata("golden parses of the shared corpora", () => {
for (const [name, path, format] of cases) {
  test(`${path} parses to the samples in golden/${name}.json`, async () => {
    const r = parser.parse(await Bun.file(new URL(path, testdata)).bytes(), format);
    if (!r.ok) throw new Error(`parse failed at ${r.line}:${r.column}: ${r.reason}`);
    const actual = golden(r);
    const file = Bun.file(new URL(`golden/${name}.json`, import.meta.url));
    if (process.env.GOLDEN_UPDATE === "1") await Bun.write(file, `${JSON.stringify({ input: path, ...(actual as object) }, null, 1)}\n`);
    const expected = (await file.json()) as { input: string };
    expect({ input: path, ...(actual as object) }).toEqual(expected);
  });
}
});
