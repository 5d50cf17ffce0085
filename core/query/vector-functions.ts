/**
 * Functions over instant vectors and scalars (math, clamp, round, time and date functions,
 * label_replace/label_join, sort, absent, scalar, vector, timestamp, histogram_quantile),
 * applied per step to the evaluator's columnar vectors.
 */
import { RE2JS } from "re2js";
import { Labels, isValidLabelName } from "../model/labels.ts";
import { expand, parseTemplate } from "../relabel/template.ts";
import { goDate, type GoDate } from "./go-time.ts";
import type { Call, Expr } from "./ast.ts";
import { absentLabels, type Evaluator, type StepRange } from "./evaluator.ts";
import { dropName, SeriesSet, setLabel, withoutLabels, type EvalValue, type StepSeries } from "./series-set.ts";
import { QueryError } from "./values.ts";
import { drive, sortSteps } from "../time-slice.ts";

const MATH: Record<string, (x: number) => number> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  sqrt: Math.sqrt,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sgn: (x) => (x < 0 ? -1 : x > 0 ? 1 : x),
  deg: (x) => (x * 180) / Math.PI,
  rad: (x) => (x * Math.PI) / 180,
  acos: Math.acos,
  acosh: Math.acosh,
  asin: Math.asin,
  asinh: Math.asinh,
  atan: Math.atan,
  atanh: Math.atanh,
  cos: Math.cos,
  // Go's math.Cosh/Sinh use exp(|x|)/2 past 21, so they overflow to ±Inf where JS's do not.
  cosh: (x) => (Math.abs(x) > 21 ? Math.exp(Math.abs(x)) * 0.5 : Math.cosh(x)),
  sin: Math.sin,
  sinh: (x) => (Math.abs(x) > 21 ? Math.sign(x) * Math.exp(Math.abs(x)) * 0.5 : Math.sinh(x)),
  tan: Math.tan,
  tanh: Math.tanh,
};

const DATE: Record<string, (d: GoDate) => number> = {
  day_of_month: (d) => d.day,
  day_of_week: (d) => d.weekday,
  day_of_year: (d) => d.yearDay,
  days_in_month: (d) => d.daysInMonth,
  hour: (d) => d.hour,
  minute: (d) => d.minute,
  month: (d) => d.month,
  year: (d) => d.year,
};

/** Applies f per present value, dropping the metric name (Prometheus's simpleFunc). */
async function mapValues(ev: Evaluator, input: StepSeries[], n: number, f: (x: number, i: number) => number, keepName = false): Promise<EvalValue> {
  const out = new SeriesSet(n);
  for (const s of input) {
    mapSeries(out, out.series(keepName ? s.labels : dropName(s.labels)), s, n, f);
    if (ev.due(4 * n + 64)) await ev.pause();
  }
  return { kind: "vector", series: await out.result(ev) };
}

function mapSeries(out: SeriesSet, o: StepSeries, s: StepSeries, n: number, f: (x: number, i: number) => number): void {
  for (let i = 0; i < n; i++) if (s.has[i] === 1) out.set(o, i, f(s.v[i]!, i));
}

function unwrap(e: Expr): Expr {
  while (e.kind === "paren") e = e.expr;
  return e;
}

export async function vectorFunction(ev: Evaluator, e: Call, r: StepRange): Promise<EvalValue> {
  const n = r.n;
  const math = MATH[e.name];
  if (math !== undefined) return mapValues(ev, await ev.vectorArg(e.args[0]!, r), n, math);
  const date = DATE[e.name];
  if (date !== undefined) {
    if (e.args.length === 0) {
      const v = new Float64Array(n);
      for (let i = 0; i < n; i++) v[i] = date(goDate(Math.trunc((r.start + i * r.interval) / 1000)));
      return { kind: "vector", series: [{ labels: Labels.EMPTY, v, has: new Uint8Array(n).fill(1) }] };
    }
    return mapValues(ev, await ev.vectorArg(e.args[0]!, r), n, (x) => date(goDate(x)));
  }
  switch (e.name) {
    case "time": {
      const v = new Float64Array(n);
      for (let i = 0; i < n; i++) v[i] = (r.start + i * r.interval) / 1000;
      return { kind: "scalar", v };
    }
    case "pi":
      return { kind: "scalar", v: new Float64Array(n).fill(Math.PI) };
    case "vector": {
      const v = await ev.scalarArg(e.args[0]!, r);
      return { kind: "vector", series: [{ labels: Labels.EMPTY, v: v.slice(), has: new Uint8Array(n).fill(1) }] };
    }
    case "scalar": {
      const input = await ev.vectorArg(e.args[0]!, r);
      const v = new Float64Array(n).fill(NaN);
      for (let i = 0; i < n; i++) {
        let found = -1;
        let count = 0;
        for (let s = 0; s < input.length; s++) {
          if (input[s]!.has[i] === 1) {
            found = s;
            count++;
          }
          if ((s & 1023) === 1023 && ev.due(1024)) await ev.pause();
        }
        if (count === 1) v[i] = input[found]!.v[i]!;
      }
      return { kind: "scalar", v };
    }
    case "timestamp": {
      const arg = unwrap(e.args[0]!);
      if (arg.kind === "vector") return mapValues(ev, await ev.vectorSelector(arg, r, true), n, (x) => x);
      return mapValues(ev, await ev.vectorArg(arg, r), n, (_x, i) => (r.start + i * r.interval) / 1000);
    }
    case "clamp": {
      const input = await ev.vectorArg(e.args[0]!, r);
      const lo = await ev.scalarArg(e.args[1]!, r);
      const hi = await ev.scalarArg(e.args[2]!, r);
      const out = new SeriesSet(n);
      for (const s of input) {
        const o = out.series(dropName(s.labels));
        for (let i = 0; i < n; i++) {
          if (s.has[i] !== 1 || hi[i]! < lo[i]!) continue;
          out.set(o, i, Math.max(lo[i]!, Math.min(hi[i]!, s.v[i]!)));
        }
        if (ev.due(4 * n + 64)) await ev.pause();
      }
      return { kind: "vector", series: await out.result(ev) };
    }
    case "clamp_max": {
      const hi = await ev.scalarArg(e.args[1]!, r);
      return mapValues(ev, await ev.vectorArg(e.args[0]!, r), n, (x, i) => Math.min(x, hi[i]!));
    }
    case "clamp_min": {
      const lo = await ev.scalarArg(e.args[1]!, r);
      return mapValues(ev, await ev.vectorArg(e.args[0]!, r), n, (x, i) => Math.max(x, lo[i]!));
    }
    case "round": {
      const to = e.args.length > 1 ? await ev.scalarArg(e.args[1]!, r) : new Float64Array(n).fill(1);
      return mapValues(ev, await ev.vectorArg(e.args[0]!, r), n, (x, i) => {
        const inv = 1 / to[i]!;
        return Math.floor(x * inv + 0.5) / inv;
      });
    }
    case "sort":
    case "sort_desc": {
      const input = await ev.vectorArg(e.args[0]!, r);
      if (n !== 1) return { kind: "vector", series: input };
      const asc = e.name === "sort";
      const present = input.filter((s) => s.has[0] === 1);
      const sorted = await drive(
        sortSteps(present, (a, b) => {
          const x = a.v[0]!;
          const y = b.v[0]!;
          if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
          if (Number.isNaN(y)) return -1;
          return asc ? x - y : y - x;
        }),
        ev.slices,
      );
      return { kind: "vector", series: sorted };
    }
    case "absent": {
      const input = await ev.vectorArg(e.args[0]!, r);
      const v = new Float64Array(n);
      const has = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (ev.due(input.length)) await ev.pause();
        if (input.some((s) => s.has[i] === 1)) continue;
        has[i] = 1;
        v[i] = 1;
      }
      if (!has.includes(1)) return { kind: "vector", series: [] };
      const arg = unwrap(e.args[0]!);
      return { kind: "vector", series: [{ labels: absentLabels(arg.kind === "vector" ? arg : null), v, has }] };
    }
    case "label_replace":
      return labelReplace(ev, e, r);
    case "label_join":
      return labelJoin(ev, e, r);
    case "histogram_quantile":
      return histogramQuantile(ev, e, r);
    case "histogram_count":
    case "histogram_sum":
    case "histogram_fraction":
      // Native histograms only: float samples give no output.
      for (const a of e.args) await ev.eval(a, r);
      return { kind: "vector", series: [] };
  }
  throw new QueryError("internal", `function ${JSON.stringify(e.name)} is not implemented`);
}

async function stringArg(ev: Evaluator, e: Expr, r: StepRange): Promise<string> {
  const v = await ev.eval(e, r);
  if (v.kind !== "string") throw new QueryError("internal", "expected a string argument");
  return v.s;
}

async function relabelSeries(ev: Evaluator, input: StepSeries[], n: number, f: (l: Labels) => Labels): Promise<EvalValue> {
  const out = new SeriesSet(n);
  for (const s of input) {
    const o = out.series(f(s.labels));
    for (let i = 0; i < n; i++) if (s.has[i] === 1) out.set(o, i, s.v[i]!);
    if (ev.due(2 * n + 256)) await ev.pause();
  }
  return { kind: "vector", series: await out.result(ev) };
}

async function labelReplace(ev: Evaluator, e: Call, r: StepRange): Promise<EvalValue> {
  const input = await ev.vectorArg(e.args[0]!, r);
  const dst = await stringArg(ev, e.args[1]!, r);
  const repl = await stringArg(ev, e.args[2]!, r);
  const src = await stringArg(ev, e.args[3]!, r);
  const regexStr = await stringArg(ev, e.args[4]!, r);
  let re: RE2JS;
  try {
    // As in 3.x, `.` matches a newline too.
    re = RE2JS.compile(`^(?s:${regexStr})$`);
  } catch {
    throw new QueryError("execution", `invalid regular expression in label_replace(): ${regexStr}`);
  }
  if (!isValidLabelName(dst, "utf8")) throw new QueryError("execution", `invalid destination label name in label_replace(): ${dst}`);
  const template = parseTemplate(repl);
  const named = re.namedGroups();
  return relabelSeries(ev, input, r.n, (l) => {
    const m = re.matcher(l.get(src));
    if (!m.matches()) return l;
    const res = expand(template, { group: (i) => m.group(i), named: (nm) => named[nm], count: m.groupCount() });
    return setLabel(l, dst, res);
  });
}

async function labelJoin(ev: Evaluator, e: Call, r: StepRange): Promise<EvalValue> {
  const input = await ev.vectorArg(e.args[0]!, r);
  const dst = await stringArg(ev, e.args[1]!, r);
  const sep = await stringArg(ev, e.args[2]!, r);
  const srcs: string[] = [];
  for (const a of e.args.slice(3)) srcs.push(await stringArg(ev, a, r));
  for (const s of srcs) if (!isValidLabelName(s, "utf8")) throw new QueryError("execution", `invalid source label name in label_join(): ${s}`);
  if (!isValidLabelName(dst, "utf8")) throw new QueryError("execution", `invalid destination label name in label_join(): ${dst}`);
  return relabelSeries(ev, input, r.n, (l) => setLabel(l, dst, srcs.map((s) => l.get(s)).join(sep)));
}

/** Go strconv.ParseFloat for bucket bounds (Inf spellings, hex, underscores not allowed). */
function parseGoFloat(s: string): number {
  const t = s.trim();
  if (t !== s || t === "") return NaN;
  const lower = t.toLowerCase().replace(/^[+]/, "");
  if (lower === "inf" || lower === "infinity") return t.startsWith("-") ? -Infinity : Infinity;
  if (lower === "-inf" || lower === "-infinity") return -Infinity;
  if (lower === "nan") return NaN;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(t)) return Number(t.replace(/^[+]/, ""));
  return Number.NaN;
}

async function histogramQuantile(ev: Evaluator, e: Call, r: StepRange): Promise<EvalValue> {
  const q = await ev.scalarArg(e.args[0]!, r);
  const input = await ev.vectorArg(e.args[1]!, r);
  const n = r.n;
  const groups = new Map<string, { labels: Labels; members: Array<{ s: StepSeries; le: number }> }>();
  for (const s of input) {
    if (ev.due(128)) await ev.pause();
    const leStr = s.labels.get("le");
    const le = parseGoFloat(leStr);
    if (leStr === "" || (Number.isNaN(le) && leStr.toLowerCase() !== "nan")) continue;
    const key = withoutLabels(s.labels, ["le"], false);
    let g = groups.get(key.key);
    if (g === undefined) {
      g = { labels: dropName(key), members: [] };
      groups.set(key.key, g);
    }
    g.members.push({ s, le });
  }
  const out = new SeriesSet(n);
  for (const g of groups.values()) {
    const o = out.series(g.labels);
    g.members.sort((a, b) => a.le - b.le);
    for (let i = 0; i < n; i++) {
      if (ev.due(4 * g.members.length + 8)) await ev.pause();
      const bounds: number[] = [];
      const counts: number[] = [];
      for (const m of g.members) {
        if (m.s.has[i] !== 1) continue;
        if (bounds.length > 0 && bounds[bounds.length - 1] === m.le) counts[counts.length - 1]! += m.s.v[i]!;
        else {
          bounds.push(m.le);
          counts.push(m.s.v[i]!);
        }
      }
      if (bounds.length === 0) continue;
      out.set(o, i, bucketQuantile(q[i]!, bounds, counts));
    }
  }
  return { kind: "vector", series: await out.result(ev) };
}

/** Prometheus's bucketQuantile over sorted, coalesced buckets. */
function bucketQuantile(q: number, bounds: number[], counts: number[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (bounds[bounds.length - 1] !== Infinity) return NaN;
  let max = -Infinity;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i]! > max) max = counts[i]!;
    else if (counts[i]! < max) counts[i] = max;
  }
  if (bounds.length < 2) return NaN;
  const observations = counts[counts.length - 1]!;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = 0;
  while (b < bounds.length - 1 && !(counts[b]! >= rank)) b++;
  if (b === bounds.length - 1) return bounds[bounds.length - 2]!;
  if (b === 0 && bounds[0]! <= 0) return bounds[0]!;
  let bucketStart = 0;
  const bucketEnd = bounds[b]!;
  let count = counts[b]!;
  if (b > 0) {
    bucketStart = bounds[b - 1]!;
    count -= counts[b - 1]!;
    rank -= counts[b - 1]!;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}
