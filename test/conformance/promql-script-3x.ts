/**
 * An interpreter of Prometheus 3.x's PromQL test script format (promql/promqltest): `load`,
 * `load_with_nhcb`, `clear`, `eval instant at …`, `eval range from … to … step …`, the
 * deprecated `eval_fail`/`eval_warn`/`eval_info`/`eval_ordered`, and the `expect` lines
 * (fail, warn, no_warn, info, no_info, ordered, with `msg:` or `regex:`), `expect string`,
 * `expect range vector from … to … step …`, native histogram literals and `@st` lines.
 * Results are compared as upstream's runner does: relative float tolerance 1e-6, ordered
 * vectors by position, range results point by point at their step's timestamps, and every
 * instant eval also as `@`-pinned variants and as a range query's middle step.
 *
 * What gleaner cannot store yet (native histograms, start timestamps) is parsed, not loaded;
 * the eval that needs it fails and the caller's known-failure list says why.
 */
import { Labels } from "../../core/model/labels.ts";
import { QueryEngine } from "../../core/query/engine.ts";
import { parseDuration, parseNumber, unquote } from "../../core/query/lexical.ts";
import { MemoryStorage } from "../../storage/memory.ts";
import { addScaled, parseHistogramLiteral, type HistogramLiteral } from "./histogram-literal.ts";
import { atModifierCases, parseSeriesDesc, type StoreFactory } from "./promql-script.ts";

/** One position of a series description: a float, a stale marker, a histogram, or nothing. */
export type SeqValue = { kind: "float"; v: number } | { kind: "stale" } | { kind: "histogram"; h: HistogramLiteral } | undefined;

export interface Expectation {
  message: string | null;
  regex: RegExp | null;
}

export interface EvalCase3x {
  file: string;
  line: number;
  expr: string;
  range: boolean;
  /** Instant: the evaluation time; range: the query's start. */
  startMs: number;
  endMs: number;
  stepMs: number;
  fail: Expectation | null;
  ordered: boolean;
  warn: Expectation[];
  info: Expectation[];
  noWarn: boolean;
  noInfo: boolean;
  /** Deprecated `eval_warn` / `eval_info`: at least one such annotation. */
  anyWarn: boolean;
  anyInfo: boolean;
  scalar: number | null;
  string: string | null;
  expected: Map<string, { labels: Labels; pos: number; values: SeqValue[] }>;
  /** `expect range vector …`: an instant query whose result is a matrix over this range. */
  rangeVector: { startMs: number; endMs: number; stepMs: number } | null;
  /** Whether the data loaded so far (since the last clear) holds values gleaner did not store. */
  unstored: Set<"histogram" | "nhcb" | "start timestamp">;
  usesHistogramExpectation: boolean;
}

export interface EvalOutcome3x {
  case: EvalCase3x;
  ok: boolean;
  error: string | null;
}

const memoryStore: StoreFactory = async () => new MemoryStorage(() => Number.MAX_SAFE_INTEGER / 4);

function bad(file: string, line: number, msg: string): SyntaxError {
  return new SyntaxError(`${file}:${line}: ${msg}`);
}

function signed(text: string): number | null {
  const m = /^([+-]?)(.+)$/.exec(text);
  if (!m) return null;
  const v = parseNumber(m[2]!);
  if (v === null) return null;
  return m[1] === "-" ? -v : v;
}

function duration(text: string, what: string, file: string, line: number): number {
  const ms = parseDuration(text.trim());
  if (ms === null) throw bad(file, line, `${what} is not a duration: ${JSON.stringify(text)}`);
  return ms;
}

/** Splits a value sequence into items; `{{…}}` literals (with spaces inside) stay whole. */
function tokens(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    let j = i;
    while (j < text.length && !/\s/.test(text[j]!)) {
      if (text.startsWith("{{", j)) {
        const end = text.indexOf("}}", j);
        if (end < 0) throw new SyntaxError(`unclosed histogram literal in ${JSON.stringify(text)}`);
        j = end + 2;
      } else j++;
    }
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

/** Expands a series description's values (`1+2x3 _ _x2 stale {{…}}x2 {{a}}+{{d}}x3`) per step. */
export function expandSequence(text: string): SeqValue[] {
  const out: SeqValue[] = [];
  for (const item of tokens(text)) {
    if (item === "_") {
      out.push(undefined);
      continue;
    }
    if (item === "stale") {
      out.push({ kind: "stale" });
      continue;
    }
    const omit = /^_x(\d+)$/.exec(item);
    if (omit) {
      for (let k = 0; k < Number(omit[1]); k++) out.push(undefined);
      continue;
    }
    if (item.startsWith("{{")) {
      const m = /^(\{\{.*?\}\})(?:(?:([+-])(\{\{.*?\}\}))?x(\d+))?$/.exec(item);
      if (!m) throw new SyntaxError(`cannot read histogram item ${JSON.stringify(item)}`);
      const base = parseHistogramLiteral(m[1]!);
      if (m[4] === undefined) {
        out.push({ kind: "histogram", h: base });
        continue;
      }
      const delta = m[3] !== undefined ? parseHistogramLiteral(m[3]) : null;
      const sign = m[2] === "-" ? -1 : 1;
      for (let k = 0; k <= Number(m[4]); k++) out.push({ kind: "histogram", h: delta === null ? base : addScaled(base, delta, sign * k) });
      continue;
    }
    const m = /^([+-]?(?:[^+\-x]|[eE][+-])+?)(?:([+-])((?:[^+\-x]|[eE][+-])+))?x(\d+)$/.exec(item);
    if (m) {
      const start = signed(m[1]!);
      const inc = m[3] !== undefined ? signed(m[3]) : 0;
      if (start === null || inc === null) throw new SyntaxError(`cannot read value ${JSON.stringify(item)}`);
      const step = m[2] === "-" ? -inc : inc;
      for (let k = 0; k <= Number(m[4]); k++) out.push({ kind: "float", v: start + step * k });
      continue;
    }
    const v = signed(item);
    if (v === null) throw new SyntaxError(`cannot read value ${JSON.stringify(item)}`);
    out.push({ kind: "float", v });
  }
  return out;
}


export type Command =
  | { kind: "clear"; line: number }
  | { kind: "load"; line: number; stepMs: number; nhcb: boolean; defs: Map<string, { labels: Labels; values: SeqValue[] }>; startTimestamps: boolean }
  | { kind: "eval"; case: EvalCase3x };

const EXPECT = /^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$/;

/** Parses a whole script; bad input throws a SyntaxError naming file:line. */
export function parseScript3x(text: string, file = "<script>"): Command[] {
  const lines = text.split("\n").map((l) => {
    const t = l.trim();
    return t.startsWith("#") ? "" : t;
  });
  const cmds: Command[] = [];
  let unstored = new Set<"histogram" | "nhcb" | "start timestamp">();
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    const lineNo = i + 1;
    i++;
    if (l === "") continue;
    const word = l.split(/[\t ]+/, 1)[0]!.toLowerCase();
    if (word === "clear") {
      cmds.push({ kind: "clear", line: lineNo });
      unstored = new Set();
      continue;
    }
    if (word.startsWith("load")) {
      const m = /^load(?:_(with_nhcb))?\s+(.+?)$/.exec(l);
      if (!m) throw bad(file, lineNo, `invalid load command ${JSON.stringify(l)} (load[_with_nhcb] <step>)`);
      const cmd = { kind: "load" as const, line: lineNo, stepMs: duration(m[2]!, "the load step", file, lineNo), nhcb: m[1] !== undefined, defs: new Map<string, { labels: Labels; values: SeqValue[] }>(), startTimestamps: false };
      if (cmd.nhcb) unstored.add("nhcb");
      while (i < lines.length && lines[i] !== "") {
        const def = lines[i]!;
        const defNo = i + 1;
        i++;
        const sp = def.search(/[ \t]/);
        if (sp >= 0 && def.slice(0, sp).endsWith("@st")) {
          // A start-timestamp line: read (it must be well formed), not stored.
          cmd.startTimestamps = true;
          unstored.add("start timestamp");
          continue;
        }
        try {
          const { labels, rest } = parseSeriesDesc(def);
          const values = expandSequence(rest);
          if (values.some((v) => v?.kind === "histogram")) unstored.add("histogram");
          cmd.defs.set(labels.key, { labels, values });
        } catch (err) {
          throw bad(file, defNo, (err as Error).message);
        }
      }
      cmds.push(cmd);
      continue;
    }
    if (word.startsWith("eval")) {
      cmds.push({ kind: "eval", case: parseEval(l, lineNo) });
      continue;
    }
    throw bad(file, lineNo, `invalid command ${JSON.stringify(l)}`);
  }
  return cmds;

  function parseEval(l: string, lineNo: number): EvalCase3x {
    const inst = /^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$/.exec(l);
    const rng = inst ? null : /^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$/.exec(l);
    if (!inst && !rng) throw bad(file, lineNo, `invalid eval command ${JSON.stringify(l)}: must be 'eval instant at <time> <query>' or 'eval range from <t> to <t> step <d> <query>'`);
    const c: EvalCase3x = {
      file, line: lineNo, expr: "", range: rng !== null, startMs: 0, endMs: 0, stepMs: 0, fail: null, ordered: false, warn: [], info: [], noWarn: false, noInfo: false,
      anyWarn: false, anyInfo: false, scalar: null, string: null, expected: new Map(), rangeVector: null, unstored: new Set(unstored), usesHistogramExpectation: false,
    };
    let mod: string | undefined;
    if (inst) {
      mod = inst[1];
      c.expr = inst[3]!;
      c.startMs = c.endMs = inst[2] === undefined ? 0 : duration(inst[2], "the evaluation time", file, lineNo);
    } else {
      mod = rng![1];
      c.expr = rng![5]!;
      c.startMs = duration(rng![2]!, "the range start", file, lineNo);
      c.endMs = duration(rng![3]!, "the range end", file, lineNo);
      c.stepMs = duration(rng![4]!, "the range step", file, lineNo);
      if (c.endMs < c.startMs) throw bad(file, lineNo, `the range end (${rng![3]}) is before its start (${rng![2]})`);
    }
    if (mod === "fail") c.fail = { message: null, regex: null };
    else if (mod === "ordered") c.ordered = true;
    else if (mod === "warn") c.anyWarn = true;
    else if (mod === "info") c.anyInfo = true;
    let pos = 0;
    while (i < lines.length && lines[i] !== "") {
      const def = lines[i]!;
      const defNo = i + 1;
      i++;
      if (c.fail !== null && def.startsWith("expected_fail_message")) {
        c.fail.message = def.slice("expected_fail_message".length).trim();
        break;
      }
      if (c.fail !== null && def.startsWith("expected_fail_regexp")) {
        c.fail.regex = regex(def.slice("expected_fail_regexp".length).trim(), defNo);
        break;
      }
      if (def.startsWith("expect range vector")) {
        const m = /^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$/.exec(def);
        if (!m) throw bad(file, defNo, `invalid range vector definition ${JSON.stringify(def)}`);
        c.rangeVector = { startMs: duration(m[1]!, "the range start", file, defNo), endMs: duration(m[2]!, "the range end", file, defNo), stepMs: duration(m[3]!, "the range step", file, defNo) };
        continue;
      }
      if (def.startsWith("expect string")) {
        const lit = def.slice("expect string".length).trim();
        if (lit === "") throw bad(file, defNo, "expect string needs a quoted string literal");
        try {
          if (!/^(["`]).*\1$/s.test(lit)) throw new SyntaxError("not quoted");
          c.string = unquote(lit);
        } catch {
          throw bad(file, defNo, `expect string: ${lit} is not a correctly quoted string literal`);
        }
        continue;
      }
      if (def.split(" ")[0] === "expect") {
        const m = EXPECT.exec(def);
        if (!m) throw bad(file, defNo, `invalid expect statement ${JSON.stringify(def)}: must match 'expect <type> <match_type>: <string>'`);
        const e: Expectation = m[2] === "msg" ? { message: m[3]!.trim(), regex: null } : m[2] === "regex" ? { message: null, regex: regex(m[3]!.trim(), defNo) } : { message: null, regex: /^.*$/s };
        switch (m[1]) {
          case "fail":
            if (c.fail !== null && (c.fail.message !== null || c.fail.regex !== null)) throw bad(file, defNo, "only one expect fail line is allowed");
            c.fail = e;
            break;
          case "ordered":
            c.ordered = true;
            break;
          case "warn":
            c.warn.push(e);
            break;
          case "info":
            c.info.push(e);
            break;
          case "no_warn":
            c.noWarn = true;
            break;
          case "no_info":
            c.noInfo = true;
            break;
        }
        if (c.warn.length > 0 && c.noWarn) throw bad(file, defNo, "warn and no_warn cannot be used together");
        if (c.info.length > 0 && c.noInfo) throw bad(file, defNo, "info and no_info cannot be used together");
        continue;
      }
      const num = signed(def);
      if (num !== null && !def.includes("{")) {
        c.scalar = num;
        break;
      }
      try {
        const { labels, rest } = parseSeriesDesc(def);
        const values = expandSequence(rest);
        if (values.length > 1 && !c.range && c.rangeVector === null) throw new SyntaxError("expecting multiple values in an instant evaluation is not allowed (use 'expect range vector')");
        if (values.some((v) => v?.kind === "histogram")) c.usesHistogramExpectation = true;
        c.expected.set(labels.key, { labels, pos: ++pos, values });
      } catch (err) {
        throw bad(file, defNo, (err as Error).message);
      }
    }
    return c;
  }

  function regex(pattern: string, lineNo: number): RegExp {
    try {
      // Go's regexp: unanchored match. Strip the surrounding quotes upstream's tests sometimes keep.
      return new RegExp(pattern);
    } catch (err) {
      throw bad(file, lineNo, `invalid regex ${JSON.stringify(pattern)}: ${(err as Error).message}`);
    }
  }
}

/** Upstream's util/almost.Equal with epsilon 1e-6. */
export function almostEqual(a: number, b: number, epsilon = 1e-6): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const minNormal = 2.2250738585072014e-308;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < minNormal) return diff < epsilon * minNormal;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

function matches(e: Expectation, s: string): boolean {
  if (e.regex === null) return e.message === s;
  return e.regex.test(s);
}

function compareLabels(a: Labels, b: Labels): number {
  const x = [...a];
  const y = [...b];
  for (let k = 0; k < Math.min(x.length, y.length); k++) {
    const [an, av] = x[k]!;
    const [bn, bv] = y[k]!;
    if (an !== bn) return an < bn ? -1 : 1;
    if (av !== bv) return av < bv ? -1 : 1;
  }
  return x.length - y.length;
}

function fmt(v: SeqValue): string {
  if (v === undefined) return "_";
  if (v.kind === "stale") return "stale";
  if (v.kind === "histogram") return "{{histogram}}";
  return String(v.v);
}

type Got = { type: "scalar"; v: number } | { type: "string"; v: string } | { type: "vector"; samples: Array<{ labels: Labels; v: number }> } | { type: "matrix"; series: Array<{ labels: Labels; t: ArrayLike<number>; v: ArrayLike<number> }> };

function compareResult(c: EvalCase3x, got: Got, range: { startMs: number; endMs: number; stepMs: number }): string | null {
  switch (got.type) {
    case "matrix": {
      if (c.ordered) return "expected an ordered result, but the query returned a matrix";
      if (c.scalar !== null) return `expected a scalar result, but got a matrix of ${got.series.length} series`;
      for (let k = 1; k < got.series.length; k++) if (compareLabels(got.series[k - 1]!.labels, got.series[k]!.labels) > 0) return `the matrix is not sorted by labels at index ${k}`;
      const seen = new Set<string>();
      for (const s of got.series) {
        const e = c.expected.get(s.labels.key);
        const shown = `${s.labels} ${Array.from(s.v).join(" ")} @[${Array.from(s.t).join(" ")}]`;
        if (e === undefined) return `unexpected series ${shown}`;
        seen.add(s.labels.key);
        const floats: Array<{ t: number; v: number }> = [];
        let hist = 0;
        for (let k = 0; k < e.values.length; k++) {
          const t = range.startMs + k * range.stepMs;
          if (t > range.endMs) return `expected ${e.values.length} points for ${s.labels}, but the query range cannot return this many`;
          const v = e.values[k];
          if (v === undefined) continue;
          if (v.kind === "histogram") hist++;
          else floats.push({ t, v: v.kind === "stale" ? NaN : v.v });
        }
        if (floats.length !== s.t.length || hist !== 0) return `expected ${floats.length} float points and ${hist} histogram points for ${s.labels}, got ${s.t.length} float points (${shown})`;
        for (let k = 0; k < floats.length; k++) {
          if (floats[k]!.t !== s.t[k]) return `point ${k} of ${s.labels}: expected timestamp ${floats[k]!.t}, got ${s.t[k]} (${shown})`;
          if (!almostEqual(floats[k]!.v, s.v[k]!)) return `point ${k} (t=${s.t[k]}) of ${s.labels}: expected ${floats[k]!.v}, got ${s.v[k]} (${shown})`;
        }
      }
      for (const [key, e] of c.expected) if (!seen.has(key)) return `expected series ${e.labels} ${e.values.map(fmt).join(" ")} not found`;
      return null;
    }
    case "vector": {
      if (c.scalar !== null) return `expected scalar ${c.scalar}, got a vector of ${got.samples.length}: ${got.samples.map((g) => `${g.labels} ${g.v}`).join("; ")}`;
      const seen = new Set<string>();
      for (let k = 0; k < got.samples.length; k++) {
        const g = got.samples[k]!;
        const e = c.expected.get(g.labels.key);
        if (e === undefined) return `unexpected series ${g.labels} ${g.v}`;
        if (c.ordered && e.pos !== k + 1) return `expected ${g.labels} at position ${e.pos}, got ${k + 1}`;
        const v = e.values[0];
        if (v?.kind === "histogram") return `expected a histogram for ${g.labels}, got float ${g.v}`;
        const want = v === undefined ? 0 : v.kind === "stale" ? NaN : v.v;
        if (!almostEqual(want, g.v)) return `${g.labels}: expected ${want}, got ${g.v}`;
        seen.add(g.labels.key);
      }
      for (const [key, e] of c.expected) if (!seen.has(key)) return `expected series ${e.labels} ${e.values.map(fmt).join(" ")} not found`;
      return null;
    }
    case "scalar":
      if (c.scalar === null) return `expected a vector or matrix, got scalar ${got.v}`;
      return almostEqual(c.scalar, got.v) ? null : `expected scalar ${c.scalar}, got ${got.v}`;
    case "string":
      return c.string === got.v ? null : `expected string ${JSON.stringify(c.string)}, got ${JSON.stringify(got.v)}`;
  }
}

function checkAnnotations(c: EvalCase3x, annotations: string[]): string | null {
  const infos = annotations.filter((a) => a.startsWith("PromQL info:"));
  const warnings = annotations.filter((a) => !a.startsWith("PromQL info:"));
  if (c.anyWarn && warnings.length === 0) return "expected warnings, got none";
  if (c.anyInfo && infos.length === 0) return "expected info annotations, got none";
  for (const [kind, want, have] of [["warn", c.warn, warnings], ["info", c.info, infos]] as const) {
    if (want.length === 0) continue;
    if (have.length === 0) return `expected ${kind} annotations, got none`;
    for (const e of want) if (!have.some((h) => matches(e, h))) return `expected a ${kind} annotation matching ${e.message ?? e.regex}, got ${JSON.stringify(have)}`;
    for (const h of have) if (!want.some((e) => matches(e, h))) return `unexpected ${kind} annotation ${JSON.stringify(h)}`;
  }
  if (c.noWarn && warnings.length > 0) return `unexpected warnings ${JSON.stringify(warnings)}`;
  if (c.noInfo && infos.length > 0) return `unexpected info annotations ${JSON.stringify(infos)}`;
  return null;
}

function checkFailure(c: EvalCase3x, err: unknown): string | null {
  const msg = err instanceof Error ? err.message : String(err);
  const e = c.fail!;
  if (e.message !== null && e.message !== msg) return `expected error ${JSON.stringify(e.message)}, got ${JSON.stringify(msg)}`;
  if (e.regex !== null && !e.regex.test(msg)) return `expected an error matching ${e.regex}, got ${JSON.stringify(msg)}`;
  return null;
}

function toGot(value: { type: string } & Record<string, unknown>): Got {
  const v = value as unknown as { type: "scalar"; v: number } | { type: "string"; v: string } | { type: "vector"; samples: Array<{ metric: Labels; v: number }> } | { type: "matrix"; series: Array<{ metric: Labels; t: ArrayLike<number>; v: ArrayLike<number> }> };
  switch (v.type) {
    case "vector":
      return { type: "vector", samples: v.samples.map((s) => ({ labels: s.metric, v: s.v })) };
    case "matrix":
      return { type: "matrix", series: v.series.map((s) => ({ labels: s.metric, t: s.t, v: s.v })) };
    default:
      return v;
  }
}

const QUERY_CONTEXT_FUNCS = /(start|end|range|step)\(\)/;

async function runInstant(engine: QueryEngine, c: EvalCase3x, expr: string, atMs: number): Promise<string | null> {
  let res;
  try {
    res = await engine.instant(expr, atMs);
  } catch (err) {
    if (c.fail !== null) return checkFailure(c, err);
    return `query failed: ${(err as Error).message}`;
  }
  if (c.fail !== null) return "expected the query to fail, but it succeeded";
  const anno = checkAnnotations(c, res.warnings);
  if (anno !== null) return anno;
  const got = toGot(res.value as never);
  const problem = compareResult(c, got, c.rangeVector ?? { startMs: c.startMs, endMs: c.endMs, stepMs: 1 });
  if (problem !== null) return problem;
  if (c.rangeVector !== null || c.string !== null || QUERY_CONTEXT_FUNCS.test(expr)) return null;
  let rr;
  try {
    rr = await engine.range(expr, atMs - 60_000, atMs + 60_000, 60_000);
  } catch (err) {
    return `range mode: query failed: ${(err as Error).message}`;
  }
  if (c.ordered) return null;
  const m = toGot(rr.value as never);
  if (m.type !== "matrix") return "range mode: no matrix";
  for (let k = 1; k < m.series.length; k++) if (compareLabels(m.series[k - 1]!.labels, m.series[k]!.labels) > 0) return `range mode: the matrix is not sorted by labels at index ${k}`;
  const samples: Array<{ labels: Labels; v: number }> = [];
  for (const s of m.series) {
    for (let k = 0; k < s.t.length; k++) if (s.t[k] === atMs) {
      samples.push({ labels: s.labels, v: s.v[k]! });
      break;
    }
  }
  const p = got.type === "scalar" ? (samples.length === 0 ? "range mode: no scalar at the middle step" : compareResult(c, { type: "scalar", v: samples[0]!.v }, { startMs: atMs, endMs: atMs, stepMs: 1 })) : compareResult(c, { type: "vector", samples }, { startMs: atMs, endMs: atMs, stepMs: 1 });
  return p === null ? null : `range mode: ${p}`;
}

async function runEval(engine: QueryEngine, c: EvalCase3x): Promise<string | null> {
  if (c.range) {
    let res;
    try {
      res = await engine.range(c.expr, c.startMs, c.endMs, c.stepMs);
    } catch (err) {
      if (c.fail !== null) return checkFailure(c, err);
      return `query failed: ${(err as Error).message}`;
    }
    if (c.fail !== null) return "expected the query to fail, but it succeeded";
    return checkAnnotations(c, res.warnings) ?? compareResult(c, toGot(res.value as never), { startMs: c.startMs, endMs: c.endMs, stepMs: c.stepMs });
  }
  const variants = [{ expr: c.expr, atMs: c.startMs }, ...atModifierCases(c.expr, c.startMs)];
  for (const q of variants) {
    const p = await runInstant(engine, c, q.expr, q.atMs);
    if (p !== null) return q.expr === c.expr && q.atMs === c.startMs ? p : `with @ as ${q.expr} at ${q.atMs} ms: ${p}`;
  }
  return null;
}

/** Parses and runs one script; returns every eval's outcome (bad script text throws, naming file:line). */
export async function runScript3x(text: string, file = "<script>", newStore: StoreFactory = memoryStore): Promise<EvalOutcome3x[]> {
  const cmds = parseScript3x(text, file);
  const stores = [await newStore()];
  let storage = stores[0]!;
  let engine = new QueryEngine(storage);
  const outcomes: EvalOutcome3x[] = [];
  try {
    for (const cmd of cmds) {
      if (cmd.kind === "clear") {
        storage = await newStore();
        stores.push(storage);
        engine = new QueryEngine(storage);
      } else if (cmd.kind === "load") {
        const app = storage.appender();
        for (const { labels, values } of cmd.defs.values()) {
          values.forEach((v, k) => {
            // Native histograms (and their NHCB conversion) are not stored yet: floats only.
            if (v === undefined || v.kind === "histogram") return;
            if (v.kind === "stale") app.appendStale(0, labels, k * cmd.stepMs);
            else app.append(0, labels, k * cmd.stepMs, v.v);
          });
        }
        await app.commit();
        await storage.flush?.();
      } else {
        const c = cmd.case;
        let error: string | null;
        try {
          error = await runEval(engine, c);
        } catch (err) {
          error = `runner error: ${(err as Error).message}`;
        }
        outcomes.push({ case: c, ok: error === null, error });
      }
    }
  } finally {
    for (const s of stores) await s.close();
  }
  return outcomes;
}
