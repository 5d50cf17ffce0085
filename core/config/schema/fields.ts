/**
 * Field readers for config values. Scalars arrive as strings (see ../source.ts) and are
 * read the way Go's yaml.v2 reads them into Prometheus's Go types, with errors that show
 * the offending value.
 */
import { RE2JS } from "re2js";
import { z } from "zod";
import { parseBytes } from "../bytes.ts";
import { parseDuration } from "../duration.ts";

type Ctx = z.RefinementCtx;

function fail(ctx: Ctx, message: string): typeof z.NEVER {
  ctx.addIssue({ code: "custom", message });
  return z.NEVER;
}

/** Any scalar as text; `123` and `true` are valid strings, as in Go. */
export const str = z.string({ error: "expected a string" });

// YAML 1.1 booleans, which Go's yaml.v2 accepts.
const TRUE = new Set(["true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON"]);
const FALSE = new Set(["false", "False", "FALSE", "no", "No", "NO", "n", "N", "off", "Off", "OFF"]);

export const bool = str.transform((s, ctx) => {
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  return fail(ctx, `(${s}) is not a boolean (true or false)`);
});

function parseInteger(s: string): number | null {
  const m = /^([-+]?)(0x[0-9a-fA-F]+|\d+)$/.exec(s.replaceAll("_", ""));
  if (m === null) return null;
  const n = Number(m[2]) * (m[1] === "-" ? -1 : 1);
  return Number.isSafeInteger(n) ? n : null;
}

/** A non-negative integer (Go `uint`). */
export const uint = str.transform((s, ctx) => {
  const n = parseInteger(s);
  if (n === null || n < 0) return fail(ctx, `(${s}) is not a non-negative integer`);
  return n;
});

/** An integer (Go `int`). */
export const int = str.transform((s, ctx) => {
  const n = parseInteger(s);
  if (n === null) return fail(ctx, `(${s}) is not an integer`);
  return n;
});

const FLOAT = /^[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d+)?$/;
export const float = str.transform((s, ctx) => {
  if (/^[-+]?\.(?:inf|Inf|INF)$/.test(s)) return s.startsWith("-") ? -Infinity : Infinity;
  if (/^\.(?:nan|NaN|NAN)$/.test(s)) return NaN;
  if (!FLOAT.test(s)) return fail(ctx, `(${s}) is not a number`);
  return Number(s.replaceAll("_", ""));
});

/** A Prometheus duration, as milliseconds. */
export const duration = str.transform((s, ctx) => {
  try {
    return parseDuration(s);
  } catch (err) {
    return fail(ctx, `(${s}) is not a valid duration: ${(err as Error).message} (use e.g. 15s, 1m30s, 1h, 2d)`);
  }
});

/** A base-2 byte size (`10MB`, `512KiB`), as bytes. */
export const bytes = str.transform((s, ctx) => {
  try {
    return parseBytes(s);
  } catch (err) {
    return fail(ctx, `(${s}) is not a valid size: ${(err as Error).message}`);
  }
});

/** Throws a readable message when `pattern` is not valid RE2 syntax. */
export function checkRegex(pattern: string): string | null {
  try {
    RE2JS.compile(pattern);
    RE2JS.compile(`^(?s:${pattern})$`);
    return null;
  } catch (err) {
    return (err as Error).message.replace(/^error parsing regexp: /, "");
  }
}

/** A regular expression with RE2 syntax (no lookaround, no backreferences). */
export const regex = str.superRefine((s, ctx) => {
  const problem = checkRegex(s);
  if (problem !== null) fail(ctx, `(${s}) is not a valid RE2 regular expression: ${problem}`);
});

/** A URL with a scheme and host, as `net/url` would accept for an HTTP endpoint. */
export const url = str.superRefine((s, ctx) => {
  try {
    new URL(s);
  } catch {
    fail(ctx, `(${s}) is not a valid URL`);
  }
});

/** A map of string to string; null values become "". */
export const stringMap = z.record(z.string(), str.nullable()).transform((m) => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) out[k] = v ?? "";
  return out;
});

/** A list whose entries may not be null (Go rejects `- ` entries in most lists). */
export function list<T extends z.ZodType>(item: T, what: string) {
  return z.array(item.nullable()).superRefine((items, ctx) => {
    items.forEach((v, i) => {
      if (v === null) ctx.addIssue({ code: "custom", path: [i], message: `empty or null ${what}` });
    });
  }) as unknown as z.ZodType<Array<z.output<T>>, unknown>;
}

/** A list of strings (null entries read as ""). */
export const stringList = z.array(str.nullable()).transform((xs) => xs.map((x) => x ?? ""));
