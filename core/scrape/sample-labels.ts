/**
 * What happens to a new series' labels (a scrape-cache miss) before it is stored
 * (spec §4.5 step 6, §4.6): target labels merged per honor_labels, metric relabeling,
 * then the name, validity and label-limit checks that fail the whole scrape.
 */
import type { ValidationScheme } from "../model/labels.ts";
import { isValidLabelName, isValidMetricName, Labels } from "../model/labels.ts";
import { relabel, type CompiledRule } from "../relabel/index.ts";

export interface LabelLimits {
  labelLimit: number;
  labelNameLengthLimit: number;
  labelValueLengthLimit: number;
}

/**
 * Merges the target's public labels into an exposed series' labels. Without
 * honor_labels, a clashing exposed label moves to `exported_<name>` (repeatedly
 * prefixed until free, shortest names first); with it, exposed labels win, and an
 * exposed empty value still blocks the target label (and then disappears).
 */
export function mergeTargetLabels(exposed: Map<string, string>, target: Labels, honorLabels: boolean): Map<string, string> {
  const out = new Map(exposed);
  if (honorLabels) {
    for (const [name, value] of target) if (!exposed.has(name)) out.set(name, value);
  } else {
    const conflicts: Array<[string, string]> = [];
    for (const [name, value] of target) {
      const existing = exposed.get(name) ?? "";
      if (existing !== "") conflicts.push([name, existing]);
      out.set(name, value);
    }
    conflicts.sort(([a], [b]) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, value] of conflicts) {
      let moved = `exported_${name}`;
      while ((out.get(moved) ?? "") !== "") moved = `exported_${moved}`;
      out.set(moved, value);
    }
  }
  for (const [k, v] of out) if (v === "") out.delete(k);
  return out;
}

const utf8Length = (s: string) => Buffer.byteLength(s, "utf8");
const clip = (s: string) => [...s].slice(0, 50).join("");

/** An error that fails the whole scrape, with Prometheus's wording. */
export class SeriesError extends Error {
  override name = "SeriesError";
  constructor(message: string, readonly kind: "name" | "validation" | "label_limit") {
    super(message);
  }
}

/**
 * The final labels of a newly seen series, or null when metric relabeling dropped it.
 * Throws SeriesError for what fails the scrape.
 */
export function finalSeriesLabels(
  exposed: Map<string, string>,
  target: Labels,
  honorLabels: boolean,
  metricRules: readonly CompiledRule[],
  scheme: ValidationScheme,
  limits: LabelLimits,
): Labels | null {
  const merged = mergeTargetLabels(exposed, target, honorLabels);
  if (metricRules.length > 0 && !relabel(merged, metricRules)) return null;
  const lset = Labels.from(merged);
  if (lset.size === 0) return null;
  const name = lset.get("__name__");
  if (name === "") throw new SeriesError("missing metric name (__name__ label)", "name");
  if (!isValidMetricName(name, scheme)) throw new SeriesError(`invalid metric name for validation scheme ${scheme}: "${name}"`, "validation");
  for (const [n, v] of lset) {
    if (!isValidLabelName(n, scheme)) throw new SeriesError(`invalid label name for validation scheme ${scheme}: "${n}" (metric: ${clip(name)})`, "validation");
    if (!v.isWellFormed()) throw new SeriesError(`invalid label value "${v}" (metric: ${clip(name)})`, "validation");
  }
  if (limits.labelLimit > 0 && lset.size > limits.labelLimit) {
    throw new SeriesError(`label_limit exceeded (metric: ${clip(name)}, number of labels: ${lset.size}, limit: ${limits.labelLimit})`, "label_limit");
  }
  for (const [n, v] of lset) {
    if (limits.labelNameLengthLimit > 0 && utf8Length(n) > limits.labelNameLengthLimit) {
      throw new SeriesError(`label_name_length_limit exceeded (metric: ${clip(name)}, label name: ${clip(n)}, length: ${utf8Length(n)}, limit: ${limits.labelNameLengthLimit})`, "label_limit");
    }
    if (limits.labelValueLengthLimit > 0 && utf8Length(v) > limits.labelValueLengthLimit) {
      throw new SeriesError(
        `label_value_length_limit exceeded (metric: ${clip(name)}, label name: ${clip(n)}, value: ${JSON.stringify(clip(v))}, length: ${utf8Length(v)}, limit: ${limits.labelValueLengthLimit})`,
        "label_limit",
      );
    }
  }
  return lset;
}
