/** Defaults and load-time rules of relabel configs (spec §3.1, §3.4). */
import { isValidLabelName, type ValidationScheme } from "../model/labels.ts";
import { formatPath, type PathSegment } from "./errors.ts";
import { checkRegex } from "./schema/fields.ts";
import { RELABEL_ACTIONS, type RawRelabel, type RelabelAction } from "./schema/relabel.ts";
import type { ConfigSource } from "./source.ts";
import type { RelabelConfig } from "./types.ts";

export const DEFAULT_REGEX = "(.*)";
const NEEDS_TARGET = new Set<RelabelAction>(["replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal"]);
// Under legacy validation, a replace target may hold `$1`, `${name}` references.
const LEGACY_TEMPLATE = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;

function isValidTemplate(name: string, scheme: ValidationScheme): boolean {
  return scheme === "legacy" ? LEGACY_TEMPLATE.test(name) : name.length > 0 && name.isWellFormed();
}

export function resolveRelabel(
  raw: RawRelabel,
  src: ConfigSource,
  path: readonly PathSegment[],
  scheme: ValidationScheme,
): RelabelConfig {
  const where = formatPath(path);
  const fail = (key: string | null, msg: string) => src.error(key === null ? path : [...path, key], `${where}: ${msg}`);

  let action: RelabelAction = "replace";
  if (raw.action !== undefined && raw.action !== null) {
    const name = raw.action.toLowerCase();
    if (name === "") throw fail("action", "relabel action cannot be empty");
    if (!(RELABEL_ACTIONS as readonly string[]).includes(name)) {
      throw fail("action", `unknown relabel action "${raw.action}" (one of ${RELABEL_ACTIONS.join(", ")})`);
    }
    action = name as RelabelAction;
  }
  const regex = raw.regex === undefined ? DEFAULT_REGEX : (raw.regex ?? "");
  const problem = checkRegex(regex);
  if (problem !== null) throw src.error([...path, "regex"], `${where}.regex (${regex}) is not a valid RE2 regular expression: ${problem}`);

  const cfg: RelabelConfig = {
    source_labels: raw.source_labels ?? [],
    separator: raw.separator ?? ";",
    regex,
    modulus: raw.modulus ?? 0,
    target_label: raw.target_label ?? "",
    replacement: raw.replacement ?? "$1",
    action,
  };
  cfg.source_labels.forEach((name, i) => {
    if (!isValidLabelName(name, scheme)) throw src.error([...path, "source_labels", i], `${where}.source_labels[${i}]: "${name}" is not a valid label name`);
  });

  if (action === "hashmod" && cfg.modulus === 0) throw fail("modulus", "relabel configuration for hashmod requires non-zero modulus");
  if (NEEDS_TARGET.has(action) && cfg.target_label === "") throw fail(null, `relabel configuration for ${action} action requires 'target_label' value`);
  if (action === "replace" && cfg.target_label !== "" && !isValidTemplate(cfg.target_label, scheme)) {
    throw fail("target_label", `"${cfg.target_label}" is invalid 'target_label' for ${action} action`);
  }
  if (action !== "replace" && NEEDS_TARGET.has(action) && !isValidLabelName(cfg.target_label, scheme)) {
    throw fail("target_label", `"${cfg.target_label}" is invalid 'target_label' for ${action} action`);
  }
  if ((action === "lowercase" || action === "uppercase" || action === "keepequal" || action === "dropequal") && cfg.replacement !== "$1") {
    throw fail("replacement", `'replacement' can not be set for ${action} action`);
  }
  if (action === "labelmap" && !isValidTemplate(cfg.replacement, scheme)) {
    throw fail("replacement", `"${cfg.replacement}" is invalid 'replacement' for ${action} action`);
  }
  if (action === "keepequal" || action === "dropequal") {
    if (cfg.regex !== DEFAULT_REGEX || cfg.modulus !== 0 || cfg.separator !== ";" || cfg.replacement !== "$1") {
      throw fail(null, `${action} action requires only 'source_labels' and 'target_label', and no other fields`);
    }
  }
  if (action === "labeldrop" || action === "labelkeep") {
    if (cfg.source_labels.length > 0 || cfg.target_label !== "" || cfg.modulus !== 0 || cfg.separator !== ";" || cfg.replacement !== "$1") {
      throw fail(null, `${action} action requires only 'regex', and no other fields`);
    }
  }
  return cfg;
}
