import { describe, expect, test } from "bun:test";
import * as abi from "./assembly/abi.ts";
import { createCore } from "./index.ts";
import { ExpositionParser, Format, type ParseFailure, type ParsedSamples } from "./parser.ts";

const core = await createCore();
const parser = new ExpositionParser(core);
const enc = new TextEncoder();

function run(src: string | Uint8Array, format: Format = Format.Text, strict = false): ParsedSamples | ParseFailure {
  return parser.parse(typeof src === "string" ? enc.encode(src) : src, format, { strict });
}

interface Row {
  series: string;
  value: number;
  ts?: number;
  kind: number;
}

function rows(src: string, format: Format = Format.Text, strict = false): Row[] {
  const r = run(src, format, strict);
  if (!r.ok) throw new Error(`unexpected error at ${r.line}:${r.column}: ${r.reason}`);
  return Array.from({ length: r.count }, (_, i) => {
    const row: Row = { series: r.seriesText(i), value: r.value[i]!, kind: r.kind[i]! };
    if (r.hasTimestamp(i)) row.ts = r.timestamp[i]!;
    return row;
  });
}

function fails(src: string, format: Format = Format.Text, strict = false): [number, number, number] {
  const r = run(src, format, strict);
  if (r.ok) throw new Error(`expected an error, got ${r.count} samples`);
  return [r.code, r.line, r.column];
}

const om = Format.OpenMetrics;

describe("float parsing", () => {
  test("valid decimals are bit-identical to Number() over random doubles and digit strings", () => {
    const f64 = new Float64Array(1);
    const u32 = new Uint32Array(f64.buffer);
    let state = 12345;
    const rnd = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state;
    };
    for (let i = 0; i < 20000; i++) {
      u32[0] = rnd();
      u32[1] = rnd();
      const x = f64[0]!;
      if (!Number.isFinite(x)) continue;
      for (const s of [String(x), x.toPrecision(17), x.toExponential(rnd() % 20), x.toPrecision(25)]) {
        expect(Object.is(parser.parseFloat(s), Number(s))).toBe(true);
      }
    }
    for (const s of ["0.013300656000000001", "9007199254740993", "2.2250738585072011e-308", "4.9e-324", "2.4703282292062328e-324", "1.7976931348623157e308", "123456789012345678901234567890e-10", "0.1", "1e23", "8.98846567431158e307"]) {
      expect(Object.is(parser.parseFloat(s), Number(s))).toBe(true);
    }
  });

  test("Go's special forms are accepted: inf, infinity and nan in any case, .5, 5., +5, 1E5 and leading zeros", () => {
    expect(parser.parseFloat("+Inf")).toBe(Infinity);
    expect(parser.parseFloat("-inf")).toBe(-Infinity);
    expect(parser.parseFloat("INFINITY")).toBe(Infinity);
    expect(parser.parseFloat("Nan")).toBeNaN();
    expect(parser.parseFloat(".5")).toBe(0.5);
    expect(parser.parseFloat("5.")).toBe(5);
    expect(parser.parseFloat("+5")).toBe(5);
    expect(parser.parseFloat("1E5")).toBe(1e5);
    expect(parser.parseFloat("007")).toBe(7);
    expect(Object.is(parser.parseFloat("-0"), -0)).toBe(true);
  });

  test("hex floats, digit separators, signed NaN and junk are syntax errors", () => {
    for (const s of ["0x1p-3", "0x1", "1_000", "+NaN", "-nan", "infin", "1e", "1e+", ".", "", " 1", "1 ", "0b1", "0o1", "1.2.3", "--1"]) {
      expect(() => parser.parseFloat(s)).toThrow(SyntaxError);
    }
  });

  test("random strings are accepted exactly when they match Go's decimal syntax, with Number()'s value", () => {
    const alphabet = "0123456789..eE+-_xpnaif ";
    const decimal = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
    let state = 99;
    const rnd = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    for (let i = 0; i < 30000; i++) {
      let s = "";
      const len = 1 + rnd(12);
      for (let k = 0; k < len; k++) s += alphabet[rnd(alphabet.length)];
      let v: number | Error;
      try {
        v = parser.parseFloat(s);
      } catch (err) {
        v = err as Error;
      }
      if (decimal.test(s)) {
        const n = Number(s);
        if (Number.isFinite(n)) expect([s, v]).toEqual([s, n]);
        else expect(v).toBeInstanceOf(RangeError);
      } else if (!/^([+-]?(inf|infinity)|nan)$/i.test(s)) {
        expect([s, v instanceof SyntaxError]).toEqual([s, true]);
      }
    }
  });

  test("overflow is a range error while underflow becomes zero", () => {
    expect(() => parser.parseFloat("1e400")).toThrow(RangeError);
    expect(() => parser.parseFloat("-1.8e308")).toThrow(RangeError);
    expect(parser.parseFloat("1e-400")).toBe(0);
  });
});

describe("canonical le/quantile formatting", () => {
  test("values are printed as Go %g shortest with .0 added as Prometheus does", () => {
    const cases: [number, string][] = [
      [1, "1.0"], [0, "0.0"], [1e6, "1e+06"], [123456789, "1.23456789e+08"], [100000, "100000.0"],
      [0.0001, "0.0001"], [0.00001, "1e-05"], [0.5, "0.5"], [Infinity, "+Inf"], [-Infinity, "-Inf"],
      [NaN, "NaN"], [0.1 + 0.2, "0.30000000000000004"], [5e-324, "5e-324"], [1e21, "1e+21"], [-2.5, "-2.5"],
    ];
    for (const [v, s] of cases) expect(parser.formatFloat(v)).toBe(s);
  });

  test("histogram le values are rewritten in the series bytes when not canonical", () => {
    const src = '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{a="b",le="1000000"} 2\nh_bucket{le="0.5"} 3\nh_bucket{le="+inf"} 4\n';
    expect(rows(src).map((r) => r.series)).toEqual(['h_bucket{le="1.0"}', 'h_bucket{a="b",le="1e+06"}', 'h_bucket{le="0.5"}', 'h_bucket{le="+Inf"}']);
  });

  test("summary quantile values are rewritten, non-floats are kept, and other types are untouched", () => {
    const src = '# TYPE s summary\ns{quantile="0"} 1\ns{quantile="x"} 2\n# TYPE u untyped\nu_bucket{le="1"} 3\n';
    expect(rows(src).map((r) => r.series)).toEqual(['s{quantile="0.0"}', 's{quantile="x"}', 'u_bucket{le="1"}']);
    const gh = '# TYPE g gaugehistogram\ng_bucket{le="1"} 1\ng_bucket{le="+Inf"} 1\ng_gcount 1\ng_gsum 1\n# EOF\n';
    expect(rows(gh, om)[0]!.series).toBe('g_bucket{le="1"}');
  });

  test("labels() of a rewritten series returns the canonical value", () => {
    const r = run('# TYPE h histogram\nh_bucket{le="10"} 1\n') as ParsedSamples;
    expect(r.labels(0)).toEqual({ name: "h_bucket", labels: [["le", "10.0"]] });
  });
});

describe("Prometheus text format", () => {
  test("samples carry name, labels, value, optional millisecond timestamp and their line", () => {
    const r = run('# HELP a Help.\n# TYPE a counter\na{x="1"} 3 1700000000000\n\n  b 4.5\n') as ParsedSamples;
    expect(r.count).toBe(2);
    expect([r.seriesText(0), r.value[0], r.timestamp[0], r.hasTimestamp(0), r.line[0], r.kind[0]]).toEqual(['a{x="1"}', 3, 1700000000000, true, 3, abi.KIND_COUNTER]);
    expect([r.seriesText(1), r.value[1], r.hasTimestamp(1), r.line[1], r.kind[1]]).toEqual(["b", 4.5, false, 5, abi.KIND_UNTYPED]);
  });

  test("NaN and ±Inf values are accepted in any case", () => {
    const v = rows("a NaN\nb +Inf\nc -Inf\nd Nan\ne inf\n").map((r) => r.value);
    expect(v[0]).toBeNaN();
    expect(v.slice(1, 3)).toEqual([Infinity, -Infinity]);
    expect(v[3]).toBeNaN();
    expect(v[4]).toBe(Infinity);
  });

  test("a CRLF line ending is rejected with its line and column", () => {
    expect(fails("a 1\nb 2\r\n")).toEqual([abi.PARSE_ERR_CARRIAGE_RETURN, 2, 4]);
    expect(fails("a 1 123\r\n")).toEqual([abi.PARSE_ERR_CARRIAGE_RETURN, 1, 8]);
    expect(fails("# TYPE a counter\r\n")).toEqual([abi.PARSE_ERR_CARRIAGE_RETURN, 1, 17]);
  });

  test("a negative timestamp is rejected", () => {
    expect(fails("a 1 -5\n")).toEqual([abi.PARSE_ERR_INVALID_TIMESTAMP, 1, 5]);
  });

  test("a non-integer or overflowing timestamp is rejected", () => {
    expect(fails("a 1 1.5\n")[0]).toBe(abi.PARSE_ERR_INVALID_TIMESTAMP);
    expect(fails("a 1 99999999999999999999\n")[0]).toBe(abi.PARSE_ERR_INVALID_TIMESTAMP);
  });

  test("only blanks may follow the timestamp", () => {
    expect(rows("a 1 2  \t\n")[0]).toEqual({ series: "a", value: 1, ts: 2, kind: 0 });
    expect(fails("a 1 2 3\n")).toEqual([abi.PARSE_ERR_EXPECTED_LINE_END, 1, 7]);
  });

  test("trailing whitespace after the TYPE word fails the scrape, and so does a double space", () => {
    expect(fails("# TYPE a counter \n")[0]).toBe(abi.PARSE_ERR_INVALID_TYPE);
    expect(fails("# TYPE a  counter\n")[0]).toBe(abi.PARSE_ERR_INVALID_TYPE);
    expect(fails("# TYPE a gaugehistogram\n")[0]).toBe(abi.PARSE_ERR_INVALID_TYPE);
    expect(fails("# TYPE a\n")[0]).toBe(abi.PARSE_ERR_INVALID_TYPE);
  });

  test("all five TYPE words are accepted and untyped means unknown", () => {
    const r = run("# TYPE a counter\n# TYPE b gauge\n# TYPE c histogram\n# TYPE d summary\n# TYPE e untyped\n") as ParsedSamples;
    expect(r.families().map((f) => f.type)).toEqual([abi.MTYPE_COUNTER, abi.MTYPE_GAUGE, abi.MTYPE_HISTOGRAM, abi.MTYPE_SUMMARY, abi.MTYPE_UNKNOWN]);
  });

  test("HELP keeps trailing spaces, removes one separator and is unescaped for \\\\ and \\n only", () => {
    const r = run('# HELP a  two spaces \\\\ \\n \\" end \n#\tHELP b\n') as ParsedSamples;
    expect(r.families()).toEqual([
      { name: "a", type: 0, help: ' two spaces \\ \n \\" end ', unit: "" },
      { name: "b", type: 0, help: "", unit: "" },
    ]);
  });

  test("comments, #HELP without a space, # EOF and # UNIT are ignored", () => {
    expect(rows("#HELP a x\n# EOF\n# UNIT a s\n# just a comment\na 1\n")).toHaveLength(1);
    expect(run("#HELP a x\n# UNIT a s\n").ok && (run("#HELP a x\n") as ParsedSamples).familyCount).toBe(0);
  });

  test("blank lines, leading blanks, tabs between tokens and a missing final newline are allowed", () => {
    expect(rows('\n\n \t a \t { x = "1" , y="2" , } \t 7 \t 8')).toEqual([{ series: 'a \t { x = "1" , y="2" , }', value: 7, ts: 8, kind: 0 }]);
  });

  test("commas between labels may be left out and {} is allowed", () => {
    expect(rows('a{x="1" y="2"} 1\nb{} 2\n').map((r) => r.series)).toEqual(['a{x="1" y="2"}', "b{}"]);
  });

  test("label values keep unknown escapes and may hold raw newlines, which advance the line count", () => {
    const r = run('a{x="\\t\\q"} 1\nb{x="line1\nline2"} 2\nc 3\n') as ParsedSamples;
    expect(r.labels(0).labels).toEqual([["x", "\\t\\q"]]);
    expect(r.labels(1).labels).toEqual([["x", "line1\nline2"]]);
    expect(Array.from(r.line)).toEqual([1, 2, 4]);
  });

  test("single quotes, unquoted values and bad label names are rejected with their column", () => {
    expect(fails("a{x='1'} 1\n")).toEqual([abi.PARSE_ERR_EXPECTED_LABEL_VALUE, 1, 5]);
    expect(fails("a{x=1} 1\n")).toEqual([abi.PARSE_ERR_EXPECTED_LABEL_VALUE, 1, 5]);
    expect(fails('a{@="1"} 1\n')).toEqual([abi.PARSE_ERR_LABEL_NAME, 1, 3]);
    expect(fails('a{x+="1"} 1\n')).toEqual([abi.PARSE_ERR_EXPECTED_EQUALS, 1, 4]);
    expect(fails('a{x="1"\n')).toEqual([abi.PARSE_ERR_EXPECTED_COMMA_OR_BRACE, 1, 8]);
    expect(fails('a{x="1} 1\n')).toEqual([abi.PARSE_ERR_UNTERMINATED_STRING, 1, 5]);
  });

  test("invalid UTF-8 in a label value or HELP text is rejected", () => {
    const bad = new Uint8Array([...enc.encode('a{x="'), 0xff, ...enc.encode('"} 1\n')]);
    expect(run(bad)).toMatchObject({ ok: false, code: abi.PARSE_ERR_INVALID_UTF8 });
    const help = new Uint8Array([...enc.encode("# HELP a "), 0xc3, 0x28, 10]);
    expect(run(help)).toMatchObject({ ok: false, code: abi.PARSE_ERR_INVALID_UTF8 });
  });

  test("a NUL byte at the start of a line ends the input without error, while NUL inside values is kept", () => {
    expect(rows("a 1\n\0b 2\nthis is not parsed\n")).toHaveLength(1);
    const r = run('a{x="a\0b"} 1\n# HELP h x\0y\n') as ParsedSamples;
    expect(r.labels(0).labels).toEqual([["x", "a\0b"]]);
  });

  test("bad metric names, missing values and invalid floats are rejected", () => {
    expect(fails("0a 1\n")).toEqual([abi.PARSE_ERR_METRIC_NAME, 1, 1]);
    expect(fails("a\n")).toEqual([abi.PARSE_ERR_EXPECTED_VALUE, 1, 2]);
    expect(fails("a 0x1p-3\n")).toEqual([abi.PARSE_ERR_INVALID_VALUE, 1, 3]);
    expect(fails("a 1_000\n")).toEqual([abi.PARSE_ERR_INVALID_VALUE, 1, 3]);
    expect(fails("a 1e400\n")).toEqual([abi.PARSE_ERR_VALUE_RANGE, 1, 3]);
  });

  test("a quoted metric name inside the braces is accepted once (UTF-8 names)", () => {
    const r = run('{"my.metric", "label.name"="v"} 1\n# HELP "my.metric" help\n') as ParsedSamples;
    expect(r.labels(0)).toEqual({ name: "my.metric", labels: [["label.name", "v"]] });
    expect(r.families()[0]!.name).toBe("my.metric");
    expect(fails('a{"b"} 1\n')[0]).toBe(abi.PARSE_ERR_NAME_ALREADY_SET);
    expect(fails('{"a", "b"} 1\n')[0]).toBe(abi.PARSE_ERR_NAME_ALREADY_SET);
    expect(fails('{x="1"} 1\n')[0]).toBe(abi.PARSE_ERR_METRIC_NAME);
  });

  test("sample kinds follow the TYPE of the family the sample name belongs to", () => {
    const src = "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\nh_created 1\n# TYPE s summary\ns 1\ns_sum 1\ns_count 1\n# TYPE c counter\nc 1\nc_total 1\n# TYPE g gauge\ng 1\nother 1\n";
    expect(rows(src).map((r) => r.kind)).toEqual([
      abi.KIND_HISTOGRAM_BUCKET, abi.KIND_HISTOGRAM_SUM, abi.KIND_HISTOGRAM_COUNT, abi.KIND_CREATED,
      abi.KIND_SUMMARY_QUANTILE, abi.KIND_SUMMARY_SUM, abi.KIND_SUMMARY_COUNT,
      abi.KIND_COUNTER, abi.KIND_COUNTER, abi.KIND_GAUGE, abi.KIND_UNTYPED,
    ]);
  });

  test("samples point at their family record, or -1", () => {
    const r = run("# HELP a x\n# TYPE a gauge\na 1\nb 2\n") as ParsedSamples;
    expect(Array.from(r.family)).toEqual([0, -1]);
  });

  test("repeated HELP/TYPE lines and TYPE after samples are accepted, as Prometheus does", () => {
    expect(rows("# TYPE a gauge\n# TYPE a gauge\na 1\n# HELP a x\n# HELP a y\n")).toHaveLength(1);
  });

  test("results are reused: a second parse replaces the first and buffers grow for large bodies", () => {
    const big = Array.from({ length: 5000 }, (_, i) => `m{i="${i}",le="${i}"} ${i}`).join("\n");
    const r = run(`# TYPE m histogram\n${big}\n`) as ParsedSamples;
    expect(r.count).toBe(5000);
    expect(r.seriesText(4999)).toBe('m{i="4999",le="4999"}');
    expect(r.value[4999]).toBe(4999);
    expect(rows("x 1\n")).toEqual([{ series: "x", value: 1, kind: 0 }]);
  });
});

describe("OpenMetrics text format", () => {
  test("timestamps are float seconds truncated toward zero to milliseconds, and may be negative", () => {
    expect(rows("a 1 1.5\nb 1 -1.0005\nc 1 1.9999\nd 1 1e3\n# EOF\n", om).map((r) => r.ts)).toEqual([1500, -1000, 1999, 1000000]);
  });

  test("NaN or infinite timestamps are rejected", () => {
    expect(fails("a 1 NaN\n# EOF\n", om)).toEqual([abi.PARSE_ERR_INVALID_TIMESTAMP, 1, 5]);
    expect(fails("a 1 +Inf\n# EOF\n", om)[0]).toBe(abi.PARSE_ERR_INVALID_TIMESTAMP);
  });

  test("the body must end with # EOF, optionally followed by a single newline", () => {
    expect(rows("a 1\n# EOF", om)).toHaveLength(1);
    expect(fails("a 1\n", om)).toEqual([abi.PARSE_ERR_NO_EOF, 2, 1]);
    expect(fails("a 1\n# EOF\n\n", om)).toEqual([abi.PARSE_ERR_DATA_AFTER_EOF, 3, 1]);
    expect(fails("a 1\n# EOF\nb 1\n", om)[0]).toBe(abi.PARSE_ERR_DATA_AFTER_EOF);
  });

  test("whitespace is strict: no blank lines, tabs, leading or trailing spaces, or double spaces", () => {
    expect(fails("a 1\n\n# EOF\n", om)).toEqual([abi.PARSE_ERR_BLANK_LINE, 2, 1]);
    expect(fails(" a 1\n# EOF\n", om)[0]).toBe(abi.PARSE_ERR_METRIC_NAME);
    expect(fails("a\t1\n# EOF\n", om)[0]).toBe(abi.PARSE_ERR_EXPECTED_VALUE);
    expect(fails("a 1 \n# EOF\n", om)[0]).toBe(abi.PARSE_ERR_INVALID_TIMESTAMP);
    expect(fails("a  1\n# EOF\n", om)[0]).toBe(abi.PARSE_ERR_EXPECTED_VALUE);
    expect(fails('a{x="1", y="2"} 1\n# EOF\n', om)[0]).toBe(abi.PARSE_ERR_LABEL_NAME);
  });

  test("only HELP, TYPE, UNIT and EOF comments are allowed", () => {
    expect(fails("# random\n# EOF\n", om)).toEqual([abi.PARSE_ERR_INVALID_COMMENT, 1, 1]);
    expect(fails("#HELP a x\n# EOF\n", om)[0]).toBe(abi.PARSE_ERR_INVALID_COMMENT);
  });

  test("metadata needs its text: HELP and UNIT may be empty but not missing", () => {
    const r = run("# HELP a \n# UNIT a \n# EOF\n", om) as ParsedSamples;
    expect(r.families()).toEqual([{ name: "a", type: 0, help: "", unit: "" }]);
    expect(fails("# HELP a\n# EOF\n", om)).toEqual([abi.PARSE_ERR_INVALID_METADATA, 1, 9]);
  });

  test("HELP unescapes \\\\, \\\" and \\n", () => {
    const r = run('# HELP a x\\\\y\\"z\\n\n# EOF\n', om) as ParsedSamples;
    expect(r.families()[0]!.help).toBe('x\\y"z\n');
  });

  test("TYPE takes the eight OpenMetrics types and rejects untyped", () => {
    const types = ["counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown"];
    const r = run(types.map((t, i) => `# TYPE m${i} ${t}\n`).join("") + "# EOF\n", om) as ParsedSamples;
    expect(r.families().map((f) => f.type)).toEqual([1, 2, 3, 5, 4, 6, 7, 0]);
    expect(fails("# TYPE a untyped\n# EOF\n", om)).toEqual([abi.PARSE_ERR_INVALID_TYPE, 1, 10]);
  });

  test("a UNIT must be a suffix of the family name", () => {
    expect((run("# UNIT a_seconds seconds\n# EOF\n", om) as ParsedSamples).families()[0]!.unit).toBe("seconds");
    expect(fails("# UNIT a seconds\n# EOF\n", om)).toEqual([abi.PARSE_ERR_UNIT_NOT_SUFFIX, 1, 10]);
    expect(fails("# UNIT aseconds seconds\n# EOF\n", om)[0]).toBe(abi.PARSE_ERR_UNIT_NOT_SUFFIX);
  });

  test("exemplars are recorded with their text, value and timestamp in seconds", () => {
    const r = run('# TYPE a counter\na_total 1 5 # {trace="x"} 0.5 1.25\nb_total 2 # {} 3\n# EOF\n', om) as ParsedSamples;
    expect([r.exemplarText(0), r.exemplarValue[0], r.exemplarTimestamp[0]]).toEqual(['{trace="x"} 0.5 1.25', 0.5, 1250]);
    expect(r.flags[0]).toBe(abi.SAMPLE_HAS_TIMESTAMP | abi.SAMPLE_HAS_EXEMPLAR | abi.SAMPLE_EXEMPLAR_HAS_TIMESTAMP);
    expect([r.exemplarText(1), r.flags[1]]).toEqual(["{} 3", abi.SAMPLE_HAS_EXEMPLAR]);
    expect(r.exemplarText(0) === "" || r.exemplarStart[0]! > r.seriesEnd[0]!).toBe(true);
  });

  test("malformed exemplars are rejected", () => {
    expect(fails("a_total 1 #\n# EOF\n", om)[0]).toBe(abi.PARSE_ERR_INVALID_EXEMPLAR);
    expect(fails("a_total 1 # {} \n# EOF\n", om)[0]).toBe(abi.PARSE_ERR_INVALID_EXEMPLAR);
    expect(fails("a_total 1 # {} 1 NaN\n# EOF\n", om)[0]).toBe(abi.PARSE_ERR_INVALID_EXEMPLAR);
    expect(fails('a_total 1 # {"q"} 1\n# EOF\n', om)[0]).toBe(abi.PARSE_ERR_EXPECTED_EQUALS);
  });

  test("raw newlines in label values are rejected", () => {
    expect(fails('a{x="1\n"} 1\n# EOF\n', om)[0]).toBe(abi.PARSE_ERR_UNTERMINATED_STRING);
  });

  test("a trailing comma in a label set is allowed, as Prometheus does, but not in strict mode", () => {
    expect(rows('a{x="1",} 1\n# EOF\n', om)).toHaveLength(1);
    expect(fails('a{x="1",} 1\n# EOF\n', om, true)[0]).toBe(abi.PARSE_ERR_LABEL_NAME);
  });

  test("sample kinds cover every OpenMetrics type, _created and the counter _total rule", () => {
    const src = [
      "# TYPE c counter", "c_total 1", "c_created 1",
      "# TYPE g gauge", "g 1",
      "# TYPE h histogram", 'h_bucket{le="+Inf"} 1', "h_count 1", "h_sum 1", "h_created 1",
      "# TYPE gh gaugehistogram", 'gh_bucket{le="+Inf"} 1', "gh_gcount 1", "gh_gsum 1",
      "# TYPE s summary", 's{quantile="0.5"} 1', "s_count 1", "s_sum 1",
      "# TYPE i info", 'i_info{v="1"} 1',
      "# TYPE st stateset", 'st{st="a"} 1',
      "# TYPE u unknown", "u 1",
      "# EOF", "",
    ].join("\n");
    expect(rows(src, om, true).map((r) => r.kind)).toEqual([
      abi.KIND_COUNTER, abi.KIND_CREATED, abi.KIND_GAUGE,
      abi.KIND_HISTOGRAM_BUCKET, abi.KIND_HISTOGRAM_COUNT, abi.KIND_HISTOGRAM_SUM, abi.KIND_CREATED,
      abi.KIND_GAUGEHISTOGRAM_BUCKET, abi.KIND_GAUGEHISTOGRAM_GCOUNT, abi.KIND_GAUGEHISTOGRAM_GSUM,
      abi.KIND_SUMMARY_QUANTILE, abi.KIND_SUMMARY_COUNT, abi.KIND_SUMMARY_SUM,
      abi.KIND_INFO, abi.KIND_STATESET, abi.KIND_UNTYPED,
    ]);
    expect(rows("# TYPE c counter\nc 1\n# EOF\n", om)[0]!.kind).toBe(abi.KIND_UNTYPED);
    expect(fails("# TYPE c counter\nc 1\n# EOF\n", om, true)[0]).toBe(abi.PARSE_ERR_CLASHING_NAME);
  });

  test("gaugehistogram le values are not normalised, histogram ones are", () => {
    const src = '# TYPE h histogram\nh_bucket{le="1"} 0\n# TYPE g gaugehistogram\ng_bucket{le="1"} 0\n# EOF\n';
    expect(rows(src, om).map((r) => r.series)).toEqual(['h_bucket{le="1.0"}', 'g_bucket{le="1"}']);
  });
});

describe("OpenMetrics strict validation", () => {
  const strict = (src: string): number => fails(src, om, true)[0];

  test("histogram buckets must be in order, end at +Inf and agree with _count", () => {
    expect(strict('# TYPE a histogram\na_bucket{le="2"} 0\na_bucket{le="1"} 0\na_bucket{le="+Inf"} 0\n# EOF\n')).toBe(abi.PARSE_ERR_INVALID_HISTOGRAM);
    expect(strict('# TYPE a histogram\na_bucket{le="1"} 0\n# EOF\n')).toBe(abi.PARSE_ERR_INVALID_HISTOGRAM);
    expect(strict('# TYPE a histogram\na_bucket{le="+Inf"} 1\na_count 2\na_sum 1\n# EOF\n')).toBe(abi.PARSE_ERR_INVALID_HISTOGRAM);
    expect(strict('# TYPE a histogram\na_bucket{le="+INF"} 1\n# EOF\n')).toBe(abi.PARSE_ERR_INVALID_LABEL_FOR_TYPE);
  });

  test("counter-like values must not be negative or NaN; info is 1 and stateset 0 or 1", () => {
    expect(strict("# TYPE a counter\na_total -1\n# EOF\n")).toBe(abi.PARSE_ERR_INVALID_VALUE_FOR_TYPE);
    expect(strict("# TYPE a summary\na_sum NaN\n# EOF\n")).toBe(abi.PARSE_ERR_INVALID_VALUE_FOR_TYPE);
    expect(strict("# TYPE a info\na_info 2\n# EOF\n")).toBe(abi.PARSE_ERR_INVALID_VALUE_FOR_TYPE);
    expect(strict('# TYPE a stateset\na{a="x"} 0.5\n# EOF\n')).toBe(abi.PARSE_ERR_INVALID_VALUE_FOR_TYPE);
  });

  test("families may not be interleaved or repeated, and metadata comes before samples", () => {
    expect(strict("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n# EOF\n")).toBe(abi.PARSE_ERR_CLASHING_NAME);
    expect(strict("# TYPE a gauge\na 1\n# HELP a x\n# EOF\n")).toBe(abi.PARSE_ERR_METADATA_AFTER_SAMPLES);
    expect(strict("# HELP a x\n# HELP a y\n# EOF\n")).toBe(abi.PARSE_ERR_REPEATED_METADATA);
  });

  test("label groups must be contiguous and their timestamps must not go backwards", () => {
    expect(strict('a{x="1"} 1\na{x="2"} 1\na{x="1"} 1\n# EOF\n')).toBe(abi.PARSE_ERR_INVALID_GROUPING);
    expect(strict("a 1 2\na 1 1\n# EOF\n")).toBe(abi.PARSE_ERR_TIMESTAMP_ORDER);
    expect(strict("a 1\na 1 1\n# EOF\n")).toBe(abi.PARSE_ERR_TIMESTAMP_ORDER);
    expect(rows("a 1 1\na 2 1\n# EOF\n", om, true)).toHaveLength(2);
  });

  test("exemplars are only allowed on counter _total and bucket samples, up to 128 code points", () => {
    expect(strict('# TYPE a gauge\na 1 # {x="y"} 1\n# EOF\n')).toBe(abi.PARSE_ERR_EXEMPLAR_NOT_ALLOWED);
    expect(strict(`# TYPE a counter\na_total 1 # {x="${"y".repeat(128)}"} 1\n# EOF\n`)).toBe(abi.PARSE_ERR_EXEMPLAR_TOO_LONG);
    expect(rows(`# TYPE a counter\na_total 1 # {x="${"☃".repeat(127)}"} 1\n# EOF\n`, om, true)).toHaveLength(1);
  });

  test("duplicate label names are rejected", () => {
    expect(strict('a{x="1",x="2"} 1\n# EOF\n')).toBe(abi.PARSE_ERR_DUPLICATE_LABEL);
  });

  test("units are not allowed on info and stateset families", () => {
    expect(strict("# TYPE a_u info\n# UNIT a_u u\n# EOF\n")).toBe(abi.PARSE_ERR_UNIT_NOT_ALLOWED);
  });
});

describe("labels()", () => {
  test("unescapes \\\\, \\\" and \\n in label values and keeps other escapes", () => {
    const r = run('a{x="a\\\\b\\"c\\nd\\te"} 1\n') as ParsedSamples;
    expect(r.labels(0).labels).toEqual([["x", 'a\\b"c\nd\\te']]);
  });

  test("reports duplicate label names as a SyntaxError, for the scrape to fail as the TSDB would", () => {
    const r = run('a{x="1",x="2"} 1\n') as ParsedSamples;
    expect(() => r.labels(0)).toThrow(SyntaxError);
  });

  test("views stay readable after labels() grows memory", () => {
    const long = "v".repeat(3 << 20);
    const r = run(`a{x="${long}"} 42\n`) as ParsedSamples;
    expect(r.labels(0).labels[0]![1].length).toBe(3 << 20);
    expect(r.value[0]).toBe(42);
  });
});

describe("protobuf delimited MetricFamily", () => {
  // A minimal protobuf writer for building test messages.
  const varint = (v: number): number[] => {
    const out: number[] = [];
    while (v >= 0x80) {
      out.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    return out;
  };
  const bytesField = (n: number, b: number[]): number[] => [...varint((n << 3) | 2), ...varint(b.length), ...b];
  const str = (n: number, s: string): number[] => bytesField(n, [...enc.encode(s)]);
  const dbl = (n: number, v: number): number[] => [...varint((n << 3) | 1), ...new Uint8Array(new Float64Array([v]).buffer)];
  const uint = (n: number, v: number): number[] => [...varint(n << 3), ...varint(v)];
  const label = (k: string, v: string): number[] => bytesField(1, [...str(1, k), ...str(2, v)]);
  const family = (...fields: number[][]): number[] => {
    const body = fields.flat();
    return [...varint(body.length), ...body];
  };
  const pb = (...families: number[][]): Uint8Array => new Uint8Array(families.flat());
  const parsePb = (b: Uint8Array, ignoreNativeHistograms = false): ParsedSamples | ParseFailure =>
    parser.parse(b, Format.Protobuf, { ignoreNativeHistograms });

  test("gauge, counter and untyped values become samples with synthesized, escaped series bytes", () => {
    const body = pb(
      family(str(1, "g"), uint(3, 1), bytesField(4, [...label("a", 'q"\\\nz'), ...bytesField(2, dbl(1, 1.5))])),
      family(str(1, "c_total"), bytesField(4, [...bytesField(3, dbl(1, 7)), ...uint(6, 1700000000123)])),
      family(str(1, "u"), uint(3, 3), bytesField(4, bytesField(5, dbl(1, -2)))),
    );
    const r = parsePb(body) as ParsedSamples;
    expect(r.ok).toBe(true);
    expect([r.seriesText(0), r.value[0], r.kind[0]]).toEqual(['g{a="q\\"\\\\\\nz"}', 1.5, abi.KIND_GAUGE]);
    expect(r.labels(0).labels).toEqual([["a", 'q"\\\nz']]);
    expect([r.seriesText(1), r.value[1], r.kind[1], r.hasTimestamp(1), r.timestamp[1]]).toEqual(["c_total", 7, abi.KIND_COUNTER, true, 1700000000123]);
    expect([r.seriesText(2), r.value[2], r.kind[2], r.hasTimestamp(2)]).toEqual(["u", -2, abi.KIND_UNTYPED, false]);
    expect(r.families().map((f) => [f.name, f.type])).toEqual([["g", abi.MTYPE_GAUGE], ["c_total", abi.MTYPE_COUNTER], ["u", abi.MTYPE_UNKNOWN]]);
  });

  test("a classic histogram gives _count, _sum, canonical le buckets and a synthetic +Inf bucket", () => {
    const bucket = (ub: number, c: number): number[] => bytesField(3, [...uint(1, c), ...dbl(2, ub)]);
    const h = [...uint(1, 5), ...dbl(2, 3.25), ...bucket(1, 2), ...bucket(1e6, 4)];
    const r = parsePb(pb(family(str(1, "h"), uint(3, 4), bytesField(4, [...label("x", "y"), ...bytesField(7, h)])))) as ParsedSamples;
    expect(Array.from({ length: r.count }, (_, i) => [r.seriesText(i), r.value[i], r.kind[i]])).toEqual([
      ['h_count{x="y"}', 5, abi.KIND_HISTOGRAM_COUNT],
      ['h_sum{x="y"}', 3.25, abi.KIND_HISTOGRAM_SUM],
      ['h_bucket{x="y",le="1.0"}', 2, abi.KIND_HISTOGRAM_BUCKET],
      ['h_bucket{x="y",le="1e+06"}', 4, abi.KIND_HISTOGRAM_BUCKET],
      ['h_bucket{x="y",le="+Inf"}', 5, abi.KIND_HISTOGRAM_BUCKET],
    ]);
  });

  test("a summary gives _count, _sum and canonical quantile samples", () => {
    const q = (quant: number, v: number): number[] => bytesField(3, [...dbl(1, quant), ...dbl(2, v)]);
    const r = parsePb(pb(family(str(1, "s"), uint(3, 2), bytesField(4, bytesField(4, [...uint(1, 3), ...dbl(2, 1), ...q(0.5, 0.1), ...q(1, 0.9)]))))) as ParsedSamples;
    expect(Array.from({ length: r.count }, (_, i) => r.seriesText(i))).toEqual(["s_count", "s_sum", 's{quantile="0.5"}', 's{quantile="1.0"}']);
  });

  test("native histogram fields are reported as unsupported unless ignored, never stored", () => {
    const span = bytesField(12, [...uint(1, 0), ...uint(2, 1)]);
    const body = pb(family(str(1, "n"), uint(3, 4), bytesField(4, bytesField(7, [...uint(1, 1), ...dbl(2, 1), ...span]))));
    expect(parsePb(body)).toMatchObject({ ok: false, code: abi.PARSE_ERR_PB_NATIVE_HISTOGRAM, line: 1 });
    const zero = pb(family(str(1, "n"), uint(3, 4), bytesField(4, bytesField(7, [...uint(1, 1), ...dbl(6, 0.001)]))));
    expect(parsePb(zero)).toMatchObject({ ok: false, code: abi.PARSE_ERR_PB_NATIVE_HISTOGRAM });
    const r = parsePb(body, true) as ParsedSamples;
    expect(Array.from({ length: r.count }, (_, i) => r.seriesText(i))).toEqual(["n_count", "n_sum", 'n_bucket{le="+Inf"}']);
  });

  test("a counter exemplar is synthesized as OpenMetrics exemplar text with its value and timestamp in seconds", () => {
    const ts = bytesField(3, [...uint(1, 1700000000), ...uint(2, 250000000)]);
    const ex = bytesField(2, [...label("trace_id", "abc"), ...dbl(2, 0.5), ...ts]);
    const r = parsePb(pb(family(str(1, "c"), bytesField(4, bytesField(3, [...dbl(1, 1), ...ex]))))) as ParsedSamples;
    expect([r.exemplarText(0), r.exemplarValue[0], r.exemplarTimestamp[0]]).toEqual(['{trace_id="abc"} 0.5 1.70000000025e+09', 0.5, 1700000000250]);
  });

  test("names outside the legacy character set are quoted in the series bytes", () => {
    const r = parsePb(pb(family(str(1, "my.metric"), uint(3, 1), bytesField(4, [...label("a.b", "v"), ...bytesField(2, dbl(1, 1))])))) as ParsedSamples;
    expect(r.seriesText(0)).toBe('{"my.metric","a.b"="v"}');
    expect(r.labels(0)).toEqual({ name: "my.metric", labels: [["a.b", "v"]] });
  });

  test("families without metrics are skipped; bad types, empty names and truncation are errors", () => {
    expect((parsePb(pb(family(str(1, "empty"), uint(3, 1)))) as ParsedSamples).familyCount).toBe(0);
    expect(parsePb(pb(family(str(1, "x"), uint(3, 9), bytesField(4, []))))).toMatchObject({ ok: false, code: abi.PARSE_ERR_PB_INVALID_TYPE });
    expect(parsePb(pb(family(uint(3, 1), bytesField(4, []))))).toMatchObject({ ok: false, code: abi.PARSE_ERR_PB_EMPTY_NAME });
    const full = pb(family(str(1, "g"), uint(3, 1), bytesField(4, bytesField(2, dbl(1, 1)))));
    expect(parsePb(full.subarray(0, full.length - 3))).toMatchObject({ ok: false, code: abi.PARSE_ERR_PB_TRUNCATED, line: 1 });
    expect(parsePb(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))).toMatchObject({ ok: false, code: abi.PARSE_ERR_PB_MALFORMED });
    expect(parsePb(pb(family(str(1, "g"), uint(3, 1), bytesField(4, [0x0a, 0x05, 0x0a]))))).toMatchObject({ ok: false, code: abi.PARSE_ERR_PB_MALFORMED });
  });

  test("invalid UTF-8 in a label value fails the parse", () => {
    const bad = bytesField(1, [...str(1, "a"), ...bytesField(2, [0xff])]);
    expect(parsePb(pb(family(str(1, "g"), uint(3, 1), bytesField(4, [...bad, ...bytesField(2, dbl(1, 1))]))))).toMatchObject({ ok: false, code: abi.PARSE_ERR_INVALID_UTF8 });
  });
});

describe("NaN bits", () => {
  test("a text or OpenMetrics NaN is stored as Prometheus' NormalNaN bit pattern", () => {
    for (const [src, f] of [["a NaN\n", Format.Text], ["a nan\n# EOF\n", Format.OpenMetrics]] as const) {
      const r = run(src, f) as ParsedSamples;
      expect(r.valueBits(0)).toBe(0x7ff8000000000001n);
    }
  });

  test("protobuf NaN payloads are kept as sent, not normalised", () => {
    const stale = [0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f]; // 0x7ff0000000000002, StaleNaN
    const body = [0x0a, 0x01, 0x67, 0x18, 0x01, 0x22, 0x0b, 0x12, 0x09, 0x09, ...stale];
    const r = parser.parse(new Uint8Array([body.length, ...body]), Format.Protobuf) as ParsedSamples;
    expect(r.valueBits(0)).toBe(0x7ff0000000000002n);
  });
});
