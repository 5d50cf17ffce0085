/**
 * Relabeling (spec §3): every action, RE2 regex semantics (anchored `^(?s:…)$`), Go-style
 * `$` expansion, exact uint64 hashmod. Rules run in order; the first drop stops them.
 * Labels live in a Map that relabeling edits in place; an empty value means "absent".
 *
 * @example
 * const rules = compileRelabel(config.relabel_configs);
 * const labels = new Map([["__address__", "a:9100"]]);
 * if (relabel(labels, rules)) { ... kept ... }
 */
import { createHash } from "node:crypto";
import { RE2JS } from "re2js";
import type { RelabelConfig } from "../config/types.ts";
import { isValidLabelName, type ValidationScheme } from "../model/labels.ts";
import { goToLower, goToUpper } from "./go-case.ts";
import { expand, hasVariables, parseTemplate, type MatchGroups, type Template } from "./template.ts";

const DEFAULT_REGEX = "(.*)";

export interface CompiledRule {
  readonly config: RelabelConfig;
  readonly regex: RE2JS;
  readonly targetTemplate: Template;
  readonly replacementTemplate: Template;
  /** The replace fast path applies (spec §3.3, case 1). */
  readonly literalReplace: boolean;
  readonly modulus: bigint;
  /** The job's name validation scheme: an expanded replace target must be valid in it. */
  readonly scheme: ValidationScheme;
}

export function compileRule(config: RelabelConfig, scheme: ValidationScheme = "utf8"): CompiledRule {
  return {
    scheme,
    config,
    regex: RE2JS.compile(`^(?s:${config.regex})$`),
    targetTemplate: parseTemplate(config.target_label),
    replacementTemplate: parseTemplate(config.replacement),
    literalReplace: config.regex === DEFAULT_REGEX && !hasVariables(config.target_label) && !hasVariables(config.replacement),
    modulus: BigInt(config.modulus),
  };
}

export function compileRelabel(configs: readonly RelabelConfig[], scheme: ValidationScheme = "utf8"): CompiledRule[] {
  return configs.map((c) => compileRule(c, scheme));
}

/** The full match of `re` against `value`, with group access, or null. */
function fullMatch(re: RE2JS, value: string): MatchGroups | null {
  const m = re.matcher(value);
  if (!m.matches()) return null;
  const named = re.namedGroups();
  return { group: (i) => m.group(i), named: (n) => named[n], count: m.groupCount() };
}

function setOrDelete(labels: Map<string, string>, name: string, value: string): void {
  if (value === "") labels.delete(name);
  else labels.set(name, value);
}

/** Go's `binary.BigEndian.Uint64(md5(s)[8:])`. */
export function md5Tail(value: string): bigint {
  return createHash("md5").update(value).digest().readBigUInt64BE(8);
}

/** Applies one rule; returns false when it drops the target or series. */
export function applyRule(labels: Map<string, string>, rule: CompiledRule): boolean {
  const cfg = rule.config;
  let value = "";
  for (let i = 0; i < cfg.source_labels.length; i++) {
    if (i > 0) value += cfg.separator;
    value += labels.get(cfg.source_labels[i]!) ?? "";
  }
  switch (cfg.action) {
    case "replace": {
      if (value === "" && rule.literalReplace) {
        setOrDelete(labels, cfg.target_label, cfg.replacement);
        return true;
      }
      const m = fullMatch(rule.regex, value);
      if (m === null) return true;
      const target = expand(rule.targetTemplate, m);
      // An expanded target that is not a valid label name is silently skipped.
      if (!isValidLabelName(target, rule.scheme)) return true;
      setOrDelete(labels, target, expand(rule.replacementTemplate, m));
      return true;
    }
    case "keep":
      return rule.regex.matches(value);
    case "drop":
      return !rule.regex.matches(value);
    case "keepequal":
      return (labels.get(cfg.target_label) ?? "") === value;
    case "dropequal":
      return (labels.get(cfg.target_label) ?? "") !== value;
    case "hashmod":
      setOrDelete(labels, cfg.target_label, (md5Tail(value) % rule.modulus).toString());
      return true;
    case "labelmap":
      for (const [name, v] of [...labels]) {
        const m = fullMatch(rule.regex, name);
        if (m !== null) setOrDelete(labels, expand(rule.replacementTemplate, m), v);
      }
      return true;
    case "labeldrop":
      for (const name of [...labels.keys()]) if (rule.regex.matches(name)) labels.delete(name);
      return true;
    case "labelkeep":
      for (const name of [...labels.keys()]) if (!rule.regex.matches(name)) labels.delete(name);
      return true;
    case "lowercase":
      setOrDelete(labels, cfg.target_label, goToLower(value));
      return true;
    case "uppercase":
      setOrDelete(labels, cfg.target_label, goToUpper(value));
      return true;
  }
}

/** Runs `rules` over `labels` in place; false when a rule dropped them. */
export function relabel(labels: Map<string, string>, rules: readonly CompiledRule[]): boolean {
  for (const rule of rules) if (!applyRule(labels, rule)) return false;
  return true;
}

export interface RelabelStep {
  /** Index of the rule in its list. */
  rule: number;
  action: RelabelConfig["action"];
  before: Record<string, string>;
  after: Record<string, string>;
  /** This rule dropped the target or series; no later rule ran. */
  dropped: boolean;
}

export interface RelabelTrace {
  kept: boolean;
  /** The labels after the last rule that ran (the input labels when a rule dropped them). */
  labels: Record<string, string>;
  steps: RelabelStep[];
  /** Index of the rule that dropped, or null. */
  droppedBy: number | null;
}

const snapshot = (labels: Map<string, string>) => Object.fromEntries([...labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * Like relabel(), recording each rule's input and output, to answer "why was my target
 * (or series) dropped?".
 */
export function relabelWithTrace(labels: Map<string, string>, rules: readonly CompiledRule[]): RelabelTrace {
  const steps: RelabelStep[] = [];
  for (let i = 0; i < rules.length; i++) {
    const before = snapshot(labels);
    const kept = applyRule(labels, rules[i]!);
    steps.push({ rule: i, action: rules[i]!.config.action, before, after: snapshot(labels), dropped: !kept });
    if (!kept) return { kept: false, labels: snapshot(labels), steps, droppedBy: i };
  }
  return { kept: true, labels: snapshot(labels), steps, droppedBy: null };
}
