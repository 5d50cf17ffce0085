/** `relabel_configs`, `metric_relabel_configs`, `write_relabel_configs` entries. */
import { z } from "zod";
import { str, stringList, uint } from "./fields.ts";

export const RELABEL_ACTIONS = [
  "replace", "keep", "drop", "keepequal", "dropequal", "hashmod",
  "labelmap", "labeldrop", "labelkeep", "lowercase", "uppercase",
] as const;
export type RelabelAction = (typeof RELABEL_ACTIONS)[number];

export const relabelSchema = z.strictObject({
  source_labels: stringList.nullish(),
  separator: str.nullish(),
  // An explicit null regex is the empty regex (matches only ""), unlike an absent one.
  regex: str.nullable().optional(),
  modulus: uint.nullish(),
  target_label: str.nullish(),
  replacement: str.nullish(),
  action: str.nullish(),
});

export type RawRelabel = z.output<typeof relabelSchema>;
