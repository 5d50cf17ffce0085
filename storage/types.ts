/**
 * The storage contracts every backend implements (the TSDB, remote write, the in-memory
 * store used in tests) and the scrape loop writes through.
 *
 * A scrape opens one Appender, appends every sample, and either commits (all samples
 * become visible together) or rolls back (none do). Series are addressed by a numeric
 * ref that the storage hands out for a label set, so a cached series costs no label work.
 */
import type { Labels } from "../core/model/labels.ts";

/** A series ref: a positive integer, stable for the life of the series in that storage. */
export type SeriesRef = number;

/**
 * Tolerated per-sample outcomes (spec §4.5 step 9): the sample is dropped and counted,
 * the scrape goes on. Returned as negative numbers so the hot path throws nothing.
 */
export const APPEND_OUT_OF_ORDER = -1;
export const APPEND_DUPLICATE = -2;
export const APPEND_OUT_OF_BOUNDS = -3;
export type AppendRejection = typeof APPEND_OUT_OF_ORDER | typeof APPEND_DUPLICATE | typeof APPEND_OUT_OF_BOUNDS;

/** A failure that fails the whole scrape (e.g. invalid labels). */
export class AppendError extends Error {
  override name = "AppendError";
}

/**
 * An append by ref alone (no labels) for a series the storage no longer holds — retention
 * removed all its data. The caller resolves the series by its labels again.
 */
export class UnknownSeriesRefError extends AppendError {
  override name = "UnknownSeriesRefError";
  constructor(readonly ref: SeriesRef) {
    super(`unknown series ref ${ref} and no labels to create it`);
  }
}

export interface Exemplar {
  labels: Labels;
  value: number;
  /** Milliseconds; exemplars without their own timestamp take the sample's. */
  timestamp: number;
}

/**
 * Why an exemplar was not stored: storage disabled, label set over 128 code points, older
 * than the series' newest exemplar, or equal to it (a no-op, not reported by appenders).
 */
export type ExemplarRejection = "disabled" | "label_length" | "out_of_order" | "duplicate";

/** One series' exemplars, oldest first (what /api/v1/query_exemplars returns). */
export interface ExemplarSeries {
  seriesLabels: Labels;
  exemplars: Exemplar[];
}

/** Storages that keep exemplars. */
export interface ExemplarQuerier {
  /** Exemplars in [start, end] (ms) of the series matching any of the sets, series in label order. */
  selectExemplars(matcherSets: readonly (readonly Matcher[])[], start: number, end: number): ExemplarSeries[];
}

export interface Appender {
  /**
   * Appends a float sample at `t` (ms). `ref` is a ref from an earlier append, or 0 to
   * look the series up (or create it) by `labels`. Returns the series ref, or an
   * AppendRejection for a tolerated error; throws AppendError for anything else.
   */
  append(ref: SeriesRef, labels: Labels | null, t: number, v: number): SeriesRef | AppendRejection;
  /** Appends a stale marker (StaleNaN, carried as a flag so its bits survive). */
  appendStale(ref: SeriesRef, labels: Labels | null, t: number): SeriesRef | AppendRejection;
  /**
   * Adds an exemplar of the series `ref` (from an append in this transaction), stored on
   * commit. Returns why it will not be stored, or null (also for a duplicate, a no-op).
   * Exemplar problems never fail a scrape.
   */
  appendExemplar(ref: SeriesRef, exemplar: Exemplar): ExemplarRejection | null;
  /** Makes every appended sample visible, atomically. */
  commit(): Promise<void>;
  /** Discards every appended sample. */
  rollback(): Promise<void>;
}

export interface Sample {
  t: number;
  /** The value; NaN for a stale marker (see `stale`). */
  v: number;
  /** A stale marker (StaleNaN), which a JS number cannot carry bit-exactly. */
  stale: boolean;
}

export type MatchType = "=" | "!=" | "=~" | "!~";

export interface Matcher {
  type: MatchType;
  name: string;
  value: string;
}

export interface SeriesData {
  labels: Labels;
  samples: Sample[];
}

export interface Querier {
  /** Series matching every matcher, with their samples in [mint, maxt], sorted by labels. */
  select(matchers: readonly Matcher[], mint: number, maxt: number): SeriesData[];
}

export interface Storage {
  appender(): Appender;
  close(): Promise<void>;
}

/** The largest accepted timestamp: now + 10 minutes (spec §4.5 step 8). */
export const MAX_FUTURE_MS = 10 * 60_000;

/**
 * Work cut into steps: a sync generator that yields, with a rough count of the work done since
 * its last yield (about one unit per array element touched), wherever the caller may pause and
 * let the event loop run. `drive()` in core/time-slice.ts runs one in time slices, `drain()` at once.
 * A generator must not hold anything across a yield that other work can invalidate (a WASM
 * chunk handle, a view of a list that is rewritten in place).
 */
export type Steps<T> = Generator<number, T, void>;

/** What the series and label APIs need from a storage (the TSDB implements it). */
export interface LabelQuerier {
  /** Series matching any of the matcher sets with data in [mint, maxt]. */
  series(matcherSets: readonly (readonly Matcher[])[], mint: number, maxt: number): Labels[];
  labelNames(matcherSets: readonly (readonly Matcher[])[], mint: number, maxt: number): string[];
  labelValues(name: string, matcherSets: readonly (readonly Matcher[])[], mint: number, maxt: number): string[];
  /** series() as steps, for callers that must not hold the event loop (a storage over millions of series has them). */
  seriesSteps?(matcherSets: readonly (readonly Matcher[])[], mint: number, maxt: number): Steps<Labels[]>;
  labelNamesSteps?(matcherSets: readonly (readonly Matcher[])[], mint: number, maxt: number): Steps<string[]>;
  labelValuesSteps?(name: string, matcherSets: readonly (readonly Matcher[])[], mint: number, maxt: number): Steps<string[]>;
  /** Head statistics for /api/v1/status/tsdb. */
  headStats(limit: number): HeadStats;
}

export interface HeadStats {
  numSeries: number;
  chunkCount: number;
  minTime: number;
  maxTime: number;
  numLabelPairs: number;
  seriesCountByMetricName: Array<{ name: string; value: number }>;
  labelValueCountByLabelName: Array<{ name: string; value: number }>;
  memoryInBytesByLabelName: Array<{ name: string; value: number }>;
  seriesCountByLabelValuePair: Array<{ name: string; value: number }>;
}

/**
 * One series' samples as columns (what the PromQL engine reads): timestamps (ms) and values
 * in ascending time order. Stale markers are kept in place so a query can see where a series
 * ended: `stale[i] === 1` marks one (its `v[i]` is NaN); `stale` is null when there is none.
 */
export interface SeriesColumns {
  labels: Labels;
  t: Float64Array;
  v: Float64Array;
  stale: Uint8Array | null;
}

/** Columnar reads for the query engine: no JS object per sample. */
export interface SeriesQuerier {
  /** Series matching every matcher with at least one sample in [mint, maxt], sorted by labels. */
  selectColumns(matchers: readonly Matcher[], mint: number, maxt: number): SeriesColumns[];
  /**
   * selectColumns() as steps (the query engine drives them in time slices). Between two steps
   * the storage may change: each series is read whole within one step, and a series removed
   * meanwhile is left out.
   */
  selectColumnsSteps?(matchers: readonly Matcher[], mint: number, maxt: number): Steps<SeriesColumns[]>;
}
