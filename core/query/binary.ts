/**
 * Binary operators: scalar/scalar, vector/scalar and vector/vector with on/ignoring,
 * group_left/group_right, bool and the set operators, per step over columnar vectors, with
 * Prometheus 2.42's matching rules and error messages.
 */
import { Labels } from "../model/labels.ts";
import type { BinaryExpr, BinaryOp, VectorMatching } from "./ast.ts";
import type { Evaluator, StepRange } from "./evaluator.ts";
import { dropName, keepLabels, labelsString, SeriesSet, withoutLabels, type EvalValue, type StepSeries } from "./series-set.ts";
import { QueryError } from "./values.ts";

const COMPARISON = new Set<BinaryOp>(["==", "!=", ">", "<", ">=", "<="]);

/** Go's math.Pow edge cases JavaScript's ** gets differently. */
function pow(x: number, y: number): number {
  if (x === 1 || y === 0) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return x ** y;
}

/** Arithmetic result, or for comparisons whether it holds (the value kept is `x`). */
export function arith(op: BinaryOp, x: number, y: number): number {
  switch (op) {
    case "+": return x + y;
    case "-": return x - y;
    case "*": return x * y;
    case "/": return x / y;
    case "%": return x % y;
    case "^": return pow(x, y);
    case "atan2": return Math.atan2(x, y);
    default: return NaN;
  }
}

export function compare(op: BinaryOp, x: number, y: number): boolean {
  switch (op) {
    case "==": return x === y;
    case "!=": return x !== y;
    case ">": return x > y;
    case "<": return x < y;
    case ">=": return x >= y;
    case "<=": return x <= y;
    default: return false;
  }
}

export async function binary(ev: Evaluator, e: BinaryExpr, r: StepRange): Promise<EvalValue> {
  const lv = await ev.eval(e.lhs, r);
  const rv = await ev.eval(e.rhs, r);
  const n = r.n;
  const isCmp = COMPARISON.has(e.op);
  if (lv.kind === "scalar" && rv.kind === "scalar") {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const x = lv.v[i]!;
      const y = rv.v[i]!;
      out[i] = isCmp ? (compare(e.op, x, y) ? 1 : 0) : arith(e.op, x, y);
    }
    return { kind: "scalar", v: out };
  }
  if (lv.kind === "vector" && rv.kind === "scalar") return vectorScalar(ev, e, lv.series, rv.v, false, n);
  if (lv.kind === "scalar" && rv.kind === "vector") return vectorScalar(ev, e, rv.series, lv.v, true, n);
  if (lv.kind !== "vector" || rv.kind !== "vector") throw new QueryError("internal", "binary operation on unexpected operand types");
  const matching = e.matching ?? { card: "one-to-one", on: false, labels: [], include: [] };
  switch (e.op) {
    case "and":
    case "or":
    case "unless":
      return setOp(ev, e.op, lv.series, rv.series, matching, n);
    default:
      return vectorVector(ev, e, lv.series, rv.series, matching, n);
  }
}

async function vectorScalar(ev: Evaluator, e: BinaryExpr, vec: StepSeries[], scalar: Float64Array, swap: boolean, n: number): Promise<EvalValue> {
  const isCmp = COMPARISON.has(e.op);
  const drop = (!isCmp && e.op !== "atan2") || e.returnBool;
  const out = new SeriesSet(n);
  for (const s of vec) {
    seriesScalar(e, isCmp, out, out.series(drop ? dropName(s.labels) : s.labels), s, scalar, swap, n);
    if (ev.due(n + 64)) await ev.pause();
  }
  return { kind: "vector", series: await out.result(ev) };
}

/** One series against the scalar, into `o` (sync: the hot loop stays out of async code). */
function seriesScalar(e: BinaryExpr, isCmp: boolean, out: SeriesSet, o: StepSeries, s: StepSeries, scalar: Float64Array, swap: boolean, n: number): void {
  for (let i = 0; i < n; i++) {
    if (s.has[i] !== 1) continue;
    const a = s.v[i]!;
    const b = scalar[i]!;
    const x = swap ? b : a;
    const y = swap ? a : b;
    let value: number;
    if (isCmp) {
      const keep = compare(e.op, x, y);
      if (e.returnBool) value = keep ? 1 : 0;
      else if (!keep) continue;
      else value = a; // the vector's value, on whichever side
    } else value = arith(e.op, x, y);
    out.set(o, i, value);
  }
}

function signature(l: Labels, m: VectorMatching): string {
  return (m.on ? keepLabels(l, m.labels) : withoutLabels(l, m.labels, true)).key;
}

function matchedLabels(l: Labels, m: VectorMatching): Labels {
  return m.on ? keepLabels(l, m.labels) : withoutLabels(l, m.labels, true);
}

/** Each series' matching signature (labels on / ignoring), and the series by signature. */
async function signatures(ev: Evaluator, series: StepSeries[], m: VectorMatching): Promise<{ sigs: string[]; bySig: Map<string, number[]> }> {
  const sigs: string[] = [];
  const bySig = new Map<string, number[]>();
  for (let idx = 0; idx < series.length; idx++) {
    const sig = signature(series[idx]!.labels, m);
    sigs.push(sig);
    const list = bySig.get(sig);
    if (list) list.push(idx);
    else bySig.set(sig, [idx]);
    if (ev.due(64)) await ev.pause();
  }
  return { sigs, bySig };
}

async function setOp(ev: Evaluator, op: "and" | "or" | "unless", lhs: StepSeries[], rhs: StepSeries[], m: VectorMatching, n: number): Promise<EvalValue> {
  const { sigs: rsig, bySig } = await signatures(ev, rhs, m);
  const presentR = (sig: string, i: number) => (bySig.get(sig) ?? []).some((k) => rhs[k]!.has[i] === 1);
  if (op === "and" || op === "unless") {
    const out: StepSeries[] = [];
    for (const s of lhs) {
      if (ev.due(n + 64)) await ev.pause();
      const sig = signature(s.labels, m);
      const v = new Float64Array(n);
      const has = new Uint8Array(n);
      let any = false;
      for (let i = 0; i < n; i++) {
        if (s.has[i] !== 1) continue;
        if (presentR(sig, i) === (op === "and")) {
          has[i] = 1;
          v[i] = s.v[i]!;
          any = true;
        }
      }
      if (any) out.push({ labels: s.labels, v, has });
    }
    return { kind: "vector", series: out };
  }
  // or: every lhs sample, plus rhs samples whose signature the lhs lacks at that step.
  const { bySig: lsigs } = await signatures(ev, lhs, m);
  const out: StepSeries[] = lhs.slice();
  for (let idx = 0; idx < rhs.length; idx++) {
    if (ev.due(n + 16)) await ev.pause();
    const s = rhs[idx]!;
    const ls = lsigs.get(rsig[idx]!) ?? [];
    const v = new Float64Array(n);
    const has = new Uint8Array(n);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (s.has[i] !== 1) continue;
      if (ls.some((k) => lhs[k]!.has[i] === 1)) continue;
      has[i] = 1;
      v[i] = s.v[i]!;
      any = true;
    }
    if (any) out.push({ labels: s.labels, v, has });
  }
  return { kind: "vector", series: out };
}

function resultLabels(l: Labels, r: Labels, e: BinaryExpr, m: VectorMatching): Labels {
  const map = l.toMap();
  if (!COMPARISON.has(e.op) && e.op !== "atan2") map.delete("__name__");
  if (m.card === "one-to-one") {
    if (m.on) {
      for (const k of [...map.keys()]) if (!m.labels.includes(k)) map.delete(k);
    } else for (const k of m.labels) map.delete(k);
  }
  for (const name of m.include) {
    const v = r.get(name);
    if (v !== "") map.set(name, v);
    else map.delete(name);
  }
  if (e.returnBool) map.delete("__name__");
  return Labels.from(map);
}

async function vectorVector(ev: Evaluator, e: BinaryExpr, lhsIn: StepSeries[], rhsIn: StepSeries[], m: VectorMatching, n: number): Promise<EvalValue> {
  if (m.card === "many-to-many") throw new QueryError("internal", "many-to-many only allowed for set operators");
  const isCmp = COMPARISON.has(e.op);
  const swapped = m.card === "one-to-many";
  const lhs = swapped ? rhsIn : lhsIn;
  const rhs = swapped ? lhsIn : rhsIn;
  const { bySig } = await signatures(ev, rhs, m);
  // The "one" side must be unique per signature at every step where the other side has samples.
  const lhsAny = new Uint8Array(n);
  for (const s of lhs) {
    for (let i = 0; i < n; i++) lhsAny[i]! |= s.has[i]!;
    if (ev.due(n)) await ev.pause();
  }
  for (const list of bySig.values()) {
    if (ev.due(list.length < 2 ? 8 : n * list.length)) await ev.pause();
    if (list.length < 2) continue;
    for (let i = 0; i < n; i++) {
      if (lhsAny[i] !== 1) continue;
      const present = list.filter((k) => rhs[k]!.has[i] === 1);
      if (present.length > 1) {
        const a = rhs[present[1]!]!.labels;
        const b = rhs[present[0]!]!.labels;
        throw new QueryError(
          "execution",
          `found duplicate series for the match group ${labelsString(matchedLabels(a, m))} on the ${swapped ? "left" : "right"} hand-side of the operation: [${labelsString(a)}, ${labelsString(b)}];many-to-many matching not allowed: matching labels must be unique on one side`,
        );
      }
    }
  }
  const out = new SeriesSet(n);
  const pass: MatchPass = { e, m, lhs, rhs, bySig, n, isCmp, swapped, out, pairLabels: new Map(), matchedAt: new Map() };
  for (let li = 0; li < lhs.length; li++) {
    ev.check();
    if (ev.due(n + 64)) await ev.pause();
    matchSeries(pass, li);
  }
  return { kind: "vector", series: await out.result(ev) };
}

/** A vector/vector operation's state across its lhs series. */
interface MatchPass {
  e: BinaryExpr;
  m: VectorMatching;
  lhs: StepSeries[];
  rhs: StepSeries[];
  bySig: Map<string, number[]>;
  n: number;
  isCmp: boolean;
  swapped: boolean;
  out: SeriesSet;
  pairLabels: Map<string, Labels>;
  /** Per signature (one-to-one): which lhs series matched at each step. */
  matchedAt: Map<string, Int32Array>;
}

/** Every step of lhs series `li` against its matches (sync: the hot loop stays out of the async evaluator). */
function matchSeries(p: MatchPass, li: number): void {
  const { e, m, lhs, rhs, bySig, n, isCmp, swapped, out, pairLabels, matchedAt } = p;
  const ls = lhs[li]!;
  const sig = signature(ls.labels, m);
  const cands = bySig.get(sig);
  if (cands === undefined) return;
  let seen: Int32Array | null = null;
  if (m.card === "one-to-one") {
    seen = matchedAt.get(sig) ?? null;
    if (seen === null) {
      seen = new Int32Array(n).fill(-1);
      matchedAt.set(sig, seen);
    }
  }
  // The output series changes only when the matching rhs series does.
  let lastRi = -1;
  let o: StepSeries | null = null;
  for (let i = 0; i < n; i++) {
    if (ls.has[i] !== 1) continue;
    let ri = -1;
    for (let c = 0; c < cands.length; c++) if (rhs[cands[c]!]!.has[i] === 1) ri = cands[c]!;
    if (ri < 0) continue;
    const rs = rhs[ri]!;
    let vl = ls.v[i]!;
    let vr = rs.v[i]!;
    if (swapped) {
      const t = vl;
      vl = vr;
      vr = t;
    }
    // Before a comparison filters the pair out: as Prometheus 3.x, a many-to-one match is an
    // error even when the comparison would drop all but one of the many.
    if (seen !== null) {
      if (seen[i] !== -1 && seen[i] !== li) throw new QueryError("execution", "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)");
      seen[i] = li;
    }
    let value: number;
    if (isCmp) {
      const keep = compare(e.op, vl, vr);
      if (e.returnBool) value = keep ? 1 : 0;
      else if (!keep) continue;
      else value = vl;
    } else value = arith(e.op, vl, vr);
    if (ri !== lastRi || o === null) {
      const pk = `${li}:${ri}`;
      let labels = pairLabels.get(pk);
      if (labels === undefined) {
        labels = resultLabels(ls.labels, rs.labels, e, m);
        pairLabels.set(pk, labels);
      }
      o = out.series(labels);
      lastRi = ri;
    }
    if (o.has[i] === 1) {
      if (m.card === "one-to-one") throw new QueryError("execution", "vector cannot contain metrics with the same labelset");
      throw new QueryError("execution", "multiple matches for labels: grouping labels must ensure unique matches");
    }
    o.has[i] = 1;
    o.v[i] = value;
  }
}
