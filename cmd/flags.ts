/**
 * Command-line flags the way Prometheus (kingpin) takes them: `--name=value`,
 * `--name value`, booleans as `--name` / `--no-name`, and `-h` / `--help`.
 */

export interface FlagSpec {
  name: string;
  help: string;
  /** Absent for booleans. */
  placeholder?: string;
  default?: string;
  boolean?: boolean;
  repeatable?: boolean;
  /** Allowed values, checked at parse time. */
  choices?: readonly string[];
  /** A Prometheus flag gleaner takes (so Prometheus command lines work) and does not act on. */
  ignored?: boolean;
}

export class UsageError extends Error {
  override name = "UsageError";
}

export interface ParsedFlags {
  values: Map<string, string[]>;
  positionals: string[];
  help: boolean;
}

export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[]): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") {
      help = true;
      continue;
    }
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      if (arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown short flag '${arg}'`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    let spec = byName.get(name);
    if (spec === undefined && name.startsWith("no-") && byName.get(name.slice(3))?.boolean) {
      name = name.slice(3);
      spec = byName.get(name);
      if (value !== undefined) throw new UsageError(`flag '--no-${name}' takes no value`);
      value = "false";
    }
    if (spec === undefined) throw new UsageError(`unknown long flag '--${name}'`);
    if (spec.boolean) {
      value ??= "true";
      if (value !== "true" && value !== "false") throw new UsageError(`flag '--${name}' expects true or false, got "${value}"`);
    } else if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`expected a value for '--${name}'`);
    }
    if (spec.choices && !spec.choices.includes(value)) {
      throw new UsageError(`invalid value "${value}" for flag '--${name}', expected one of: ${spec.choices.join(", ")}`);
    }
    const list = spec.repeatable ? (values.get(name) ?? []) : [];
    list.push(value);
    values.set(name, list);
  }
  return { values, positionals, help };
}

/** The value of a flag, or its default. */
export function flag(parsed: ParsedFlags, specs: readonly FlagSpec[], name: string): string {
  const v = parsed.values.get(name)?.at(-1);
  if (v !== undefined) return v;
  const spec = specs.find((s) => s.name === name);
  return spec?.default ?? (spec?.boolean ? "false" : "");
}

export function formatHelp(usage: string, description: string, specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const left = s.boolean ? `--[no-]${s.name}` : `--${s.name}=${s.placeholder ?? "VALUE"}`;
    const def = s.default !== undefined && !s.boolean ? ` (default: ${s.default})` : s.boolean && s.default === "true" ? " (default: on)" : "";
    return [left, s.help + def + (s.ignored ? " [Prometheus flag; ignored by gleaner]" : "")] as const;
  });
  const width = Math.max(0, ...rows.map(([l]) => l.length)) + 2;
  const body = rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`).join("\n");
  return `usage: ${usage}\n\n${description}\n${rows.length > 0 ? `\nFlags:\n  -h, --help${" ".repeat(Math.max(2, width - 8))}Show this help.\n${body}\n` : ""}`;
}
