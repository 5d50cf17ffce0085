/**
 * The postings index: label name → value → the refs of the series that carry that pair,
 * in ascending order (refs only grow, so appending keeps the lists sorted).
 *
 * A list is a growable Uint32Array (4 bytes a ref), and a pair carried by a single series —
 * a label unique per series — is just the number, so the index holds no JS object per
 * series.
 */
import type { Labels } from "../../core/model/labels.ts";
import { compileMatcher } from "../matchers.ts";
import type { Matcher, Steps } from "../types.ts";

/** A sorted, growable list of refs. */
class RefList {
  refs: Uint32Array;
  n: number;
  constructor(...first: number[]) {
    this.refs = new Uint32Array(Math.max(4, first.length));
    this.refs.set(first);
    this.n = first.length;
  }
  push(ref: number): void {
    if (this.n === this.refs.length) {
      const b = new Uint32Array(this.n < 1024 ? this.n * 2 : Math.ceil(this.n * 1.25));
      b.set(this.refs);
      this.refs = b;
    }
    this.refs[this.n++] = ref;
  }
  view(): Uint32Array {
    return this.refs.subarray(0, this.n);
  }
}

type Entry = number | RefList;

/** The postings index as arrays (Postings.dump(), .load()). */
export interface PostingsDump {
  names: Array<[string, string[]]>;
  sizes: Uint32Array;
  refs: Uint32Array;
}

const view = (e: Entry): ArrayLike<number> => (typeof e === "number" ? [e] : e.view());
const size = (e: Entry): number => (typeof e === "number" ? 1 : e.n);

export class Postings {
  readonly #index = new Map<string, Map<string, Entry>>();

  /** `allRefs`: every series ref, ascending (for matchers that narrow nothing; not kept here). */
  constructor(private readonly allRefs: () => number[]) {}

  add(ref: number, labels: Iterable<readonly [string, string]>): void {
    for (const [name, value] of labels) {
      let values = this.#index.get(name);
      if (values === undefined) this.#index.set(name, (values = new Map()));
      const e = values.get(value);
      if (e === undefined) values.set(value, ref);
      else if (typeof e === "number") values.set(value, new RefList(e, ref));
      else e.push(ref);
    }
  }

  /** Drops refs (series removed from the head) from every list, each list rewritten once. */
  remove(refs: ReadonlySet<number>, labelsOf: (ref: number) => Iterable<readonly [string, string]> | undefined): void {
    const touched = new Map<Map<string, Entry>, Set<string>>();
    for (const ref of refs) {
      const labels = labelsOf(ref);
      if (labels === undefined) continue;
      for (const [name, value] of labels) {
        const values = this.#index.get(name);
        if (values === undefined) continue;
        let set = touched.get(values);
        if (set === undefined) touched.set(values, (set = new Set()));
        set.add(value);
      }
    }
    for (const [values, changed] of touched) {
      for (const value of changed) {
        const e = values.get(value);
        if (e === undefined) continue;
        const kept = filtered(e, refs);
        if (kept === undefined) values.delete(value);
        else values.set(value, kept);
      }
    }
    for (const [name, values] of this.#index) if (values.size === 0) this.#index.delete(name);
  }

  /**
   * Refs that can match all `matchers`: the intersection of the postings of every matcher
   * that cannot match an empty value; every ref when there is none. Callers still check each
   * series against all matchers.
   */
  candidates(matchers: readonly Matcher[]): number[] {
    let result: number[] | null = null;
    for (const m of matchers) {
      const test = compileMatcher(m);
      if (test(labelsWithout(m.name))) continue; // matches "absent": no postings narrowing
      const values = this.#index.get(m.name);
      if (values === undefined) return [];
      let union: number[];
      if (m.type === "=") {
        const e = values.get(m.value);
        union = e === undefined ? [] : Array.from(view(e));
      } else {
        const lists: ArrayLike<number>[] = [];
        for (const [value, e] of values) if (test(labelsWith(m.name, value))) lists.push(view(e));
        union = mergeSorted(lists);
      }
      result = result === null ? union : intersectSorted(result, union);
      if (result.length === 0) return result;
    }
    return result ?? this.allRefs();
  }

  /**
   * The whole index, for the head snapshot: per name its values; per (name, value), in the
   * same order, the list's length in `sizes` and its refs, concatenated, in `refs`.
   */
  dump(): PostingsDump {
    const names: Array<[string, string[]]> = [];
    let pairs = 0;
    let total = 0;
    for (const [name, values] of this.#index) {
      names.push([name, [...values.keys()]]);
      pairs += values.size;
      for (const e of values.values()) total += size(e);
    }
    const sizes = new Uint32Array(pairs);
    const refs = new Uint32Array(total);
    let p = 0;
    let at = 0;
    for (const values of this.#index.values()) {
      for (const e of values.values()) {
        sizes[p++] = size(e);
        if (typeof e === "number") refs[at++] = e;
        else {
          refs.set(e.view(), at);
          at += e.n;
        }
      }
    }
    return { names, sizes, refs };
  }

  /** Takes over a dump (into an empty index). */
  load(d: PostingsDump): void {
    if (this.#index.size > 0) throw new Error("Cannot load postings into an index that already holds some");
    let p = 0;
    let at = 0;
    for (const [name, vals] of d.names) {
      const values = new Map<string, Entry>();
      for (const value of vals) {
        const n = d.sizes[p++];
        if (n === undefined || n === 0 || at + n > d.refs.length) throw new SyntaxError(`Cannot load postings: the list of ${name}=${JSON.stringify(value)} is ${n === undefined ? "missing" : n === 0 ? "empty" : "past the end of the refs"}`);
        if (n === 1) values.set(value, d.refs[at]!);
        else {
          const list = new RefList();
          list.refs = d.refs.slice(at, at + n);
          list.n = n;
          values.set(value, list);
        }
        at += n;
      }
      this.#index.set(name, values);
    }
    if (p !== d.sizes.length || at !== d.refs.length) throw new SyntaxError(`Cannot load postings: ${d.sizes.length} lists and ${d.refs.length} refs given, ${p} and ${at} used`);
  }

  /**
   * candidates() as steps, for reads that pause between them: lists are copied as they are
   * read (gc() rewrites them in place), merged and intersected in steps. null: no matcher
   * narrows anything, every series may match.
   */
  *candidatesSteps(matchers: readonly Matcher[]): Steps<Uint32Array | null> {
    let result: Uint32Array | null = null;
    for (const m of matchers) {
      const test = compileMatcher(m);
      if (test(labelsWithout(m.name))) continue;
      const values = this.#index.get(m.name);
      if (values === undefined) return new Uint32Array(0);
      let union: Uint32Array;
      if (m.type === "=") {
        const e = values.get(m.value);
        union = e === undefined ? new Uint32Array(0) : copyOf(e);
      } else {
        // A Map iterates on across changes: values added meanwhile are visited, removed ones not.
        const lists: Uint32Array[] = [];
        let k = 0;
        for (const [value, e] of values) {
          if (test(labelsWith(m.name, value))) lists.push(copyOf(e));
          if ((++k & 127) === 0) yield 1024;
        }
        union = yield* mergeSteps(lists);
      }
      result = result === null ? union : yield* intersectSteps(result, union);
      if (result.length === 0) return result;
    }
    return result;
  }

  labelNames(): string[] {
    return [...this.#index.keys()].sort();
  }

  labelValues(name: string): string[] {
    return [...(this.#index.get(name)?.keys() ?? [])].sort();
  }

  /** Series count per value of `name` (for cardinality statistics). */
  valueCounts(name: string): Array<[string, number]> {
    return [...(this.#index.get(name) ?? new Map<string, Entry>())].map(([v, e]) => [v, size(e)]);
  }

  /** Series count per label pair, and per label name the number of values. */
  stats(): { pairs: Array<[string, number]>; names: Array<[string, number]>; memory: Array<[string, number]> } {
    const pairs: Array<[string, number]> = [];
    const names: Array<[string, number]> = [];
    const memory: Array<[string, number]> = [];
    for (const [name, values] of this.#index) {
      let bytes = 0;
      for (const [value, e] of values) {
        pairs.push([`${name}=${value}`, size(e)]);
        bytes += value.length * size(e);
      }
      names.push([name, values.size]);
      memory.push([name, bytes]);
    }
    return { pairs, names, memory };
  }

  /** Bytes held by the ref lists (their capacity) and, roughly, the maps and value strings. */
  bytes(): number {
    let n = 0;
    for (const values of this.#index.values()) {
      for (const [value, e] of values) n += 48 + value.length + (typeof e === "number" ? 0 : 48 + e.refs.byteLength);
    }
    return n;
  }
}

/** `e` without `refs`: undefined when nothing is left. */
function filtered(e: Entry, refs: ReadonlySet<number>): Entry | undefined {
  if (typeof e === "number") return refs.has(e) ? undefined : e;
  const a = e.refs;
  let k = 0;
  for (let i = 0; i < e.n; i++) if (!refs.has(a[i]!)) a[k++] = a[i]!;
  if (k === 0) return undefined;
  if (k === 1) return a[0]!;
  e.n = k;
  return e;
}

/** A Labels-like object with one label, for testing matchers against a single value. */
function labelsWith(name: string, value: string): Labels {
  return { get: (n: string) => (n === name ? value : "") } as Labels;
}

function labelsWithout(_name: string): Labels {
  return { get: () => "" } as unknown as Labels;
}

function intersectSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

function copyOf(e: Entry): Uint32Array {
  return typeof e === "number" ? Uint32Array.of(e) : e.refs.slice(0, e.n);
}

/** Sorted lists of distinct refs (the postings of one label's values) as one sorted list, in steps. */
function* mergeSteps(lists: readonly Uint32Array[]): Steps<Uint32Array> {
  if (lists.length === 1) return lists[0]!;
  let n = 0;
  for (const l of lists) n += l.length;
  let src = new Uint32Array(n);
  let at = 0;
  for (const l of lists) {
    src.set(l, at);
    at += l.length;
  }
  yield n >>> 4;
  // Native sorts of runs, then bottom-up merges that yield as they go.
  const RUN = 16384;
  for (let lo = 0; lo < n; lo += RUN) {
    src.subarray(lo, Math.min(n, lo + RUN)).sort();
    yield RUN;
  }
  let dst = new Uint32Array(n);
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(n, lo + width);
      const hi = Math.min(n, lo + 2 * width);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        dst[k++] = src[j]! < src[i]! ? src[j++]! : src[i++]!;
        if ((k & (RUN - 1)) === 0) yield RUN;
      }
      if (i < mid) dst.set(src.subarray(i, mid), k);
      else if (j < hi) dst.set(src.subarray(j, hi), k);
    }
    const t = src;
    src = dst;
    dst = t;
  }
  return src;
}

function* intersectSteps(a: Uint32Array, b: Uint32Array): Steps<Uint32Array> {
  const out = new Uint32Array(Math.min(a.length, b.length));
  let i = 0;
  let j = 0;
  let k = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out[k++] = x;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
    if ((++n & 16383) === 0) yield 16384;
  }
  return out.subarray(0, k);
}

function mergeSorted(lists: readonly ArrayLike<number>[]): number[] {
  if (lists.length === 1) return Array.from(lists[0]!);
  const all: number[] = [];
  for (const l of lists) for (let i = 0; i < l.length; i++) all.push(l[i]!);
  all.sort((a, b) => a - b);
  return all;
}
