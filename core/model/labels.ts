/**
 * Label and metric name validity under Prometheus's two validation schemes.
 * `legacy`: `[a-zA-Z_][a-zA-Z0-9_]*` (metric names may also contain `:`).
 * `utf8` (the v3 default): any non-empty, well-formed UTF-8 string.
 */

export type ValidationScheme = "utf8" | "legacy";

const LEGACY_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LEGACY_METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export function isValidLabelName(name: string, scheme: ValidationScheme): boolean {
  if (scheme === "legacy") return LEGACY_LABEL.test(name);
  return name.length > 0 && name.isWellFormed();
}

export function isValidMetricName(name: string, scheme: ValidationScheme): boolean {
  if (scheme === "legacy") return LEGACY_METRIC.test(name);
  return name.length > 0 && name.isWellFormed();
}

/** Label values may be any well-formed UTF-8 (the empty value means "absent"). */
export function isValidLabelValue(value: string): boolean {
  return value.isWellFormed();
}
