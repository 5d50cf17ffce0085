/**
 * Structured logging: logfmt by default (`time=… level=info component=web msg="…" k=v`),
 * one JSON object per line with `--log.format=json`. Lines go to stderr.
 *
 * @example
 * const log = createLogger({ level: "info", format: "logfmt" });
 * log.with({ component: "web" }).info("Listening", { address: "0.0.0.0:9090" });
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "logfmt" | "json";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
export const LOG_FORMATS: readonly LogFormat[] = ["logfmt", "json"];

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger that adds `fields` to every line. */
  with(fields: Fields): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go; defaults to stderr. */
  write?: (line: string) => void;
  /** Clock for the `time` field; injectable for tests. */
  now?: () => Date;
}

function text(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Quotes a logfmt value when it is empty or holds spaces, quotes, `=` or control characters. */
export function logfmtValue(value: unknown): string {
  const s = text(value);
  if (s !== "" && !/[\s"=\\\u0000-\u001f\u007f]/.test(s)) return s;
  return JSON.stringify(s);
}

export function createLogger(opts: LoggerOptions, bound: Fields = {}): Logger {
  const min = LOG_LEVELS.indexOf(opts.level);
  const write = opts.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const now = opts.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: Fields) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    const all: Fields = { ...bound, ...fields };
    const time = now().toISOString();
    if (opts.format === "json") {
      const obj: Record<string, unknown> = { time, level, msg };
      for (const [k, v] of Object.entries(all)) obj[k] = v instanceof Error ? v.message : v;
      write(JSON.stringify(obj));
      return;
    }
    let line = `time=${time} level=${level}`;
    for (const [k, v] of Object.entries(bound)) line += ` ${k}=${logfmtValue(v)}`;
    line += ` msg=${logfmtValue(msg)}`;
    for (const [k, v] of Object.entries(fields ?? {})) line += ` ${k}=${logfmtValue(v)}`;
    write(line);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    with: (fields) => createLogger(opts, { ...bound, ...fields }),
  };
}
