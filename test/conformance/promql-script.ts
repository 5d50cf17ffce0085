/**
 * An interpreter of Prometheus 2.42's PromQL test script format (promql/test.go's `load`,
 * `clear`, `eval`, `eval_ordered`, `eval_fail`), run against gleaner's QueryEngine over a
 * MemoryStorage. Each eval runs as an instant query and, as upstream, as a range query over
 * [t-1m, t+1m] at 1m steps whose middle step must equal the instant result.
 */
import { Labels } from "../../core/model/labels.ts";
import type { Expr } from "../../core/query/ast.ts";
import { parseQuery, QueryEngine } from "../../core/query/engine.ts";
import { printExpr } from "../../core/query/format.ts";
import { parseDuration, parseNumber, unquote } from "../../core/query/lexical.ts";
import type { EngineOptions } from "../../core/query/values.ts";
import { join } from "node:path";
import { createLogger } from "../../core/log/logger.ts";
import { Registry } from "../../core/metrics/registry.ts";
import { MemoryStorage } from "../../storage/memory.ts";
import { Tsdb } from "../../storage/tsdb/index.ts";
import type { Storage, SeriesQuerier } from "../../storage/types.ts";

/** A fresh, empty store for a script (again after each `clear`). */
export type StoreFactory = () => Promise<Storage & SeriesQuerier & { flush?: () => Promise<void> }>;

const memoryStore: StoreFactory = async () => new MemoryStorage(() => Number.MAX_SAFE_INTEGER / 4);

/** Fresh Tsdbs under `root` (one directory each), for running scripts over the TSDB's read path. */
export function tsdbStores(root: string): StoreFactory {
  let n = 0;
  return () => Tsdb.open({ dir: join(root, String(n++)), retentionMs: 0, retentionBytes: 0, registry: new Registry(), log: createLogger({ level: "error", format: "logfmt", write: () => {} }), flushIntervalMs: 3_600_000, now: () => Number.MAX_SAFE_INTEGER / 4 });
}

export interface EvalCase {
  line: number;
  expr: string;
  atMs: number;
  fail: boolean;
  ordered: boolean;
  /** Expected vector samples (labels + value), or a scalar when `scalar` is set. */
  expected: Array<{ labels: Labels; v: number }>;
  scalar: number | null;
}

export interface EvalOutcome {
  case: EvalCase;
  ok: boolean;
  error: string | null;
}

function parseValue(s: string): number {
  const m = /^([+-]?)(.*)$/.exec(s)!;
  const v = parseNumber(m[2]!);
  if (v === null) throw new SyntaxError(`bad value ${JSON.stringify(s)}`);
  return m[1] === "-" ? -v : v;
}

/** `metric{a="b"}`, `{__name__="m"}`, `{"utf8.name", "a.b"="c"}` → Labels, and the rest of the line (2.42 and 3.x scripts). */
export function parseSeriesDesc(text: string): { labels: Labels; rest: string } {
  const s = text.trim();
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?/.exec(s)!;
  const name = m[1] ?? "";
  let i = name.length;
  const pairs: Array<[string, string]> = [];
  if (name !== "") pairs.push(["__name__", name]);
  const quoted = (): string => {
    const q = s[i]!;
    let j = i + 1;
    while (j < s.length && s[j] !== q) j += s[j] === "\\" && q !== "`" ? 2 : 1;
    if (j >= s.length) throw new SyntaxError(`unclosed string in ${JSON.stringify(text)}`);
    const v = unquote(s.slice(i, j + 1));
    i = j + 1;
    return v;
  };
  const space = (): void => {
    while (s[i] === " " || s[i] === "\t") i++;
  };
  if (s[i] === "{") {
    i++;
    for (;;) {
      space();
      if (s[i] === ",") {
        i++;
        continue;
      }
      if (s[i] === "}") {
        i++;
        break;
      }
      if (i >= s.length) throw new SyntaxError(`unclosed { in ${JSON.stringify(text)}`);
      let label: string;
      if (s[i] === '"' || s[i] === "'" || s[i] === "`") label = quoted();
      else {
        const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i));
        if (!ln) throw new SyntaxError(`bad label name at ${JSON.stringify(s.slice(i))}`);
        label = ln[0];
        i += label.length;
      }
      space();
      if (s[i] !== "=") {
        // A lone quoted string is the metric name (3.x UTF-8 names).
        pairs.push(["__name__", label]);
        continue;
      }
      i++;
      space();
      if (!(s[i] === '"' || s[i] === "'" || s[i] === "`")) throw new SyntaxError(`label ${label} needs a quoted value in ${JSON.stringify(text)}`);
      pairs.push([label, quoted()]);
    }
  }
  return { labels: Labels.from(pairs), rest: s.slice(i).trim() };
}

/** Expands `1+2x3 _ stale 5x2 _x3` into per-step values (undefined = no sample, "stale"). */
export function expandValues(text: string): Array<number | "stale" | undefined> {
  const out: Array<number | "stale" | undefined> = [];
  for (const item of text.split(/\s+/).filter(Boolean)) {
    if (item === "_") out.push(undefined);
    else if (item === "stale") out.push("stale");
    else if (/^_x\d+$/.test(item)) for (let k = 0; k < Number(item.slice(2)); k++) out.push(undefined);
    else {
      const m = /^([+-]?[^+\-x]+(?:[eE][+-]?\d+)?)(?:([+-])([^x]+))?x(\d+)$/.exec(item);
      if (m) {
        const start = parseValue(m[1]!);
        const inc = m[3] !== undefined ? parseValue(m[3]) * (m[2] === "-" ? -1 : 1) : 0;
        const times = Number(m[4]);
        for (let k = 0; k <= times; k++) out.push(start + inc * k);
      } else out.push(parseValue(item));
    }
  }
  return out;
}

/** Runs one script file's commands; returns every eval's outcome. */
export async function runScript(text: string, newStore: StoreFactory = memoryStore, engineOptions: EngineOptions = {}): Promise<EvalOutcome[]> {
  const lines = text.split("\n");
  const stores: Storage[] = [];
  let storage = await newStore();
  stores.push(storage);
  let engine = new QueryEngine(storage, engineOptions);
  try {
    return await run();
  } finally {
    for (const s of stores) await s.close();
  }
  async function run(): Promise<EvalOutcome[]> {
    const outcomes: EvalOutcome[] = [];
    let i = 0;
    while (i < lines.length) {
      const line = lines[i]!.trim();
      i++;
      if (line === "" || line.startsWith("#")) continue;
      if (line === "clear") {
        storage = await newStore();
        stores.push(storage);
        engine = new QueryEngine(storage, engineOptions);
        continue;
      }
      const load = /^load\s+(\S+)$/.exec(line);
      if (load) {
        const step = parseDuration(load[1]!)!;
        const app = storage.appender();
        // As upstream: a later line for the same series replaces the earlier one.
        const defs = new Map<string, { labels: Labels; values: Array<number | "stale" | undefined> }>();
        while (i < lines.length && lines[i]!.trim() !== "") {
          const l = lines[i]!.trim();
          i++;
          if (l.startsWith("#")) continue;
          const { labels, rest } = parseSeriesDesc(l);
          defs.set(labels.key, { labels, values: expandValues(rest) });
        }
        for (const { labels, values } of defs.values()) {
          values.forEach((v, k) => {
            if (v === undefined) return;
            if (v === "stale") app.appendStale(0, labels, k * step);
            else app.append(0, labels, k * step, v);
          });
        }
        await app.commit();
        // A store that keeps full chunks elsewhere (the TSDB block store) moves them there now.
        await storage.flush?.();
        continue;
      }
      const ev = /^(eval|eval_fail|eval_ordered)\s+instant\s+at\s+(\S+)\s+(.*)$/.exec(line);
      if (ev) {
        const c: EvalCase = { line: i, expr: ev[3]!, atMs: parseDuration(ev[2]!)!, fail: ev[1] === "eval_fail", ordered: ev[1] === "eval_ordered", expected: [], scalar: null };
        while (i < lines.length && lines[i]!.trim() !== "") {
          const l = lines[i]!.trim();
          i++;
          if (l.startsWith("#")) continue;
          if (/^[-+]?([0-9.]|Inf|NaN)/i.test(l) && !l.includes("{")) c.scalar = parseValue(l);
          else {
            const { labels, rest } = parseSeriesDesc(l);
            c.expected.push({ labels, v: parseValue(rest) });
          }
        }
        outcomes.push(await runEval(engine, c));
        continue;
      }
      throw new SyntaxError(`line ${i}: cannot read ${JSON.stringify(line)}`);
    }
    return outcomes;
  }
}

function close(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  return Math.abs(a - b) / (Math.abs(a) + Math.abs(b)) < 1e-6;
}

function compareVector(c: EvalCase, got: Array<{ labels: Labels; v: number }>, ordered: boolean): string | null {
  if (c.scalar !== null) return `expected scalar ${c.scalar}, got a vector of ${got.length}`;
  if (got.length !== c.expected.length) return `expected ${c.expected.length} samples, got ${got.length}: ${got.map((g) => `${g.labels} ${g.v}`).join("; ")}`;
  const byKey = new Map(c.expected.map((e, idx) => [e.labels.key, { ...e, idx }]));
  for (let k = 0; k < got.length; k++) {
    const g = got[k]!;
    const e = byKey.get(g.labels.key);
    if (e === undefined) return `unexpected series ${g.labels} ${g.v}`;
    if (!close(e.v, g.v)) return `${g.labels}: expected ${e.v}, got ${g.v}`;
    if (ordered && e.idx !== k) return `${g.labels}: expected at position ${e.idx}, got ${k}`;
  }
  return null;
}

/** Functions whose result depends on the evaluation time itself (upstream's AtModifierUnsafeFunctions). */
const AT_UNSAFE = new Set(["days_in_month", "day_of_month", "day_of_week", "day_of_year", "hour", "minute", "month", "year", "predict_linear", "time", "timestamp"]);

/**
 * Upstream's atModifierTestCases: the same query with `@ <eval time>` on every selector and
 * subquery not inside a subquery that has one, evaluated at other times; the result must not change.
 */
export function atModifierCases(expr: string, atMs: number): Array<{ expr: string; atMs: number }> {
  let ast: Expr;
  try {
    ast = parseQuery(expr);
  } catch {
    return [];
  }
  let unsafe = false;
  // Below a subquery (which gets or has its own @) nothing changes, but unsafe calls still count.
  const walk = (e: Expr, frozen: boolean): void => {
    switch (e.kind) {
      case "vector":
        if (!frozen) e.at ??= { kind: "time", ms: atMs };
        return;
      case "matrix":
        if (!frozen) e.vector.at ??= { kind: "time", ms: atMs };
        return;
      case "subquery":
        if (!frozen) e.at ??= { kind: "time", ms: atMs };
        walk(e.expr, true);
        return;
      case "call":
        if (AT_UNSAFE.has(e.name)) unsafe = true;
        for (const a of e.args) walk(a, frozen);
        return;
      case "aggregate":
        walk(e.expr, frozen);
        if (e.param !== null) walk(e.param, frozen);
        return;
      case "binary":
        walk(e.lhs, frozen);
        walk(e.rhs, frozen);
        return;
      case "unary":
      case "paren":
        walk(e.expr, frozen);
        return;
      default:
        return;
    }
  };
  walk(ast, false);
  if (unsafe) return [];
  const printed = printExpr(ast);
  const times = atMs === 0 ? [-1000, 0, 1000] : [-10 * atMs, 0, Math.trunc(atMs / 5), atMs, 10 * atMs];
  return times.map((t) => ({ expr: printed, atMs: t }));
}

async function runEval(engine: QueryEngine, c: EvalCase): Promise<EvalOutcome> {
  for (const q of [{ expr: c.expr, atMs: c.atMs }, ...atModifierCases(c.expr, c.atMs)]) {
    const problem = await runOne(engine, c, q.expr, q.atMs);
    if (problem !== null) return { case: c, ok: false, error: q.expr === c.expr && q.atMs === c.atMs ? problem : `with @ as ${q.expr} at ${q.atMs} ms: ${problem}` };
  }
  return { case: c, ok: true, error: null };
}

async function runOne(engine: QueryEngine, c: EvalCase, expr: string, atMs: number): Promise<string | null> {
  let problem: string | null = null;
  try {
    const res = await engine.instant(expr, atMs);
    if (c.fail) problem = "expected the query to fail";
    else if (res.value.type === "scalar") {
      if (c.scalar === null) problem = `expected a vector, got scalar ${res.value.v}`;
      else if (!close(c.scalar, res.value.v)) problem = `expected scalar ${c.scalar}, got ${res.value.v}`;
    } else if (res.value.type === "vector") {
      problem = compareVector(c, res.value.samples.map((s) => ({ labels: s.metric, v: s.v })), c.ordered);
    } else if (res.value.type === "string") {
      problem = null;
    } else problem = "received range result on instant evaluation";
    if (problem === null && !c.fail && res.value.type !== "string") {
      const rr = await engine.range(expr, atMs - 60_000, atMs + 60_000, 60_000);
      if (rr.value.type !== "matrix") problem = "range query gave no matrix";
      else {
        const got: Array<{ labels: Labels; v: number }> = [];
        for (const s of rr.value.series) {
          for (let k = 0; k < s.t.length; k++) if (s.t[k] === atMs) got.push({ labels: s.metric, v: s.v[k]! });
        }
        if (res.value.type === "scalar") {
          if (got.length === 0 || !close(c.scalar!, got[0]!.v)) problem = `range query middle step: expected scalar ${c.scalar}, got ${got[0]?.v}`;
        } else {
          const p = compareVector(c, got, false);
          if (p !== null) problem = `range query middle step: ${p}`;
        }
      }
    }
  } catch (err) {
    if (!c.fail) problem = `query failed: ${(err as Error).message}`;
  }
  return problem;
}
