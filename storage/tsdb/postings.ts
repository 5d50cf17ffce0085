/**
 * The postings index: label name → value → the refs of the series that carry that pair,
 * in ascending order (refs only grow, so appending keeps the lists sorted).
 */
import type { Labels } from "../../core/model/labels.ts";
import { compileMatcher } from "../matchers.ts";
import type { Matcher } from "../types.ts";

export class Postings {
  readonly #index = new Map<string, Map<string, number[]>>();
  #all: number[] = [];

  add(ref: number, labels: Labels): void {
    this.#all.push(ref);
    for (const [name, value] of labels) {
      let values = this.#index.get(name);
      if (values === undefined) this.#index.set(name, (values = new Map()));
      const refs = values.get(value);
      if (refs === undefined) values.set(value, [ref]);
      else refs.push(ref);
    }
  }

  /** Drops refs (series removed from the head) from every list. */
  remove(refs: ReadonlySet<number>, labelsOf: (ref: number) => Labels | undefined): void {
    for (const ref of refs) {
      const labels = labelsOf(ref);
      if (labels === undefined) continue;
      for (const [name, value] of labels) {
        const values = this.#index.get(name);
        const list = values?.get(value);
        if (list === undefined) continue;
        const kept = list.filter((r) => r !== ref);
        if (kept.length === 0) values!.delete(value);
        else values!.set(value, kept);
        if (values!.size === 0) this.#index.delete(name);
      }
    }
    this.#all = this.#all.filter((r) => !refs.has(r));
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
      if (m.type === "=") union = values.get(m.value) ?? [];
      else {
        const lists: number[][] = [];
        for (const [value, refs] of values) if (test(labelsWith(m.name, value))) lists.push(refs);
        union = mergeSorted(lists);
      }
      result = result === null ? union : intersectSorted(result, union);
      if (result.length === 0) return result;
    }
    return result ?? this.#all;
  }

  labelNames(): string[] {
    return [...this.#index.keys()].sort();
  }

  labelValues(name: string): string[] {
    return [...(this.#index.get(name)?.keys() ?? [])].sort();
  }

  /** Series count per value of `name` (for cardinality statistics). */
  valueCounts(name: string): Array<[string, number]> {
    return [...(this.#index.get(name) ?? new Map<string, number[]>())].map(([v, refs]) => [v, refs.length]);
  }

  /** Series count per label pair, and per label name the number of values. */
  stats(): { pairs: Array<[string, number]>; names: Array<[string, number]>; memory: Array<[string, number]> } {
    const pairs: Array<[string, number]> = [];
    const names: Array<[string, number]> = [];
    const memory: Array<[string, number]> = [];
    for (const [name, values] of this.#index) {
      let bytes = 0;
      for (const [value, refs] of values) {
        pairs.push([`${name}=${value}`, refs.length]);
        bytes += value.length * refs.length;
      }
      names.push([name, values.size]);
      memory.push([name, bytes]);
    }
    return { pairs, names, memory };
  }
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

function mergeSorted(lists: readonly number[][]): number[] {
  if (lists.length === 1) return lists[0]!;
  const all = lists.flat();
  all.sort((a, b) => a - b);
  return all;
}
