/**
 * Exemplar storage: one circular buffer of `capacity` exemplars shared by all series, as
 * Prometheus's (`--enable-feature=exemplar-storage`, `storage.exemplars.max_exemplars`).
 * When the buffer is full the oldest exemplar, of whichever series, makes room.
 *
 * Each series with exemplars has an index entry (keyed by its label set, so a series the head
 * forgot and later re-created keeps its exemplars) pointing at its oldest and newest slot;
 * slots of one series are chained oldest → newest. Per slot: typed arrays for the chain,
 * timestamp and value, and the exemplar's Labels object.
 *
 * Rules (Prometheus 3.x tsdb/exemplar.go):
 * - label names and values together longer than 128 code points: rejected ("label_length");
 * - equal to the series' newest exemplar (labels, value, timestamp): a no-op ("duplicate");
 * - older than the series' newest exemplar, or at the same time with a smaller value (or the
 *   same value and labels sorting first): rejected ("out_of_order");
 * - capacity 0: storage disabled, everything rejected ("disabled").
 */
import type { Labels } from "../../core/model/labels.ts";
import { compileMatchers } from "../matchers.ts";
import type { Exemplar, ExemplarRejection, ExemplarSeries, Matcher } from "../types.ts";

/** The most code points the label names and values of one exemplar may have together. */
export const EXEMPLAR_MAX_LABEL_SET_LENGTH = 128;

interface IndexEntry {
  seriesLabels: Labels;
  /** The series ref the newest exemplar was appended under (for the WAL checkpoint). */
  ref: number;
  oldest: number;
  newest: number;
}

export interface StoredExemplar extends Exemplar {
  ref: number;
  seriesLabels: Labels;
}

const NONE = -1;

export class ExemplarStore {
  #cap = 0;
  #next = 0;
  #count = 0;
  #chain = new Int32Array(0);
  #ts = new Float64Array(0);
  #values = new Float64Array(0);
  #labels: Array<Labels | undefined> = [];
  #owner: Array<IndexEntry | undefined> = [];
  #index = new Map<string, IndexEntry>();
  /** Exemplars appended (not counting duplicates) and rejected as out of order, since start. */
  appended = 0;
  outOfOrder = 0;

  constructor(capacity: number) {
    this.resize(capacity);
  }

  get capacity(): number {
    return this.#cap;
  }

  /** Exemplars held now. */
  get size(): number {
    return this.#count;
  }

  /** Series with at least one exemplar held. */
  get seriesCount(): number {
    return this.#index.size;
  }

  /** The timestamp of the oldest exemplar held, in ms (0 when empty). */
  oldestTimestamp(): number {
    if (this.#count === 0) return 0;
    return this.#ts[this.#count < this.#cap ? 0 : this.#next]!;
  }

  /** Why `e` would not be stored for the series, or null if it would. Changes nothing. */
  validate(seriesLabels: Labels, e: Exemplar): ExemplarRejection | null {
    if (this.#cap === 0) return "disabled";
    let runes = 0;
    for (const [n, v] of e.labels) {
      runes += codePoints(n) + codePoints(v);
      if (runes > EXEMPLAR_MAX_LABEL_SET_LENGTH) return "label_length";
    }
    const idx = this.#index.get(seriesLabels.key);
    if (idx === undefined) return null;
    const i = idx.newest;
    const t = this.#ts[i]!;
    const v = this.#values[i]!;
    const l = this.#labels[i]!;
    if (e.timestamp === t && e.value === v && e.labels.equals(l)) return "duplicate";
    if (e.timestamp < t || (e.timestamp === t && (e.value < v || (e.value === v && e.labels.key < l.key)))) return "out_of_order";
    return null;
  }

  /** Stores `e` for the series unless `validate` rejects it; a duplicate is a no-op (null). */
  add(ref: number, seriesLabels: Labels, e: Exemplar): ExemplarRejection | null {
    const rejected = this.validate(seriesLabels, e);
    if (rejected === "duplicate") return null;
    if (rejected !== null) {
      if (rejected === "out_of_order") this.outOfOrder++;
      return rejected;
    }
    this.#put(ref, seriesLabels, e.timestamp, e.value, e.labels);
    this.appended++;
    return null;
  }

  #put(ref: number, seriesLabels: Labels, t: number, v: number, labels: Labels): void {
    const slot = this.#next;
    this.#evict(slot);
    const key = seriesLabels.key;
    let idx = this.#index.get(key);
    if (idx === undefined) {
      idx = { seriesLabels, ref, oldest: slot, newest: slot };
      this.#index.set(key, idx);
    } else {
      this.#chain[idx.newest] = slot;
      idx.newest = slot;
      idx.ref = ref;
    }
    this.#chain[slot] = NONE;
    this.#ts[slot] = t;
    this.#values[slot] = v;
    this.#labels[slot] = labels;
    this.#owner[slot] = idx;
    this.#next = (slot + 1) % this.#cap;
  }

  /** Frees `slot` (the oldest exemplar held, when the buffer is full). */
  #evict(slot: number): void {
    const owner = this.#owner[slot];
    if (owner === undefined) {
      this.#count++;
      return;
    }
    const after = this.#chain[slot]!;
    if (after === NONE) this.#index.delete(owner.seriesLabels.key);
    else owner.oldest = after;
  }

  /**
   * Exemplars with start ≤ timestamp ≤ end of the series matching any of `sets` (all series
   * for no sets), oldest first per series, series in label order; series with none left out.
   */
  select(start: number, end: number, sets: readonly (readonly Matcher[])[]): ExemplarSeries[] {
    const out: ExemplarSeries[] = [];
    if (this.#count === 0) return out;
    const matchers = sets.map((s) => compileMatchers(s));
    for (const idx of this.#index.values()) {
      if (this.#ts[idx.oldest]! > end || this.#ts[idx.newest]! < start) continue;
      if (matchers.length > 0 && !matchers.some((m) => m(idx.seriesLabels))) continue;
      const exemplars: Exemplar[] = [];
      for (let i = idx.oldest; i !== NONE; i = this.#chain[i]!) {
        const t = this.#ts[i]!;
        if (t > end) break;
        if (t >= start) exemplars.push({ labels: this.#labels[i]!, value: this.#values[i]!, timestamp: t });
      }
      if (exemplars.length > 0) out.push({ seriesLabels: idx.seriesLabels, exemplars });
    }
    return out.sort((a, b) => (a.seriesLabels.key < b.seriesLabels.key ? -1 : a.seriesLabels.key > b.seriesLabels.key ? 1 : 0));
  }

  /** Every exemplar held, oldest appended first (for WAL checkpoints). */
  *all(): Generator<StoredExemplar> {
    if (this.#count === 0) return;
    const first = this.#count < this.#cap ? 0 : this.#next;
    for (let k = 0; k < this.#count; k++) {
      const i = (first + k) % this.#cap;
      const owner = this.#owner[i]!;
      yield { ref: owner.ref, seriesLabels: owner.seriesLabels, labels: this.#labels[i]!, value: this.#values[i]!, timestamp: this.#ts[i]! };
    }
  }

  /**
   * Changes the capacity, keeping the newest exemplars that fit (0 disables the storage and
   * drops everything). Returns how many were kept.
   */
  resize(capacity: number): number {
    if (!Number.isSafeInteger(capacity)) throw new RangeError(`Exemplar storage capacity must be an integer, got ${capacity}`);
    const cap = Math.max(0, capacity);
    if (cap === this.#cap) return this.#count;
    const kept = [...this.all()].slice(Math.max(0, this.#count - cap));
    this.#cap = cap;
    this.#next = 0;
    this.#count = 0;
    this.#chain = new Int32Array(cap);
    this.#ts = new Float64Array(cap);
    this.#values = new Float64Array(cap);
    this.#labels = new Array<Labels | undefined>(cap);
    this.#owner = new Array<IndexEntry | undefined>(cap);
    this.#index = new Map();
    for (const e of kept) this.#put(e.ref, e.seriesLabels, e.timestamp, e.value, e.labels);
    return kept.length;
  }
}

function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A surrogate pair is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}
