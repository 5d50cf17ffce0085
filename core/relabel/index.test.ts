import { describe, expect, test } from "bun:test";
import type { RelabelConfig } from "../config/types.ts";
import { compileRelabel, relabel, relabelWithTrace } from "./index.ts";

function rule(r: Partial<RelabelConfig>): RelabelConfig {
  return { source_labels: [], separator: ";", regex: "(.*)", modulus: 0, target_label: "", replacement: "$1", action: "replace", ...r };
}

/** Runs the rules over `labels`; null when dropped. */
function run(labels: Record<string, string>, rules: Array<Partial<RelabelConfig>>, scheme: "utf8" | "legacy" = "utf8"): Record<string, string> | null {
  const m = new Map(Object.entries(labels));
  if (!relabel(m, compileRelabel(rules.map(rule), scheme))) return null;
  return Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe("replace", () => {
  test("replace() writes the expanded replacement into the target label", () => {
    expect(run({ a: "foo", b: "bar" }, [{ source_labels: ["a", "b"], regex: "f(.*);(.*)r", target_label: "c", replacement: "ch${1}-${2}" }])).toEqual({ a: "foo", b: "bar", c: "choo-ba" });
  });

  test("replace() leaves the labels alone when the regex does not match the whole value", () => {
    expect(run({ a: "foo" }, [{ source_labels: ["a"], regex: "o+", target_label: "b" }])).toEqual({ a: "foo" });
  });

  test("replace() with the default $1 deletes the target when the source label is absent", () => {
    expect(run({ bar: "x" }, [{ source_labels: ["foo"], target_label: "bar" }])).toEqual({});
  });

  test("replace() with a literal replacement sets the target when the source label is absent", () => {
    expect(run({}, [{ source_labels: ["foo"], target_label: "bar", replacement: "x" }])).toEqual({ bar: "x" });
    expect(run({ bar: "old" }, [{ target_label: "bar", replacement: "" }])).toEqual({});
  });

  test("$1_suffix names the group 1_suffix and expands to nothing, ${1}_suffix does not", () => {
    expect(run({ a: "abc" }, [{ source_labels: ["a"], target_label: "b", replacement: "$1_suffix" }])).toEqual({ a: "abc" });
    expect(run({ a: "abc" }, [{ source_labels: ["a"], target_label: "b", replacement: "${1}_suffix" }])).toEqual({ a: "abc", b: "abc_suffix" });
    expect(run({ a: "abc" }, [{ source_labels: ["a"], target_label: "b", replacement: "$1-suffix" }])).toEqual({ a: "abc", b: "abc-suffix" });
  });

  test("$$ is a literal dollar, named groups and missing groups expand as Go does", () => {
    expect(run({ a: "abc" }, [{ source_labels: ["a"], regex: "(?P<x>a)(b)c", target_label: "b", replacement: "$$${x}$2$9$-" }])).toEqual({ a: "abc", b: "$ab$-" });
  });

  test("the target label itself may be a template", () => {
    expect(run({ a: "env" }, [{ source_labels: ["a"], target_label: "label_$1", replacement: "prod" }])).toEqual({ a: "env", label_env: "prod" });
  });

  test("an expanded target that is not a valid label name under legacy validation is skipped", () => {
    expect(run({ a: "x.y" }, [{ source_labels: ["a"], target_label: "$1", replacement: "v" }], "legacy")).toEqual({ a: "x.y" });
    expect(run({ a: "x.y" }, [{ source_labels: ["a"], target_label: "$1", replacement: "v" }])).toEqual({ a: "x.y", "x.y": "v" });
  });

  test(". matches a newline, as in Prometheus v3", () => {
    expect(run({ a: "x\ny" }, [{ source_labels: ["a"], regex: "x.y", target_label: "b", replacement: "ok" }])).toEqual({ a: "x\ny", b: "ok" });
  });
});

describe("keep, drop, keepequal, dropequal", () => {
  test("keep drops the target unless the regex matches the joined source values", () => {
    expect(run({ a: "foo" }, [{ source_labels: ["a"], regex: "f.*", action: "keep" }])).toEqual({ a: "foo" });
    expect(run({ a: "foo" }, [{ source_labels: ["a"], regex: "f", action: "keep" }])).toBeNull();
    expect(run({}, [{ source_labels: ["a"], regex: "", action: "keep" }])).toEqual({});
  });

  test("drop drops the target when the regex matches", () => {
    expect(run({ a: "foo", b: "bar" }, [{ source_labels: ["a", "b"], regex: "foo;bar", action: "drop" }])).toBeNull();
    expect(run({ a: "foo" }, [{ source_labels: ["a"], regex: "bar", action: "drop" }])).toEqual({ a: "foo" });
  });

  test("the first drop stops the remaining rules", () => {
    const trace = relabelWithTrace(new Map([["a", "1"]]), compileRelabel([rule({ source_labels: ["a"], regex: "1", action: "drop" }), rule({ target_label: "b", replacement: "x" })]));
    expect(trace).toMatchObject({ kept: false, droppedBy: 0 });
    expect(trace.steps).toHaveLength(1);
  });

  test("keepequal and dropequal compare the joined sources with the target label's value", () => {
    expect(run({ a: "x", b: "x" }, [{ source_labels: ["a"], target_label: "b", action: "keepequal" }])).toEqual({ a: "x", b: "x" });
    expect(run({ a: "x", b: "y" }, [{ source_labels: ["a"], target_label: "b", action: "keepequal" }])).toBeNull();
    expect(run({ a: "x", b: "x" }, [{ source_labels: ["a"], target_label: "b", action: "dropequal" }])).toBeNull();
    expect(run({}, [{ source_labels: ["a"], target_label: "missing", action: "keepequal" }])).toEqual({});
  });
});

describe("hashmod", () => {
  test("hashmod is the big-endian uint64 of MD5 bytes 8..15, modulo the modulus", () => {
    expect(run({ a: "foo" }, [{ source_labels: ["a"], target_label: "h", modulus: 1000, action: "hashmod" }])!.h).toBe("696");
    expect(run({ a: "a:9100", b: "job" }, [{ source_labels: ["a", "b"], target_label: "h", modulus: 7, action: "hashmod" }])!.h).toBe("0");
    expect(run({}, [{ source_labels: ["a"], target_label: "h", modulus: 3, action: "hashmod" }])!.h).toBe("1");
  });

  test("hashmod keeps uint64 precision for a modulus near 2^53", () => {
    expect(run({ a: "foo" }, [{ source_labels: ["a"], target_label: "h", modulus: 9007199254740991, action: "hashmod" }])!.h).toBe("4333518062922823");
  });
});

describe("labelmap, labeldrop, labelkeep", () => {
  test("labelmap copies matching labels under the expanded name and keeps the originals", () => {
    expect(run({ __meta_a: "1", __meta_b: "2", c: "3" }, [{ regex: "__meta_(.+)", replacement: "$1", action: "labelmap" }])).toEqual({ __meta_a: "1", __meta_b: "2", a: "1", b: "2", c: "3" });
  });

  test("labelmap walks a snapshot, so labels it creates are not mapped again", () => {
    expect(run({ a: "1" }, [{ regex: "(.*)", replacement: "x$1", action: "labelmap" }])).toEqual({ a: "1", xa: "1" });
  });

  test("labeldrop and labelkeep match label names, not values", () => {
    expect(run({ a: "1", ab: "2", b: "3" }, [{ regex: "a.*", action: "labeldrop" }])).toEqual({ b: "3" });
    expect(run({ a: "1", ab: "2", b: "3" }, [{ regex: "a.*", action: "labelkeep" }])).toEqual({ a: "1", ab: "2" });
  });
});

describe("lowercase and uppercase", () => {
  test("lowercase and uppercase write the case-mapped joined sources", () => {
    expect(run({ a: "FoO", b: "BaR" }, [{ source_labels: ["a", "b"], target_label: "l", action: "lowercase" }])!.l).toBe("foo;bar");
    expect(run({ a: "foo" }, [{ source_labels: ["a"], target_label: "u", action: "uppercase" }])!.u).toBe("FOO");
  });

  test("case mapping is Go's simple per-rune mapping, not JavaScript's full one", () => {
    expect(run({ a: "İSTANBUL" }, [{ source_labels: ["a"], target_label: "l", action: "lowercase" }])!.l).toBe("istanbul");
    expect(run({ a: "ΟΔΟΣ" }, [{ source_labels: ["a"], target_label: "l", action: "lowercase" }])!.l).toBe("οδοσ");
    expect(run({ a: "straße" }, [{ source_labels: ["a"], target_label: "u", action: "uppercase" }])!.u).toBe("STRAßE");
  });

  test("an empty result deletes the target label", () => {
    expect(run({ l: "x" }, [{ source_labels: ["missing"], target_label: "l", action: "lowercase" }])).toEqual({});
  });
});

test("relabelWithTrace() records each rule's input and output", () => {
  const trace = relabelWithTrace(
    new Map([["__address__", "a:9100"]]),
    compileRelabel([rule({ source_labels: ["__address__"], target_label: "instance" }), rule({ source_labels: ["instance"], regex: "b.*", action: "keep" })]),
  );
  expect(trace).toEqual({
    kept: false,
    droppedBy: 1,
    labels: { __address__: "a:9100", instance: "a:9100" },
    steps: [
      { rule: 0, action: "replace", before: { __address__: "a:9100" }, after: { __address__: "a:9100", instance: "a:9100" }, dropped: false },
      { rule: 1, action: "keep", before: { __address__: "a:9100", instance: "a:9100" }, after: { __address__: "a:9100", instance: "a:9100" }, dropped: true },
    ],
  });
});
