import { describe, expect, test } from "bun:test";
import { Labels } from "../model/labels.ts";
import { compileRelabel } from "../relabel/index.ts";
import { finalSeriesLabels, mergeTargetLabels, SeriesError } from "./sample-labels.ts";

const target = Labels.from({ job: "node", instance: "a:9100" });
const noLimits = { labelLimit: 0, labelNameLengthLimit: 0, labelValueLengthLimit: 0 };
const merge = (exposed: Record<string, string>, honor: boolean, t = target) => Object.fromEntries([...mergeTargetLabels(new Map(Object.entries(exposed)), t, honor)].sort());

describe("honor_labels (spec §4.6)", () => {
  test("without honor_labels a clashing exposed label becomes exported_<name>", () => {
    expect(merge({ __name__: "m", job: "other" }, false)).toEqual({ __name__: "m", exported_job: "other", instance: "a:9100", job: "node" });
  });

  test("exported_ is prefixed again until the name is free", () => {
    expect(merge({ __name__: "m", job: "x", exported_job: "y" }, false)).toEqual({ __name__: "m", exported_exported_job: "x", exported_job: "y", instance: "a:9100", job: "node" });
  });

  test("conflicts are resolved shortest name first", () => {
    const t = Labels.from({ a: "T", exported_a: "T2" });
    expect(merge({ a: "1", exported_a: "2" }, false, t)).toEqual({ a: "T", exported_a: "T2", exported_exported_a: "1", exported_exported_exported_a: "2" });
  });

  test("an exposed empty value does not clash without honor_labels", () => {
    expect(merge({ __name__: "m", job: "" }, false)).toEqual({ __name__: "m", instance: "a:9100", job: "node" });
  });

  test("with honor_labels exposed labels win and an exposed empty value removes the target label", () => {
    expect(merge({ __name__: "m", job: "other" }, true)).toEqual({ __name__: "m", instance: "a:9100", job: "other" });
    expect(merge({ __name__: "m", instance: "" }, true)).toEqual({ __name__: "m", job: "node" });
  });
});

describe("finalSeriesLabels()", () => {
  const exposed = (o: Record<string, string>) => new Map(Object.entries(o));

  test("metric_relabel_configs see the target labels and can drop the series", () => {
    const rules = compileRelabel([{ source_labels: ["job", "__name__"], separator: ";", regex: "node;go_.*", modulus: 0, target_label: "", replacement: "$1", action: "drop" }]);
    expect(finalSeriesLabels(exposed({ __name__: "go_gc" }), target, false, rules, "utf8", noLimits)).toBeNull();
    expect(finalSeriesLabels(exposed({ __name__: "up2" }), target, false, rules, "utf8", noLimits)?.toObject()).toEqual({ __name__: "up2", instance: "a:9100", job: "node" });
  });

  test("a series without a name fails the scrape", () => {
    const rules = compileRelabel([{ source_labels: [], separator: ";", regex: "__name__", modulus: 0, target_label: "", replacement: "$1", action: "labeldrop" }]);
    expect(() => finalSeriesLabels(exposed({ __name__: "m" }), target, false, rules, "utf8", noLimits)).toThrow(new SeriesError("missing metric name (__name__ label)", "name"));
  });

  test("names invalid under legacy validation fail the scrape", () => {
    expect(() => finalSeriesLabels(exposed({ __name__: "my.metric" }), target, false, [], "legacy", noLimits)).toThrow('invalid metric name for validation scheme legacy: "my.metric"');
    expect(finalSeriesLabels(exposed({ __name__: "my.metric" }), target, false, [], "utf8", noLimits)?.get("__name__")).toBe("my.metric");
  });

  test("label_limit counts __name__ and target labels", () => {
    expect(() => finalSeriesLabels(exposed({ __name__: "m", a: "1" }), target, false, [], "utf8", { ...noLimits, labelLimit: 3 })).toThrow(
      "label_limit exceeded (metric: m, number of labels: 4, limit: 3)",
    );
  });

  test("label name and value length limits count UTF-8 bytes", () => {
    expect(() => finalSeriesLabels(exposed({ __name__: "m", é: "1" }), target, false, [], "utf8", { ...noLimits, labelNameLengthLimit: 1 })).toThrow("label_name_length_limit exceeded");
    expect(() => finalSeriesLabels(exposed({ __name__: "m", a: "éééé" }), target, false, [], "utf8", { ...noLimits, labelValueLengthLimit: 7 })).toThrow(
      'label_value_length_limit exceeded (metric: m, label name: a, value: "éééé", length: 8, limit: 7)',
    );
  });
});
