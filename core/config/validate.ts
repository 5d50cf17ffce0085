/**
 * Runs a zod schema over a part of the config and turns the first problem, in document
 * order, into a located ConfigError.
 */
import type { z } from "zod";
import { formatPath, type PathSegment } from "./errors.ts";
import type { ConfigSource } from "./source.ts";

/** Every field name gleaner knows, for "did you mean" hints on unknown keys. */
const knownFields = new Set<string>();

export function rememberFields(shape: Record<string, unknown>): void {
  for (const k of Object.keys(shape)) knownFields.add(k);
}

const walked = new WeakSet<object>();

/** Remembers the field names of every object schema inside `schema`. */
function rememberSchema(schema: unknown): void {
  if (schema === null || typeof schema !== "object" || walked.has(schema)) return;
  walked.add(schema);
  const def = (schema as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
  if (def === undefined) return;
  if (def.type === "object" && def.shape !== null && typeof def.shape === "object") {
    rememberFields(def.shape as Record<string, unknown>);
    for (const field of Object.values(def.shape as Record<string, unknown>)) rememberSchema(field);
  }
  for (const key of ["innerType", "element", "in", "out", "valueType"]) rememberSchema(def[key]);
  if (Array.isArray(def.options)) for (const o of def.options) rememberSchema(o);
}

function suggestion(key: string): string {
  let best = "";
  let bestDistance = 3;
  for (const known of knownFields) {
    const d = distance(key, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best === "" ? "" : ` (did you mean "${best}"?)`;
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return `"${String(value)}"`;
}

const TYPE_NAMES: Record<string, string> = { object: "a map", array: "a list", string: "a single value", record: "a map" };

interface Candidate {
  path: PathSegment[];
  message: string;
  prefer: "key" | "value";
}

function candidates(issue: z.core.$ZodIssue, base: readonly PathSegment[], input: unknown): Candidate[] {
  const path = [...base, ...(issue.path as PathSegment[])];
  const at = formatPath(path);
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({
        path: [...path, key],
        message: `${formatPath([...path, key])}: unknown field${suggestion(key)}`,
        prefer: "key" as const,
      }));
    case "invalid_type": {
      const got = valueAt(input, issue.path as PathSegment[]);
      return [{ path, message: `${at}: expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describe(got)}`, prefer: "value" }];
    }
    default: {
      const msg = issue.message;
      return [{ path, message: msg.startsWith("(") ? `${at} ${msg}` : `${at}: ${msg}`, prefer: "value" }];
    }
  }
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

/** Parses `value` (found at `base` in `src`) with `schema`, or throws the first error. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, src: ConfigSource, base: readonly PathSegment[]): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  rememberSchema(schema);
  // The first problem in the file wins; at the same place, an unknown key explains more
  // than the missing field it was probably meant to be.
  let first: { c: Candidate; line: number; col: number } | null = null;
  for (const issue of result.error.issues) {
    for (const c of candidates(issue, base, value)) {
      const [line, col] = src.locate(c.path, c.prefer);
      const earlier = first === null || line < first.line || (line === first.line && col < first.col);
      const tieBreak = first !== null && line === first.line && col === first.col && c.prefer === "key" && first.c.prefer !== "key";
      if (earlier || tieBreak) first = { c, line, col };
    }
  }
  if (first === null) throw src.error(base, `${formatPath(base)}: invalid`);
  throw src.error(first.c.path, first.c.message, first.c.prefer);
}
