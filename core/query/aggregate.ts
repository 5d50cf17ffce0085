/**
 * Aggregation operators (sum avg count min max stddev stdvar group topk bottomk quantile
 * count_values) with by/without, per step over the evaluator's columnar vectors, with
 * Prometheus 2.42's arithmetic (incremental mean, Welford variance, NaN rules).
 */
import { Labels } from "../model/labels.ts";
import type { AggregateExpr } from "./ast.ts";
import type { Evaluator, StepRange } from "./evaluator.ts";
import { quantileOf } from "./range-functions.ts";
import { keepLabels, SeriesSet, withoutLabels, type EvalValue, type StepSeries } from "./series-set.ts";
import { QueryError } from "./values.ts";
import { isValidLabelName } from "../model/labels.ts";
import { goFloat } from "./lexical.ts";

/** Go strconv.FormatFloat(v, 'f', -1, 64). */
export function formatFloatF(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  const s = String(v);
  if (!s.includes("e")) return s;
  const [mant, ex] = s.split("e") as [string, string];
  const exp = Number(ex);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const pointAt = (mant.replace("-", "").indexOf(".") === -1 ? mant.replace("-", "").length : mant.replace("-", "").indexOf(".")) + exp;
  let out: string;
  if (pointAt <= 0) out = "0." + "0".repeat(-pointAt) + digits;
  else if (pointAt >= digits.length) out = digits + "0".repeat(pointAt - digits.length);
  else out = digits.slice(0, pointAt) + "." + digits.slice(pointAt);
  return (neg ? "-" : "") + out;
}

export async function aggregate(ev: Evaluator, e: AggregateExpr, r: StepRange): Promise<EvalValue> {
  const n = r.n;
  let param: Float64Array | null = null;
  let label = "";
  if (e.param !== null) {
    if (e.op === "count_values") {
      const p = await ev.eval(e.param, r);
      label = p.kind === "string" ? p.s : "";
    } else param = await ev.scalarArg(e.param, r);
  }
  const input = await ev.vectorArg(e.expr, r);
  if (e.op === "count_values" && !isValidLabelName(label, "utf8")) throw new QueryError("execution", `invalid label name ${JSON.stringify(label)}`);
  // Group of every input series (labels are fixed across steps).
  const groupOf = new Int32Array(input.length);
  const groupLabels: Labels[] = [];
  const keyIndex = new Map<string, number>();
  for (let s = 0; s < input.length; s++) {
    const l = input[s]!.labels;
    const g = e.without ? withoutLabels(l, e.grouping, true) : keepLabels(l, e.grouping);
    let idx = keyIndex.get(g.key);
    if (idx === undefined) {
      idx = groupLabels.length;
      keyIndex.set(g.key, idx);
      groupLabels.push(g);
    }
    groupOf[s] = idx;
    if (ev.due(64)) await ev.pause();
  }
  const G = groupLabels.length;

  if (e.op === "topk" || e.op === "bottomk") return topk(ev, e.op === "topk", input, groupOf, G, param!, n);
  if (e.op === "count_values") return countValues(ev, input, groupOf, groupLabels, label, n);
  if (e.op === "quantile") {
    const out = new SeriesSet(n);
    const series = groupLabels.map((g) => out.series(g));
    const buckets: number[][] = groupLabels.map(() => []);
    for (let i = 0; i < n; i++) {
      for (const b of buckets) b.length = 0;
      for (let s = 0; s < input.length; s++) {
        if (input[s]!.has[i] === 1) buckets[groupOf[s]!]!.push(input[s]!.v[i]!);
        if ((s & 255) === 255 && ev.due(512)) await ev.pause();
      }
      for (let g = 0; g < G; g++) {
        if (buckets[g]!.length > 0) out.set(series[g]!, i, quantileOf(param![i]!, Float64Array.from(buckets[g]!)));
        if (ev.due(8 + 4 * buckets[g]!.length)) await ev.pause();
      }
    }
    return { kind: "vector", series: await out.result(ev) };
  }

  const size = G * n;
  const value = new Float64Array(size);
  const mean = new Float64Array(size);
  const count = new Float64Array(size);
  const op = e.op;
  const comp = op === "sum" || op === "avg" ? new Float64Array(size) : mean;
  const acc: Accumulators = { op, n, value, mean, count, comp };
  for (let s = 0; s < input.length; s++) {
    ev.check();
    if (ev.due(n + 8)) await ev.pause();
    accumulate(acc, input[s]!, groupOf[s]! * n);
  }
  const out: StepSeries[] = [];
  for (let g = 0; g < G; g++) {
    const { v, has } = groupResult(acc, g);
    out.push({ labels: groupLabels[g]!, v, has });
    if (ev.due(n + 8)) await ev.pause();
  }
  ev.hold(G);
  return { kind: "vector", series: out };
}

/** Per group and step: the running value, mean (avg, stddev) and count, G × n each. */
interface Accumulators {
  op: AggregateExpr["op"];
  n: number;
  value: Float64Array;
  mean: Float64Array;
  count: Float64Array;
  /** Kahan-Neumaier compensation of sum and avg's running sum (Prometheus 3.x sums this way). */
  comp: Float64Array;
}

/** Adds x to the compensated sum at k (Prometheus's kahanSumInc). */
function kahanAdd(value: Float64Array, comp: Float64Array, k: number, x: number): void {
  const s = value[k]!;
  const t = s + x;
  if (!Number.isFinite(t) && !Number.isNaN(t)) comp[k] = 0;
  else if (Math.abs(s) >= Math.abs(x)) comp[k] = comp[k]! + (s - t + x);
  else comp[k] = comp[k]! + (x - t + s);
  value[k] = t;
}

/** Adds one series' samples to its group's accumulators (sync: the hot loop stays out of async code). */
function accumulate(acc: Accumulators, src: StepSeries, base: number): void {
  const { op, n, value, mean, count, comp } = acc;
  for (let i = 0; i < n; i++) {
    if (src.has[i] !== 1) continue;
    const x = src.v[i]!;
    const k = base + i;
    const c = count[k]! + 1;
    count[k] = c;
    if (c === 1) {
      // A lone Inf or NaN has no defined deviation: NaN, as Prometheus 3.x.
      value[k] = op === "count" || op === "group" ? 1 : op === "stddev" || op === "stdvar" ? (Number.isFinite(x) ? 0 : NaN) : x;
      mean[k] = x;
      continue;
    }
    switch (op) {
      case "sum":
        kahanAdd(value, comp, k, x);
        break;
      case "avg": {
        kahanAdd(value, comp, k, x);
        const m = mean[k]!;
        if (!Number.isFinite(m) && !Number.isNaN(m)) {
          if (!Number.isFinite(x) && !Number.isNaN(x) && m > 0 === x > 0) break;
          if (Number.isFinite(x)) break;
        }
        mean[k] = m + (x / c - m / c);
        break;
      }
      case "count":
        value[k] = c;
        break;
      case "group":
        break;
      case "max":
        if (value[k]! < x || Number.isNaN(value[k]!)) value[k] = x;
        break;
      case "min":
        if (value[k]! > x || Number.isNaN(value[k]!)) value[k] = x;
        break;
      case "stddev":
      case "stdvar": {
        const delta = x - mean[k]!;
        mean[k] = mean[k]! + delta / c;
        value[k] = value[k]! + delta * (x - mean[k]!);
        break;
      }
    }
  }
}

/** Group g's output columns. */
function groupResult(acc: Accumulators, g: number): { v: Float64Array; has: Uint8Array } {
  const { op, n, value, mean, count, comp } = acc;
  const v = new Float64Array(n);
  const has = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = g * n + i;
    const c = count[k]!;
    if (c === 0) continue;
    has[i] = 1;
    switch (op) {
      case "sum":
        v[i] = Number.isFinite(value[k]!) ? value[k]! + comp[k]! : value[k]!;
        break;
      case "avg":
        // The compensated sum while it stays finite; the incremental mean once it overflows.
        v[i] = Number.isFinite(value[k]!) ? (value[k]! + comp[k]!) / c : mean[k]!;
        break;
      case "stdvar":
        v[i] = value[k]! / c;
        break;
      case "stddev":
        v[i] = Math.sqrt(value[k]! / c);
        break;
      default:
        v[i] = value[k]!;
    }
  }
  return { v, has };
}

async function countValues(ev: Evaluator, input: StepSeries[], groupOf: Int32Array, groupLabels: Labels[], label: string, n: number): Promise<EvalValue> {
  const out = new SeriesSet(n);
  const labelsFor = new Map<string, Labels>();
  const counts = new Map<string, { l: Labels; c: number }>();
  for (let i = 0; i < n; i++) {
    counts.clear();
    for (let s = 0; s < input.length; s++) {
      if ((s & 63) === 63 && ev.due(1024)) await ev.pause();
      if (input[s]!.has[i] !== 1) continue;
      const val = formatFloatF(input[s]!.v[i]!);
      const g = groupOf[s]!;
      const key = `${g}\u0000${val}`;
      let l = labelsFor.get(key);
      if (l === undefined) {
        const m = groupLabels[g]!.toMap();
        m.set(label, val);
        l = Labels.from(m);
        labelsFor.set(key, l);
      }
      const cur = counts.get(l.key);
      if (cur === undefined) counts.set(l.key, { l, c: 1 });
      else cur.c++;
    }
    for (const { l, c } of counts.values()) {
      const s = out.series(l);
      s.has[i] = 1;
      s.v[i] = c;
    }
  }
  return { kind: "vector", series: await out.result(ev) };
}

/**
 * topk/bottomk as Prometheus 2.42 computes them, so ties resolve the same way: a Go
 * container/heap per group (vectorByValueHeap for topk: NaN is smallest), pop + push when
 * full, then sort.Sort(sort.Reverse(heap)) (a stable insertion sort for small groups).
 */
async function topk(ev: Evaluator, top: boolean, input: StepSeries[], groupOf: Int32Array, G: number, param: Float64Array, n: number): Promise<EvalValue> {
  const out: StepSeries[] = [];
  for (const s of input) {
    out.push({ labels: s.labels, v: new Float64Array(n), has: new Uint8Array(n) });
    if (ev.due(n + 8)) await ev.pause();
  }
  const heaps: number[][] = Array.from({ length: G }, () => []);
  let order: number[] | null = null;
  for (let i = 0; i < n; i++) {
    const kf = param[i]!;
    if (!(kf <= 9223372036854774784 && kf >= -9223372036854775808)) throw new QueryError("execution", `Scalar value ${goFloat(kf)} overflows int64`);
    if (!(kf >= 1)) continue;
    const k = Math.trunc(kf);
    for (const h of heaps) h.length = 0;
    const val = (s: number) => input[s]!.v[i]!;
    // Heap order: topk keeps the smallest on top, bottomk the largest; NaN always sorts "less".
    const less = (h: number[], a: number, b: number) => {
      const x = val(h[a]!);
      return Number.isNaN(x) ? true : top ? x < val(h[b]!) : x > val(h[b]!);
    };
    const swap = (h: number[], a: number, b: number) => {
      const t = h[a]!;
      h[a] = h[b]!;
      h[b] = t;
    };
    const up = (h: number[], j: number) => {
      for (;;) {
        const p = Math.trunc((j - 1) / 2);
        if (p === j || !less(h, j, p)) break;
        swap(h, p, j);
        j = p;
      }
    };
    const down = (h: number[], i0: number, len: number) => {
      let j = i0;
      for (;;) {
        const l = 2 * j + 1;
        if (l >= len) break;
        let m = l;
        if (l + 1 < len && less(h, l + 1, l)) m = l + 1;
        if (!less(h, m, j)) break;
        swap(h, j, m);
        j = m;
      }
    };
    const groupsSeen: number[] = [];
    for (let s = 0; s < input.length; s++) {
      if ((s & 255) === 255 && ev.due(1024)) await ev.pause();
      if (input[s]!.has[i] !== 1) continue;
      const g = groupOf[s]!;
      const h = heaps[g]!;
      if (h.length === 0) {
        groupsSeen.push(g);
        h.push(s);
        continue;
      }
      const x = val(s);
      const headV = val(h[0]!);
      if (h.length < k || (top ? headV < x : headV > x) || Number.isNaN(headV)) {
        if (h.length === k) {
          if (k === 1) {
            h[0] = s;
            continue;
          }
          // heap.Pop: move the top to the end, restore, drop it.
          swap(h, 0, h.length - 1);
          down(h, 0, h.length - 1);
          h.pop();
        }
        h.push(s);
        up(h, h.length - 1);
      }
    }
    const ord: number[] = [];
    for (const g of groupsSeen) {
      const h = heaps[g]!;
      // sort.Reverse: a before b when less(b, a); a stable sort, as Go's insertion sort is.
      const idx = h.map((_, j) => j);
      idx.sort((a, b) => (less(h, b, a) ? -1 : less(h, a, b) ? 1 : 0));
      for (const j of idx) {
        const s = h[j]!;
        out[s]!.has[i] = 1;
        out[s]!.v[i] = val(s);
        ord.push(s);
      }
      if (ev.due(16 * h.length + 8)) await ev.pause();
    }
    if (n === 1) order = ord;
  }
  ev.hold(out.length);
  if (order !== null) return { kind: "vector", series: order.map((s) => out[s]!) };
  const present: StepSeries[] = [];
  for (const s of out) {
    if (s.has.includes(1)) present.push(s);
    if (ev.due(n + 8)) await ev.pause();
  }
  return { kind: "vector", series: present };
}
