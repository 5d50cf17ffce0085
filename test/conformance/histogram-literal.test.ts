import { describe, expect, test } from "bun:test";
import { addScaled, DEFAULT_ZERO_THRESHOLD, parseHistogramLiteral } from "./histogram-literal.ts";

describe("parseHistogramLiteral()", () => {
  test("reads schema, sum, count and positive buckets into one span at offset 0", () => {
    const h = parseHistogramLiteral("{{schema:1 sum:-3 count:22 buckets:[5 10 7]}}");
    expect(h.schema).toBe(1);
    expect(h.sum).toBe(-3);
    expect(h.count).toBe(22);
    expect(h.positiveSpans).toEqual([{ offset: 0, length: 3 }]);
    expect(h.positiveBuckets).toEqual([5, 10, 7]);
    expect(h.negativeSpans).toEqual([]);
    expect(h.zeroThreshold).toBe(DEFAULT_ZERO_THRESHOLD);
    expect(h.counterResetHintSet).toBe(false);
  });

  test("reads the zero bucket, offsets, negative buckets and the counter reset hint", () => {
    const h = parseHistogramLiteral("{{schema:0 count:10 sum:5 z_bucket:2 z_bucket_w:0.001 buckets:[1 2] offset:1 n_buckets:[3 4] n_offset:-2 counter_reset_hint:gauge}}");
    expect(h.zeroCount).toBe(2);
    expect(h.zeroThreshold).toBe(0.001);
    expect(h.positiveSpans).toEqual([{ offset: 1, length: 2 }]);
    expect(h.negativeSpans).toEqual([{ offset: -2, length: 2 }]);
    expect(h.negativeBuckets).toEqual([3, 4]);
    expect(h.counterResetHint).toBe("gauge");
    expect(h.counterResetHintSet).toBe(true);
  });

  test("reads custom bucket bounds, Inf and NaN values", () => {
    const h = parseHistogramLiteral("{{schema:-53 sum:NaN count:Inf custom_values:[0.1 1 +Inf] buckets:[1 2 3]}}");
    expect(h.customValues).toEqual([0.1, 1, Infinity]);
    expect(h.sum).toBeNaN();
    expect(h.count).toBe(Infinity);
  });

  test("an empty literal is the zero histogram", () => {
    expect(parseHistogramLiteral("{{}}").count).toBe(0);
  });

  test("an unknown field, a repeated field or a bad number is a SyntaxError naming it", () => {
    expect(() => parseHistogramLiteral("{{schema:0 colour:red}}")).toThrow(/unknown field "colour"/);
    expect(() => parseHistogramLiteral("{{sum:1 sum:2}}")).toThrow(/sum is given twice/);
    expect(() => parseHistogramLiteral("{{count:lots}}")).toThrow(/count is not a number: "lots"/);
    expect(() => parseHistogramLiteral("{{counter_reset_hint:maybe}}")).toThrow(/counter_reset_hint must be one of/);
    expect(() => parseHistogramLiteral("{schema:0}")).toThrow(SyntaxError);
  });

  test("addScaled() adds k times the delta field by field, keeping the base's spans", () => {
    const a = parseHistogramLiteral("{{sum:1 count:2 buckets:[1 1]}}");
    const d = parseHistogramLiteral("{{sum:2 count:3 buckets:[1 2]}}");
    const h = addScaled(a, d, 2);
    expect([h.sum, h.count, ...h.positiveBuckets]).toEqual([5, 8, 3, 5]);
    expect(h.positiveSpans).toEqual([{ offset: 0, length: 2 }]);
  });
});
