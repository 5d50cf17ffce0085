import { expect, test } from "bun:test";
import { ConfigError } from "./errors.ts";
import { parseConfig } from "./load.ts";

function rules(yaml: string, scheme = "utf8") {
  return parseConfig(`global:\n  metric_name_validation_scheme: ${scheme}\nscrape_configs:\n  - job_name: j\n    relabel_configs:\n${yaml}`, "p.yml").scrape_configs[0]!.relabel_configs;
}

function rejected(yaml: string, scheme = "utf8"): string {
  try {
    rules(yaml, scheme);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected the rule to be rejected");
}

test("a rule gets the defaults: replace, separator ;, regex (.*), replacement $1", () => {
  expect(rules("      - target_label: a\n")[0]).toEqual({ source_labels: [], separator: ";", regex: "(.*)", modulus: 0, target_label: "a", replacement: "$1", action: "replace" });
});

test("action names are matched case-insensitively", () => {
  expect(rules("      - action: LabelDrop\n        regex: x\n")[0]!.action).toBe("labeldrop");
});

test("an explicit null regex is the empty regex, an absent one is (.*)", () => {
  expect(rules("      - target_label: a\n        regex:\n")[0]!.regex).toBe("");
  expect(rules("      - target_label: a\n")[0]!.regex).toBe("(.*)");
});

test("each load-time rule of spec §3.4 is enforced", () => {
  const cases: Array<[string, string]> = [
    ["      - action: ''\n", "relabel action cannot be empty"],
    ["      - action: explode\n", 'unknown relabel action "explode"'],
    ["      - action: hashmod\n        target_label: a\n", "relabel configuration for hashmod requires non-zero modulus"],
    ["      - action: replace\n", "relabel configuration for replace action requires 'target_label' value"],
    ["      - action: lowercase\n        source_labels: [a]\n", "relabel configuration for lowercase action requires 'target_label' value"],
    ["      - action: keepequal\n", "relabel configuration for keepequal action requires 'target_label' value"],
    ["      - action: uppercase\n        target_label: a\n        replacement: x\n", "'replacement' can not be set for uppercase action"],
    ["      - action: dropequal\n        target_label: a\n        regex: x\n", "dropequal action requires only 'source_labels' and 'target_label', and no other fields"],
    ["      - action: labeldrop\n        regex: x\n        source_labels: [a]\n", "labeldrop action requires only 'regex', and no other fields"],
    ["      - action: labelkeep\n        regex: x\n        separator: ','\n", "labelkeep action requires only 'regex', and no other fields"],
    ["      - action: labelmap\n        regex: x\n        replacement: ''\n", "\"\" is invalid 'replacement' for labelmap action"],
    ["      - source_labels: ['']\n        target_label: a\n", 'source_labels[0]: "" is not a valid label name'],
  ];
  for (const [yaml, message] of cases) expect(rejected(yaml), yaml).toContain(message);
});

test("under legacy validation a replace target may be a $-template but not a dotted name", () => {
  expect(rules("      - target_label: ${1}_x\n        regex: (.*)\n", "legacy")[0]!.target_label).toBe("${1}_x");
  expect(rejected("      - target_label: a.b\n", "legacy")).toContain("\"a.b\" is invalid 'target_label' for replace action");
  expect(rules("      - target_label: a.b\n")[0]!.target_label).toBe("a.b");
  expect(rejected("      - action: hashmod\n        target_label: a.b\n        modulus: 2\n", "legacy")).toContain("\"a.b\" is invalid 'target_label' for hashmod action");
});

test("a null rule is rejected", () => {
  expect(rejected("      - target_label: a\n      -\n")).toContain("relabel_configs[1]: empty or null target relabeling rule");
});
