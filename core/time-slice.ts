/**
 * Cooperative time slicing for work that can run long — a query over a million series, the
 * series API over all of them: the work asks `due()` as it goes and, once its slice of the
 * event loop is used up, awaits `pause()`, which lets timers, I/O and other requests run (a
 * macrotask, setImmediate) before it goes on. DESIGN: the event loop is never held for more
 * than ~100 ms; slices are 20 ms by default, as the scrape loop's.
 *
 * Storage reads are sync generators (`Steps`) that yield, with a rough count of the work done
 * since the last yield, wherever a pause is safe: `drive()` runs one in slices, `drain()` runs
 * it to the end at once (what the sync APIs do).
 *
 * @example
 * const slices = new TimeSlicer(20, () => signal.throwIfAborted());
 * for (const s of series) {
 *   work(s);
 *   if (slices.due(s.length)) await slices.pause();
 * }
 * const cols = await drive(db.selectColumnsSteps(matchers, mint, maxt), slices);
 */
import type { Steps } from "../storage/types.ts";

export type { Steps } from "../storage/types.ts";

export const DEFAULT_SLICE_MS = 20;

/**
 * Work units between two looks at the clock (performance.now() costs ~50 ns here). A unit is
 * about one typed-array element touched; callers weigh coarser steps (a series' labels, a
 * SQLite read) as many units, so the clock is read at least every few hundred microseconds.
 */
const UNITS = 1024;

/** Lets timers, I/O and other requests run. */
const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

export class TimeSlicer {
  /** How many times the work paused (for tests and stats). */
  pauses = 0;
  #end: number;
  #budget = UNITS;

  /**
   * `sliceMs`: how long the work may hold the event loop at a stretch (0: pause at every
   * look at the clock; Infinity: never). `onResume` runs after each pause and may throw to
   * stop the work there (cancellation, a deadline).
   */
  constructor(
    readonly sliceMs: number = DEFAULT_SLICE_MS,
    private readonly onResume: () => void = () => {},
  ) {
    if (!(sliceMs >= 0)) throw new RangeError(`A time slice must be 0 ms or longer, got ${sliceMs}`);
    this.#end = performance.now() + sliceMs;
  }

  /** Counts `work` units done; true when the slice is used up and the caller should `await pause()`. */
  due(work = 1): boolean {
    if ((this.#budget -= work) > 0) return false;
    this.#budget = UNITS;
    return performance.now() >= this.#end;
  }

  /** Yields to the event loop, starts a new slice, then runs the resume check (which may throw). */
  async pause(): Promise<void> {
    await macrotask();
    this.pauses++;
    this.#budget = UNITS;
    this.#end = performance.now() + this.sliceMs;
    this.onResume();
  }
}

/** A slicer that never pauses: for sync callers of sliced code. */
export const NEVER_PAUSE = new TimeSlicer(Infinity);

/** Runs `steps` to the end, pausing between steps whenever `slices` says the slice is used up. */
export async function drive<T>(steps: Steps<T>, slices: TimeSlicer): Promise<T> {
  let done = false;
  try {
    for (;;) {
      const r = steps.next();
      if (r.done === true) {
        done = true;
        return r.value;
      }
      if (slices.due(r.value)) await slices.pause();
    }
  } finally {
    // Stopped between steps (cancelled, timed out): let the generator's finally blocks run.
    if (!done) steps.return(undefined as T);
  }
}

/** Runs `steps` to the end at once. */
export function drain<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/** Elements sorted at once (natively) before merging; ~0.5 ms for label keys. */
const RUN = 512;

/** Orders by a string key (label sets by their key), as the `<` operator compares strings. */
export function byKey<T>(key: (x: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

/** Strings in `<` order (what Array.prototype.sort() does without a comparator). */
export const byString = byKey((s: string) => s);

/** Things with labels in label order (labels.Compare: their keys compare the same). */
export const byLabels = byKey((x: { labels: { key: string } }) => x.labels.key);

/**
 * `items` sorted by `compare` (stable), as steps: native sorts of short runs, then bottom-up
 * merges that yield every RUN elements. Sorting 1.75M label keys at once takes seconds.
 */
export function* sortSteps<T>(items: readonly T[], compare: (a: T, b: T) => number): Steps<T[]> {
  const n = items.length;
  if (n <= RUN) return items.slice().sort(compare);
  // Storage hands out series in label order already: then a look at each pair is all it takes.
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) {
    if (compare(items[i - 1]!, items[i]!) > 0) sorted = false;
    if ((i & (RUN - 1)) === 0) yield RUN * 2;
  }
  if (sorted) return items.slice();
  const cmp = (a: number, b: number) => compare(items[a]!, items[b]!) || a - b;
  let src = new Int32Array(n);
  for (let i = 0; i < n; i++) src[i] = i;
  for (let lo = 0; lo < n; lo += RUN) {
    src.subarray(lo, Math.min(n, lo + RUN)).sort(cmp);
    yield RUN * 16;
  }
  let dst = new Int32Array(n);
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(n, lo + width);
      const hi = Math.min(n, lo + 2 * width);
      // Runs already in order (partly sorted input) are copied, not merged.
      if (mid >= hi || compare(items[src[mid - 1]!]!, items[src[mid]!]!) <= 0) {
        dst.set(src.subarray(lo, hi), lo);
        continue;
      }
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        // Stable: the left run wins ties.
        dst[k++] = compare(items[src[j]!]!, items[src[i]!]!) < 0 ? src[j++]! : src[i++]!;
        if ((k & (RUN - 1)) === 0) yield RUN * 4;
      }
      if (i < mid) dst.set(src.subarray(i, mid), k);
      else if (j < hi) dst.set(src.subarray(j, hi), k);
    }
    const t = src;
    src = dst;
    dst = t;
    yield RUN;
  }
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = items[src[i]!]!;
  return out;
}
