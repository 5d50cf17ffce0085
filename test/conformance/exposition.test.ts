// Every exposition file in the shared test data parses with the format its name implies,
// with sample counts and spot values checked. Expected counts come from the files
// themselves (one sample per non-comment line) or from testdata/README.md.
import { describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createCore } from "../../wasm/index.ts";
import { ExpositionParser, Format, type ParsedSamples, type ParseFailure } from "../../wasm/parser.ts";
import { TESTDATA, withTestdata } from "../support/testdata.ts";

const testdata = TESTDATA;
const root = fileURLToPath(testdata);
const parser = new ExpositionParser(await createCore());

function walk(dir: string): string[] {
  return readdirSync(root + dir)
    .sort()
    .flatMap((n) => (statSync(`${root}${dir}/${n}`).isDirectory() ? walk(`${dir}/${n}`) : [`${dir}/${n}`]));
}

async function read(path: string): Promise<Uint8Array> {
  const bytes = await Bun.file(new URL(path, testdata)).bytes();
  return path.endsWith(".gz") ? Bun.gunzipSync(bytes) : bytes;
}

function formatOf(path: string): Format | null {
  if (path.endsWith(".pb.txt") || path.endsWith(".decoded.txt")) return null;
  if (/\.om\.txt$|\/omcounterdata\.txt$/.test(path)) return Format.OpenMetrics;
  if (/\.pb$|\/protobuf(-multimessage)?(\.gz)?$/.test(path)) return Format.Protobuf;
  if (path.includes("/fuzz-corpus/")) return null;
  return Format.Text;
}

function ok(r: ParsedSamples | ParseFailure): ParsedSamples {
  if (!r.ok) throw new Error(`parse failed at ${r.line}:${r.column}: ${r.reason}`);
  return r;
}

/** Samples in a text body whose label values hold no raw newline: non-blank, non-comment lines. */
function sampleLines(bytes: Uint8Array): number {
  return new TextDecoder()
    .decode(bytes)
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#")).length;
}

withTestdata("the shared exposition corpora", () => {
const files = [...walk("prometheus-textparse"), ...walk("real-exporters"), ...walk("client-libraries")];

describe("text and OpenMetrics files", () => {
  for (const path of files) {
    const format = formatOf(path);
    if (format === null || format === Format.Protobuf) continue;
    test(`${path} parses as ${format === Format.Text ? "Prometheus text" : "OpenMetrics"} with one sample per sample line`, async () => {
      const bytes = await read(path);
      const r = ok(parser.parse(bytes, format));
      expect(r.count).toBe(sampleLines(bytes));
      for (let i = 0; i < r.count; i++) expect(r.labels(i).name.length).toBeGreaterThan(0);
    });
  }
});

test("the real exporters' text captures have the family and sample counts of the README", async () => {
  const expected: Record<string, [number, number]> = {
    "node-exporter": [283, 507],
    pushgateway: [48, 81],
    prometheus: [169, 371],
  };
  for (const [name, [families, samples]] of Object.entries(expected)) {
    const r = ok(parser.parse(await read(`real-exporters/${name}.prom`), Format.Text));
    expect([r.familyCount, r.count]).toEqual([families, samples]);
  }
});

test("node-exporter values are read exactly", async () => {
  const r = ok(parser.parse(await read("real-exporters/node-exporter.prom"), Format.Text));
  const byLine = new Map<number, number>();
  for (let i = 0; i < r.count; i++) byLine.set(r.line[i]!, i);
  expect(r.value[byLine.get(12)!]).toBe(8);
  expect(r.seriesText(byLine.get(93)!)).toBe("node_boot_time_seconds");
  expect(r.value[byLine.get(93)!]).toBe(1.795331505e9);
  expect(r.value[byLine.get(237)!]).toBe(0.65);
});

test("pushgateway special values and escaped label values decode to the pushed originals", async () => {
  const r = ok(parser.parse(await read("real-exporters/pushgateway.prom"), Format.Text));
  const at = (line: number): number => {
    for (let i = 0; i < r.count; i++) if (r.line[i] === line) return i;
    throw new Error(`no sample on line ${line}`);
  };
  expect(r.value[at(26)]).toBeNaN();
  expect(r.value[at(27)]).toBe(-Infinity);
  expect(r.value[at(28)]).toBe(Infinity);
  expect(r.value[at(29)]).toBe(1e-300);
  expect(Object.fromEntries(r.labels(at(33)).labels)).toEqual({
    instance: "worker-1",
    job: "nightly_batch",
    nl: "line1\nline2",
    path: "C:\\Program Files\\app",
    quote: 'say "hi"',
    utf8: "Grüße — 日本語 ✓",
  });
  expect(Object.fromEntries(r.labels(at(32)).labels).nl).toBe("\\n literal");
  const help = r.families().find((f) => f.name === "batch_job_weird_labels")!.help;
  expect(help).toBe('Gauge with tricky label values: quote " backslash \\ newline \n end.');
});

test("the python client's tricky label values decode to the originals in both formats", async () => {
  for (const [file, format] of [
    ["python-custom.prom", Format.Text],
    ["python-custom.om.txt", Format.OpenMetrics],
  ] as const) {
    const r = ok(parser.parse(await read(`client-libraries/prometheus-client-python/generated/${file}`), format));
    const values = new Map<string, string>();
    for (let i = 0; i < r.count; i++) {
      const l = r.labels(i);
      if (l.name !== "app_tricky_labels") continue;
      const m = Object.fromEntries(l.labels);
      values.set(m.kind!, m.value!);
    }
    expect(values.get("backslash")).toBe("C:\\Windows\\System32");
    expect(values.get("newline")).toBe("line1\nline2");
    expect(values.get("mixed")).toBe('a\\"b\nc');
    expect(values.get("trailing_backslash")).toBe("ends with \\");
    expect(values.get("unicode")).toBe("Grüße — 日本語 ✓ 🎉");
    expect(values.get("tab")).toBe("tab\there");
  }
});

test("the python client's OpenMetrics output carries units, exemplars and created samples", async () => {
  const r = ok(parser.parse(await read("client-libraries/prometheus-client-python/generated/python-custom.om.txt"), Format.OpenMetrics, { strict: true }));
  const fam = r.families().find((f) => f.name === "app_temperature_celsius")!;
  expect(fam.unit).toBe("celsius");
  let exemplars = 0;
  for (let i = 0; i < r.count; i++) if (r.exemplarEnd[i]! > r.exemplarStart[i]!) exemplars++;
  expect(exemplars).toBeGreaterThan(0);
  const i = [...Array(r.count).keys()].find((k) => r.seriesText(k) === 'app_requests_total{method="POST",path="/api/v1/write"}')!;
  expect(r.exemplarText(i)).toBe('{span_id="def456",trace_id="abc123"} 3.0 1795331935.1526992');
  expect(r.exemplarValue[i]).toBe(3);
  expect(r.exemplarTimestamp[i]).toBe(1795331935152);
});

test("1histogram.om.txt normalises no le value that is already canonical and keeps 42 samples", async () => {
  const r = ok(parser.parse(await read("prometheus-textparse/1histogram.om.txt"), Format.OpenMetrics, { strict: true }));
  expect(r.count).toBe(42);
});

test("the text and gzip copies of the expfmt text parse to the same samples", async () => {
  const a = ok(parser.parse(await read("prometheus-textparse/common-expfmt/text"), Format.Text));
  const first = Array.from({ length: a.count }, (_, i) => [a.seriesText(i), a.value[i]]);
  const b = ok(parser.parse(await read("prometheus-textparse/common-expfmt/text.gz"), Format.Text));
  expect(Array.from({ length: b.count }, (_, i) => [b.seriesText(i), b.value[i]])).toEqual(first);
  expect(b.familyCount).toBe(37);
});

describe("expfmt fuzz corpus", () => {
  // Prometheus' scrape parser, not Go's client-side TextParser, is our reference (spec §5.2):
  // it does not track HELP/TYPE state, needs no final newline, keeps unknown escapes and
  // raw newlines in label values, and leaves non-float le/quantile values as written.
  const acceptedHere = new Set([
    "from_test_parse_0", "from_test_parse_1", "from_test_parse_2", "from_test_parse_4", "minimal",
    "from_test_parse_error_0", "from_test_parse_error_1", "from_test_parse_error_2", "from_test_parse_error_4",
    "from_test_parse_error_7", "from_test_parse_error_12", "from_test_parse_error_13", "from_test_parse_error_14",
    "from_test_parse_error_19",
  ]);
  for (const path of walk("prometheus-textparse/common-expfmt/fuzz-corpus")) {
    const name = path.slice(path.lastIndexOf("/") + 1);
    const accepted = acceptedHere.has(name);
    test(`${name} is ${accepted ? "accepted" : "rejected"} as Prometheus' scrape parser would`, async () => {
      const r = parser.parse(await read(path), Format.Text);
      expect(r.ok).toBe(accepted);
    });
  }

  test("from_test_parse_3 is rejected at its negative timestamp, which Go's expfmt accepts", async () => {
    const r = parser.parse(await read("prometheus-textparse/common-expfmt/fuzz-corpus/from_test_parse_3"), Format.Text);
    expect(r.ok ? null : [r.line, r.reason]).toEqual([4, "invalid timestamp"]);
  });
});

// ---- protobuf ----

type Node = { [key: string]: (string | Node)[] };

/** Reads protoc's text rendering (`key: value` and `key { … }`) into nested nodes. */
function readProtoText(text: string): Node[] {
  const families: Node[] = [];
  const stack: Node[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("# MetricFamily")) {
      const node: Node = {};
      families.push(node);
      stack.length = 0;
      stack.push(node);
    } else if (line.endsWith("{")) {
      const node: Node = {};
      const top = stack.at(-1)!;
      (top[line.slice(0, -1).trim()] ??= []).push(node);
      stack.push(node);
    } else if (line === "}") {
      stack.pop();
    } else if (line.includes(": ")) {
      const at = line.indexOf(": ");
      const top = stack.at(-1)!;
      (top[line.slice(0, at)] ??= []).push(line.slice(at + 2));
    }
  }
  return families;
}

function protoString(s: string): string {
  const bytes: number[] = [];
  const body = s.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\") {
      bytes.push(...new TextEncoder().encode(c));
      continue;
    }
    const n = body[++i]!;
    if (/[0-7]/.test(n)) {
      bytes.push(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else bytes.push({ n: 10, t: 9, r: 13 }[n as "n"] ?? n.charCodeAt(0));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

function protoNumber(s: string): number {
  return s === "nan" ? NaN : s === "inf" ? Infinity : s === "-inf" ? -Infinity : Number(s);
}

/** Expected samples of a decoded protobuf stream: key (name + sorted labels) → value. */
function expectedFromProtoText(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const str = (n: Node, k: string): string => protoString(n[k]![0] as string);
  const num = (n: Node | undefined, k: string): number => (n?.[k] ? protoNumber(n[k]![0] as string) : 0);
  for (const fam of readProtoText(text)) {
    const name = str(fam, "name");
    const type = (fam.type?.[0] as string | undefined) ?? "COUNTER";
    for (const m of (fam.metric ?? []) as Node[]) {
      const labels: [string, string][] = ((m.label ?? []) as Node[]).map((l) => [str(l, "name"), l.value ? str(l, "value") : ""]);
      const put = (n: string, v: number, extra?: [string, string]): void => {
        const all = extra ? [...labels, extra] : labels;
        out.set(`${n}${JSON.stringify(all.sort())}`, v);
      };
      const sub = (k: string): Node | undefined => (m[k]?.[0] as Node | undefined);
      if (type === "GAUGE") put(name, num(sub("gauge"), "value"));
      else if (type === "COUNTER") put(name, num(sub("counter"), "value"));
      else if (type === "UNTYPED") put(name, num(sub("untyped"), "value"));
      else if (type === "SUMMARY") {
        const s = sub("summary");
        put(`${name}_count`, num(s, "sample_count"));
        put(`${name}_sum`, num(s, "sample_sum"));
        for (const q of (s?.quantile ?? []) as Node[]) put(name, num(q, "value"), ["quantile", parser.formatFloat(num(q, "quantile"))]);
      } else if (type === "HISTOGRAM") {
        const h = sub("histogram");
        put(`${name}_count`, num(h, "sample_count"));
        put(`${name}_sum`, num(h, "sample_sum"));
        let inf = false;
        for (const b of (h?.bucket ?? []) as Node[]) {
          put(`${name}_bucket`, num(b, "cumulative_count"), ["le", parser.formatFloat(num(b, "upper_bound"))]);
          inf = num(b, "upper_bound") === Infinity;
        }
        if (!inf) put(`${name}_bucket`, num(h, "sample_count"), ["le", "+Inf"]);
      }
    }
  }
  return out;
}

function actualSamples(r: ParsedSamples): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < r.count; i++) {
    const l = r.labels(i);
    out.set(`${l.name}${JSON.stringify(l.labels.sort())}`, r.value[i]!);
  }
  return out;
}

describe("protobuf files", () => {
  const pairs: [string, string][] = [
    ["real-exporters/node-exporter.pb", "real-exporters/node-exporter.pb.txt"],
    ["real-exporters/pushgateway.pb", "real-exporters/pushgateway.pb.txt"],
    ["real-exporters/prometheus.pb", "real-exporters/prometheus.pb.txt"],
    ["prometheus-textparse/common-expfmt/protobuf", "prometheus-textparse/common-expfmt/protobuf.decoded.txt"],
    ["prometheus-textparse/common-expfmt/protobuf.gz", "prometheus-textparse/common-expfmt/protobuf.decoded.txt"],
    ["prometheus-textparse/common-expfmt/protobuf-multimessage", "prometheus-textparse/common-expfmt/protobuf-multimessage.decoded.txt"],
  ];
  for (const [pb, decoded] of pairs) {
    test(`${pb} parses to the samples of its protoc rendering ${decoded.slice(decoded.lastIndexOf("/") + 1)}`, async () => {
      const r = ok(parser.parse(await read(pb), Format.Protobuf));
      const expected = expectedFromProtoText(await Bun.file(new URL(decoded, testdata)).text());
      const actual = actualSamples(r);
      expect(actual.size).toBe(r.count);
      expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [k, v] of expected) expect([k, actual.get(k)]).toEqual([k, v]);
    });
  }

  test("the real exporters' protobuf captures hold the same series as their text captures", async () => {
    for (const name of ["node-exporter", "pushgateway", "prometheus"]) {
      const pb = ok(parser.parse(await read(`real-exporters/${name}.pb`), Format.Protobuf));
      const pbKeys = [...actualSamples(pb).keys()].sort();
      const text = ok(parser.parse(await read(`real-exporters/${name}.prom`), Format.Text));
      expect(pbKeys).toEqual([...actualSamples(text).keys()].sort());
    }
  });

  test("the expfmt protobuf stream and its text twin give the same samples and series bytes", async () => {
    const pb = ok(parser.parse(await read("prometheus-textparse/common-expfmt/protobuf"), Format.Protobuf));
    const pbMap = actualSamples(pb);
    const pbSeries = new Set(Array.from({ length: pb.count }, (_, i) => pb.seriesText(i)));
    const text = ok(parser.parse(await read("prometheus-textparse/common-expfmt/text"), Format.Text));
    expect(pbMap).toEqual(actualSamples(text));
    let same = 0;
    for (let i = 0; i < text.count; i++) if (pbSeries.has(text.seriesText(i))) same++;
    expect(same).toBe(text.count);
  });

  test("protobuf families carry help, type and the MetricFamily index as their samples' line", async () => {
    const r = ok(parser.parse(await read("prometheus-textparse/common-expfmt/protobuf-multimessage"), Format.Protobuf));
    expect(r.families().map((f) => [f.name, f.type])).toEqual([
      ["swap_free", 2], ["swap_in", 1], ["swap_out", 1], ["swap_total", 2], ["swap_used", 2], ["swap_used_percent", 2],
    ]);
    expect(r.families()[0]!.help).toBe("Telegraf collected metric");
    expect(Array.from(r.line)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.seriesText(0)).toBe('swap_free{host="omsk"}');
  });
});
});
