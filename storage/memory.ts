/**
 * An in-memory Storage with the TSDB head's append rules: per-series order, duplicates,
 * the future bound, atomic commits. Used by tests and as the reference the TSDB is
 * checked against; not meant for production data (nothing is persisted).
 */
import { AppendError, UnknownSeriesRefError, APPEND_DUPLICATE, APPEND_OUT_OF_BOUNDS, APPEND_OUT_OF_ORDER, MAX_FUTURE_MS, type Appender, type AppendRejection, type Exemplar, type ExemplarQuerier, type ExemplarSeries, type Matcher, type Querier, type Sample, type SeriesColumns, type SeriesData, type SeriesQuerier, type SeriesRef, type Steps, type Storage } from "./types.ts";
import { Labels } from "../core/model/labels.ts";
import { compileMatchers } from "./matchers.ts";
import { byLabels, drain, sortSteps } from "../core/time-slice.ts";

interface Series {
  ref: SeriesRef;
  labels: Labels;
  samples: Sample[];
  exemplars: Exemplar[];
}

interface Pending {
  series: Series;
  sample: Sample;
}

/** True when both are the same float bit pattern (NaN payloads aside, which JS cannot see). */
function sameValue(a: Sample, b: Sample): boolean {
  if (a.stale || b.stale) return a.stale === b.stale;
  return Object.is(a.v, b.v) || (Number.isNaN(a.v) && Number.isNaN(b.v));
}

export class MemoryStorage implements Storage, Querier, SeriesQuerier, ExemplarQuerier {
  readonly #byKey = new Map<string, Series>();
  readonly #byRef = new Map<SeriesRef, Series>();
  #nextRef = 1;
  /** Injectable clock for the future-timestamp bound. */
  constructor(private readonly now: () => number = Date.now) {}

  #series(ref: SeriesRef, labels: Labels | null): Series {
    if (ref > 0) {
      const s = this.#byRef.get(ref);
      if (s !== undefined) return s;
    }
    if (labels === null) throw new UnknownSeriesRefError(ref);
    if (labels.size === 0) throw new AppendError("empty label set");
    const found = this.#byKey.get(labels.key);
    if (found !== undefined) return found;
    const s: Series = { ref: this.#nextRef++, labels, samples: [], exemplars: [] };
    this.#byKey.set(labels.key, s);
    this.#byRef.set(s.ref, s);
    return s;
  }

  appender(): Appender {
    const pending: Pending[] = [];
    const exemplars: Array<[Series, Exemplar]> = [];
    // The last timestamp per series including this transaction's own samples.
    const lastInTx = new Map<Series, Sample>();
    const add = (ref: SeriesRef, labels: Labels | null, sample: Sample): SeriesRef | AppendRejection => {
      const s = this.#series(ref, labels);
      if (sample.t > this.now() + MAX_FUTURE_MS) return APPEND_OUT_OF_BOUNDS;
      const last = lastInTx.get(s) ?? s.samples.at(-1);
      if (last !== undefined) {
        if (sample.t < last.t) return APPEND_OUT_OF_ORDER;
        if (sample.t === last.t) return sameValue(sample, last) ? s.ref : APPEND_DUPLICATE;
      }
      pending.push({ series: s, sample });
      lastInTx.set(s, sample);
      return s.ref;
    };
    let open = true;
    const check = () => {
      if (!open) throw new AppendError("appender already committed or rolled back");
    };
    return {
      append: (ref, labels, t, v) => (check(), add(ref, labels, { t, v, stale: false })),
      appendStale: (ref, labels, t) => (check(), add(ref, labels, { t, v: NaN, stale: true })),
      appendExemplar: (ref, e) => {
        check();
        const s = this.#byRef.get(ref);
        if (s === undefined) return null;
        const last = exemplars.findLast(([x]) => x === s)?.[1] ?? s.exemplars.at(-1);
        if (last !== undefined && last.timestamp === e.timestamp && last.value === e.value && last.labels.equals(e.labels)) return null;
        if (last !== undefined && e.timestamp < last.timestamp) return "out_of_order";
        exemplars.push([s, e]);
        return null;
      },
      commit: async () => {
        check();
        open = false;
        for (const { series, sample } of pending) series.samples.push(sample);
        for (const [s, e] of exemplars) s.exemplars.push(e);
      },
      rollback: async () => {
        check();
        open = false;
      },
    };
  }

  select(matchers: readonly Matcher[], mint = -Infinity, maxt = Infinity): SeriesData[] {
    const match = compileMatchers(matchers);
    const out: SeriesData[] = [];
    for (const s of this.#byRef.values()) {
      if (!match(s.labels)) continue;
      const samples = s.samples.filter((x) => x.t >= mint && x.t <= maxt);
      if (samples.length > 0) out.push({ labels: s.labels, samples });
    }
    return out.sort((a, b) => (a.labels.key < b.labels.key ? -1 : 1));
  }

  /** Columnar reads for the query engine (stale markers flagged, not dropped). */
  selectColumns(matchers: readonly Matcher[], mint: number, maxt: number): SeriesColumns[] {
    return drain(this.selectColumnsSteps(matchers, mint, maxt));
  }

  /** selectColumns() in steps of one series (commits may land between them). */
  *selectColumnsSteps(matchers: readonly Matcher[], mint: number, maxt: number): Steps<SeriesColumns[]> {
    const match = compileMatchers(matchers);
    const out: SeriesColumns[] = [];
    for (const s of this.#byRef.values()) {
      if (!match(s.labels)) continue;
      let lo = 0;
      while (lo < s.samples.length && s.samples[lo]!.t < mint) lo++;
      let hi = lo;
      while (hi < s.samples.length && s.samples[hi]!.t <= maxt) hi++;
      yield 64 + hi;
      const n = hi - lo;
      if (n === 0) continue;
      const t = new Float64Array(n);
      const v = new Float64Array(n);
      let stale: Uint8Array | null = null;
      for (let i = 0; i < n; i++) {
        const x = s.samples[lo + i]!;
        t[i] = x.t;
        v[i] = x.v;
        if (x.stale) (stale ??= new Uint8Array(n))[i] = 1;
      }
      out.push({ labels: s.labels, t, v, stale });
    }
    return yield* sortSteps(out, byLabels);
  }

  /** Every series' labels, for tests. */
  /** Drops the series whose labels match, data and all, as retention does in the TSDB. */
  forget(match: (labels: Labels) => boolean): number {
    let n = 0;
    for (const [ref, s] of this.#byRef) {
      if (!match(s.labels)) continue;
      this.#byRef.delete(ref);
      this.#byKey.delete(s.labels.key);
      n++;
    }
    return n;
  }

  seriesCount(): number {
    return this.#byRef.size;
  }

  exemplarsOf(labels: Labels): Exemplar[] {
    return this.#byKey.get(labels.key)?.exemplars ?? [];
  }

  selectExemplars(sets: readonly (readonly Matcher[])[], start: number, end: number): ExemplarSeries[] {
    const matchers = sets.map((m) => compileMatchers(m));
    const out: ExemplarSeries[] = [];
    for (const s of this.#byRef.values()) {
      if (matchers.length > 0 && !matchers.some((m) => m(s.labels))) continue;
      const exemplars = s.exemplars.filter((e) => e.timestamp >= start && e.timestamp <= end);
      if (exemplars.length > 0) out.push({ seriesLabels: s.labels, exemplars });
    }
    return out.sort((a, b) => (a.seriesLabels.key < b.seriesLabels.key ? -1 : 1));
  }

  async close(): Promise<void> {}
}
