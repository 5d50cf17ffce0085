/**
 * Label and metric name validity under Prometheus's two validation schemes.
 * `legacy`: `[a-zA-Z_][a-zA-Z0-9_]*` (metric names may also contain `:`).
 * `utf8` (the v3 default): any non-empty, well-formed UTF-8 string.
 */

export type ValidationScheme = "utf8" | "legacy";

const LEGACY_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LEGACY_METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export function isValidLabelName(name: string, scheme: ValidationScheme): boolean {
  if (scheme === "legacy") return LEGACY_LABEL.test(name);
  return name.length > 0 && name.isWellFormed();
}

export function isValidMetricName(name: string, scheme: ValidationScheme): boolean {
  if (scheme === "legacy") return LEGACY_METRIC.test(name);
  return name.length > 0 && name.isWellFormed();
}

/** Label values may be any well-formed UTF-8 (the empty value means "absent"). */
export function isValidLabelValue(value: string): boolean {
  return value.isWellFormed();
}

/**
 * An immutable label set, sorted by name, without empty values (empty means absent).
 * Built once per new series (a scrape-cache miss), never per sample.
 *
 * @example
 * const l = Labels.from({ __name__: "up", job: "node" });
 * l.get("job"); // "node"
 * String(l);    // 'up{job="node"}'
 */
export class Labels {
  /** Names and values interleaved: [n0, v0, n1, v1, ...], names strictly ascending. */
  readonly #flat: readonly string[];
  #key: string | null = null;

  private constructor(flat: readonly string[]) {
    this.#flat = flat;
  }

  static readonly EMPTY = new Labels([]);

  /** From a record or entries; empty values are dropped; a later duplicate name wins. */
  static from(input: Record<string, string> | Iterable<readonly [string, string]>): Labels {
    const map = new Map<string, string>(Symbol.iterator in input ? (input as Iterable<readonly [string, string]>) : Object.entries(input));
    const names = [...map.keys()].filter((n) => map.get(n) !== "").sort(compareNames);
    const flat: string[] = [];
    for (const n of names) flat.push(n, map.get(n)!);
    return new Labels(flat);
  }

  /**
   * From names and values interleaved, already sorted by name (as stored labels are): a
   * single pass checks that and falls back to from() when it does not hold.
   */
  static fromSorted(flat: readonly string[]): Labels {
    for (let i = 0; i < flat.length; i += 2) {
      if (flat[i + 1] === "" || (i > 0 && !(flat[i - 2]! < flat[i]!))) {
        const pairs: Array<[string, string]> = [];
        for (let j = 0; j < flat.length; j += 2) pairs.push([flat[j]!, flat[j + 1]!]);
        return Labels.from(pairs);
      }
    }
    return new Labels(flat);
  }

  get size(): number {
    return this.#flat.length / 2;
  }

  get(name: string): string {
    for (let i = 0; i < this.#flat.length; i += 2) if (this.#flat[i] === name) return this.#flat[i + 1]!;
    return "";
  }

  has(name: string): boolean {
    return this.get(name) !== "";
  }

  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (let i = 0; i < this.#flat.length; i += 2) yield [this.#flat[i]!, this.#flat[i + 1]!];
  }

  toMap(): Map<string, string> {
    return new Map(this);
  }

  toObject(): Record<string, string> {
    return Object.fromEntries(this);
  }

  /** A string that is equal for equal label sets (for use as a map key). */
  get key(): string {
    this.#key ??= this.#flat.join("\u0000");
    return this.#key;
  }

  equals(other: Labels): boolean {
    return this.key === other.key;
  }

  /** Prometheus notation: `name{a="b"}`, or `{a="b"}` without a name. */
  toString(): string {
    const name = this.get("__name__");
    const parts: string[] = [];
    for (const [n, v] of this) if (n !== "__name__") parts.push(`${n}=${JSON.stringify(v)}`);
    return parts.length === 0 && name !== "" ? name : `${name}{${parts.join(", ")}}`;
  }
}

/** Byte-wise (UTF-16 code unit) name order, as Go compares strings for ASCII names. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
