import { expect, test } from "bun:test";
import { Labels } from "../model/labels.ts";
import { formatSampleValue, formatScalarValue, formatTimestamp, jsonString, labelsJson } from "./api-json.ts";
import { goParseFloat, MAX_TIME_MS, MAX_TIME_TEXT, MIN_TIME_MS, MIN_TIME_TEXT, parseDurationNs, parseTime } from "./api-params.ts";

test("timestamps print as seconds with three decimals only when there are milliseconds", () => {
  expect(formatTimestamp(1500)).toBe("1.500");
  expect(formatTimestamp(-1500)).toBe("-1.500");
  expect(formatTimestamp(1435781451781)).toBe("1435781451.781");
  expect(formatTimestamp(1795320600000)).toBe("1795320600");
  expect(formatTimestamp(1050)).toBe("1.050");
  expect(formatTimestamp(1)).toBe("0.001");
  expect(formatTimestamp(-1)).toBe("-0.001");
});

test("vector values use Go's 'f' format and switch to 'e' with two exponent digits outside [1e-6, 1e21)", () => {
  expect(formatSampleValue(1e-7)).toBe("1e-07");
  expect(formatSampleValue(-1e-7)).toBe("-1e-07");
  expect(formatSampleValue(1e21)).toBe("1e+21");
  expect(formatSampleValue(1.5e300)).toBe("1.5e+300");
  expect(formatSampleValue(1e20)).toBe("100000000000000000000");
  expect(formatSampleValue(0.1 + 0.2)).toBe("0.30000000000000004");
  expect(formatSampleValue(1e-6)).toBe("0.000001");
  expect([NaN, Infinity, -Infinity, 0, -0].map(formatSampleValue)).toEqual(["NaN", "+Inf", "-Inf", "0", "-0"]);
});

test("scalar values use Go's pure 'f' format with the shortest digits", () => {
  expect(formatScalarValue(1e-7)).toBe("0.0000001");
  expect(formatScalarValue(1e21)).toBe("1000000000000000000000");
  expect(formatScalarValue(-1.25e-8)).toBe("-0.0000000125");
  expect(formatScalarValue(1.5e22)).toBe("15000000000000000000000");
  expect(formatScalarValue(2)).toBe("2");
  expect([NaN, Infinity, -Infinity].map(formatScalarValue)).toEqual(["NaN", "+Inf", "-Inf"]);
});

test("JSON strings escape as Go does, HTML characters and lone surrogates included", () => {
  expect(jsonString('a"b\\c\n<&>')).toBe('"a\\"b\\\\c\\n\\u003c\\u0026\\u003e"');
  expect(jsonString("\u0001\b")).toBe('"\\u0001\\u0008"');
  expect(jsonString("\ud800x")).toBe('"\\ufffdx"');
  expect(jsonString("😀")).toBe('"😀"');
  expect(labelsJson(Labels.from({ b: "2", a: "1" }))).toBe('{"a":"1","b":"2"}');
});

test("time parameters take float seconds (rounded to ms), RFC 3339 and Go's min/max times", () => {
  expect(parseTime("1.5")).toBe(1500);
  expect(parseTime("-1.5")).toBe(-1500);
  expect(parseTime("1795331975.2145")).toBe(1795331975214);
  expect(parseTime("0.0005")).toBe(1);
  expect(parseTime("-0.0005")).toBe(-1);
  expect(parseTime("1e3")).toBe(1_000_000);
  expect(parseTime("1_000")).toBe(1_000_000);
  expect(parseTime("2015-07-01T20:10:51.781Z")).toBe(1435781451781);
  expect(parseTime("2015-07-01T20:10:51.7819+01:00")).toBe(1435777851781);
  expect(parseTime("0050-01-01T00:00:00Z")).toBe(Date.UTC(2050, 0, 1) - 2000 * 365.2425 * 86400000);
  expect(parseTime(MIN_TIME_TEXT)).toBe(MIN_TIME_MS);
  expect(parseTime(MAX_TIME_TEXT)).toBe(MAX_TIME_MS);
  for (const bad of ["abc", "", "0x10", "2015-07-01t20:10:51Z", "2015-02-30T00:00:00Z", "1__0", "_1"]) {
    expect(() => parseTime(bad)).toThrow(`cannot parse ${JSON.stringify(bad)} to a valid timestamp`);
  }
});

test("duration parameters take float seconds or Prometheus durations, in nanoseconds", () => {
  expect(parseDurationNs("15")).toBe(15e9);
  expect(parseDurationNs("0.5")).toBe(5e8);
  expect(parseDurationNs("1m30s")).toBe(90e9);
  expect(parseDurationNs("-1")).toBe(-1e9);
  expect(() => parseDurationNs("1ns")).toThrow('cannot parse "1ns" to a valid duration');
  expect(() => parseDurationNs("")).toThrow('cannot parse "" to a valid duration');
  expect(() => parseDurationNs("1e10")).toThrow('cannot parse "1e10" to a valid duration. It overflows int64');
  expect(goParseFloat("NaN")).toBeNaN();
  expect(goParseFloat("-inf")).toBe(-Infinity);
});
