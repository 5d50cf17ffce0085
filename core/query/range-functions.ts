/**
 * Functions over range vectors (Prometheus 2.42's rate/increase/delta extrapolation,
 * *_over_time, deriv, predict_linear, holt_winters, ...), as kernels over one series'
 * typed columns and a window [lo, hi) of sample indexes: no object per sample.
 * A kernel returns undefined when the window gives no output sample.
 */
import { QueryError } from "./values.ts";

export interface Window {
  t: Float64Array;
  v: Float64Array;
  lo: number;
  hi: number;
  /** The window's end (ms): the step time minus offset, or the @ time. */
  end: number;
  rangeMs: number;
  /** The evaluation step time (ms). */
  stepTime: number;
  /** Scalar arguments at this step, in argument order (the range argument excluded). */
  args: number[];
  /** Prometheus 2.x's semantics (EngineOptions.v2Semantics). */
  v2?: boolean;
}

export type RangeKernel = (w: Window) => number | undefined;

function kahanInc(inc: number, sum: number, c: number, out: [number, number]): void {
  const t = sum + inc;
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  out[0] = t;
  out[1] = c;
}
const kbuf: [number, number] = [0, 0];

function extrapolatedRate(w: Window, isCounter: boolean, isRate: boolean): number | undefined {
  const { t, v, lo, hi } = w;
  const n = hi - lo;
  if (n < 2) return undefined;
  const rangeStart = w.end - w.rangeMs;
  const rangeEnd = w.end;
  let result = v[hi - 1]! - v[lo]!;
  if (isCounter) {
    let last = 0;
    for (let i = lo; i < hi; i++) {
      const x = v[i]!;
      if (x < last) result += last;
      last = x;
    }
  }
  let durationToStart = (t[lo]! - rangeStart) / 1000;
  let durationToEnd = (rangeEnd - t[hi - 1]!) / 1000;
  const sampled = (t[hi - 1]! - t[lo]!) / 1000;
  const avg = sampled / (n - 1);
  const threshold = avg * 1.1;
  // Extrapolate to a boundary only when a sample is within 1.1 average spacings of it, else by
  // half a spacing; a counter never back past its zero point. 3.x applies the threshold first,
  // 2.x the zero point first (which let a counter near zero extrapolate further).
  const zeroCutoff = () => {
    if (isCounter && result > 0 && v[lo]! >= 0) durationToStart = Math.min(durationToStart, sampled * (v[lo]! / result));
  };
  if (w.v2 === true) zeroCutoff();
  if (durationToStart >= threshold) durationToStart = avg / 2;
  if (w.v2 !== true) zeroCutoff();
  if (durationToEnd >= threshold) durationToEnd = avg / 2;
  let factor = (sampled + durationToStart + durationToEnd) / sampled;
  if (isRate) factor /= w.rangeMs / 1000;
  return result * factor;
}

function instantValue(w: Window, isRate: boolean): number | undefined {
  const { t, v, lo, hi } = w;
  if (hi - lo < 2) return undefined;
  const last = v[hi - 1]!;
  const prev = v[hi - 2]!;
  let result = isRate && last < prev ? last : last - prev;
  const interval = t[hi - 1]! - t[hi - 2]!;
  if (interval === 0) return undefined;
  if (isRate) result /= interval / 1000;
  return result;
}

/** Least squares slope and intercept with x = seconds since `interceptTime` (Kahan sums, as Prometheus). */
export function linearRegression(t: Float64Array, v: Float64Array, lo: number, hi: number, interceptTime: number): [number, number] {
  let n = 0;
  let sumX = 0, cX = 0, sumY = 0, cY = 0, sumXY = 0, cXY = 0, sumX2 = 0, cX2 = 0;
  const initY = v[lo]!;
  let constY = true;
  for (let i = lo; i < hi; i++) {
    const y = v[i]!;
    if (constY && i > lo && y !== initY) constY = false;
    n += 1;
    const x = (t[i]! - interceptTime) / 1000;
    kahanInc(x, sumX, cX, kbuf);
    sumX = kbuf[0]; cX = kbuf[1];
    kahanInc(y, sumY, cY, kbuf);
    sumY = kbuf[0]; cY = kbuf[1];
    kahanInc(x * y, sumXY, cXY, kbuf);
    sumXY = kbuf[0]; cXY = kbuf[1];
    kahanInc(x * x, sumX2, cX2, kbuf);
    sumX2 = kbuf[0]; cX2 = kbuf[1];
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

/** Prometheus's quantile over a sorted copy (NaN sorts first), weighted between ranks. */
export function quantileOf(q: number, values: Float64Array): number {
  const n = values.length;
  if (n === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  values.sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return values[lower]! * (1 - weight) + values[upper]! * weight;
}

/** Go's %f (6 decimals), for holt_winters' messages. */
function goF(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  return x.toFixed(6);
}

export const RANGE_KERNELS: Record<string, RangeKernel> = {
  rate: (w) => extrapolatedRate(w, true, true),
  increase: (w) => extrapolatedRate(w, true, false),
  delta: (w) => extrapolatedRate(w, false, false),
  irate: (w) => instantValue(w, true),
  idelta: (w) => instantValue(w, false),
  count_over_time: (w) => (w.hi > w.lo ? w.hi - w.lo : undefined),
  present_over_time: (w) => (w.hi > w.lo ? 1 : undefined),
  last_over_time: (w) => (w.hi > w.lo ? w.v[w.hi - 1]! : undefined),
  sum_over_time: (w) => {
    if (w.hi <= w.lo) return undefined;
    const v = w.v;
    let sum = 0;
    let c = 0;
    for (let i = w.lo; i < w.hi; i++) {
      const x = v[i]!;
      const t = sum + x;
      if (Math.abs(sum) >= Math.abs(x)) c += sum - t + x;
      else c += x - t + sum;
      sum = t;
    }
    return sum === Infinity || sum === -Infinity ? sum : sum + c;
  },
  avg_over_time: (w) => {
    if (w.hi <= w.lo) return undefined;
    const v = w.v;
    // Fast path: a compensated sum divided once, when no value can overflow it. It agrees
    // with Prometheus's incremental mean to ~1e-15 relative, without two divisions per sample.
    {
      let sum = 0;
      let c = 0;
      let ok = true;
      for (let i = w.lo; i < w.hi; i++) {
        const x = v[i]!;
        if (!(Math.abs(x) < 1e300)) {
          ok = false;
          break;
        }
        const t = sum + x;
        if (Math.abs(sum) >= Math.abs(x)) c += sum - t + x;
        else c += x - t + sum;
        sum = t;
      }
      if (ok) return (sum + c) / (w.hi - w.lo);
    }
    let mean = 0;
    let count = 0;
    let c = 0;
    for (let i = w.lo; i < w.hi; i++) {
      const x = v[i]!;
      count++;
      if (mean === Infinity || mean === -Infinity) {
        if ((x === Infinity || x === -Infinity) && mean > 0 === x > 0) continue;
        if (Number.isFinite(x)) continue;
      }
      // Kahan (Neumaier) step, inline: no allocation in the hot loop.
      const inc = x / count - mean / count;
      const t = mean + inc;
      if (Math.abs(mean) >= Math.abs(inc)) c += mean - t + inc;
      else c += inc - t + mean;
      mean = t;
    }
    if (mean === Infinity || mean === -Infinity) return mean;
    return mean + c;
  },
  min_over_time: (w) => {
    if (w.hi <= w.lo) return undefined;
    let m = w.v[w.lo]!;
    for (let i = w.lo; i < w.hi; i++) {
      const x = w.v[i]!;
      if (x < m || Number.isNaN(m)) m = x;
    }
    return m;
  },
  max_over_time: (w) => {
    if (w.hi <= w.lo) return undefined;
    let m = w.v[w.lo]!;
    for (let i = w.lo; i < w.hi; i++) {
      const x = w.v[i]!;
      if (x > m || Number.isNaN(m)) m = x;
    }
    return m;
  },
  stdvar_over_time: (w) => stdvar(w),
  stddev_over_time: (w) => {
    const r = stdvar(w);
    return r === undefined ? undefined : Math.sqrt(r);
  },
  quantile_over_time: (w) => (w.hi > w.lo ? quantileOf(w.args[0]!, w.v.slice(w.lo, w.hi)) : undefined),
  changes: (w) => {
    if (w.hi <= w.lo) return undefined;
    let changes = 0;
    let prev = w.v[w.lo]!;
    for (let i = w.lo + 1; i < w.hi; i++) {
      const cur = w.v[i]!;
      if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) changes++;
      prev = cur;
    }
    return changes;
  },
  resets: (w) => {
    if (w.hi <= w.lo) return undefined;
    let resets = 0;
    let prev = w.v[w.lo]!;
    for (let i = w.lo + 1; i < w.hi; i++) {
      const cur = w.v[i]!;
      if (cur < prev) resets++;
      prev = cur;
    }
    return resets;
  },
  deriv: (w) => {
    if (w.hi - w.lo < 2) return undefined;
    return linearRegression(w.t, w.v, w.lo, w.hi, w.t[w.lo]!)[0];
  },
  predict_linear: (w) => {
    if (w.hi - w.lo < 2) return undefined;
    const [slope, intercept] = linearRegression(w.t, w.v, w.lo, w.hi, w.stepTime);
    return slope * w.args[0]! + intercept;
  },
  holt_winters: (w) => {
    const sf = w.args[0]!;
    const tf = w.args[1]!;
    if (sf <= 0 || sf >= 1 || Number.isNaN(sf)) throw new QueryError("execution", `invalid smoothing factor. Expected: 0 < sf < 1, got: ${goF(sf)}`);
    if (tf <= 0 || tf >= 1 || Number.isNaN(tf)) throw new QueryError("execution", `invalid trend factor. Expected: 0 < tf < 1, got: ${goF(tf)}`);
    const l = w.hi - w.lo;
    if (l < 2) return undefined;
    const v = w.v;
    let s0 = 0;
    let s1 = v[w.lo]!;
    let b = v[w.lo + 1]! - v[w.lo]!;
    for (let i = 1; i < l; i++) {
      const x = sf * v[w.lo + i]!;
      if (i - 1 !== 0) b = tf * (s1 - s0) + (1 - tf) * b;
      const y = (1 - sf) * (s1 + b);
      s0 = s1;
      s1 = x + y;
    }
    return s1;
  },
};

function stdvar(w: Window): number | undefined {
  if (w.hi <= w.lo) return undefined;
  let count = 0;
  let mean = 0, cMean = 0, aux = 0, cAux = 0;
  for (let i = w.lo; i < w.hi; i++) {
    const x = w.v[i]!;
    count++;
    const delta = x - (mean + cMean);
    kahanInc(delta / count, mean, cMean, kbuf);
    mean = kbuf[0]; cMean = kbuf[1];
    kahanInc(delta * (x - (mean + cMean)), aux, cAux, kbuf);
    aux = kbuf[0]; cAux = kbuf[1];
  }
  return (aux + cAux) / count;
}
