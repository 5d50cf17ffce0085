/**
 * The head's series labels without a JS object per series. Label names and values are
 * interned once into a symbol table; each series' label set is a run of symbol ids (name,
 * value, name, value, …, sorted by name) written as LEB128 varints into one growable
 * Uint8Array pool (names and most values take one byte), found by ref through typed arrays
 * (run start, run length in bytes, pair count). Series are looked up by labels through an
 * open-addressing hash table of refs (Int32Array, linear probing, backward-shift deletion)
 * keyed on a hash of the run, confirmed by comparing its bytes.
 *
 * With ~8 labels a series costs about 20 B of ids, 11 B of per-ref arrays and ~8 B of hash
 * slots, against ~500 B for a Labels object, its key string and a Map entry; and the garbage
 * collector has nothing per series to trace. `labels(ref)` builds a Labels on demand (queries,
 * WAL checkpoints, block store series), from interned strings.
 */
import { Labels } from "../../core/model/labels.ts";

/** Interned strings: id ↔ string, ids dense from 0. */
export class Symbols {
  readonly #ids = new Map<string, number>();
  readonly #strings: string[] = [];

  /** The id of `s`, interning it when new. */
  intern(s: string): number {
    let id = this.#ids.get(s);
    if (id === undefined) {
      id = this.#strings.length;
      this.#strings.push(s);
      this.#ids.set(s, id);
    }
    return id;
  }

  /** The id of `s`, or −1 when no series ever used it. */
  find(s: string): number {
    return this.#ids.get(s) ?? -1;
  }

  str(id: number): string {
    return this.#strings[id]!;
  }

  get size(): number {
    return this.#strings.length;
  }

  /** Every string, by id. */
  all(): readonly string[] {
    return this.#strings;
  }

  /** Interns `strings` in order (a restore: the table must be empty). */
  load(strings: readonly string[]): void {
    if (this.#strings.length > 0) throw new Error("Cannot load symbols into a table that already holds some");
    for (const s of strings) {
      if (typeof s !== "string" || this.#ids.has(s)) throw new SyntaxError(`Cannot load symbol ${this.#strings.length}: ${typeof s !== "string" ? "not a string" : "a repeated string"}`);
      this.intern(s);
    }
  }

  /** Approximate bytes held (strings as 1 byte per code unit plus object overheads). */
  bytes(): number {
    let n = 0;
    for (const s of this.#strings) n += s.length + 48;
    return n;
  }
}

function mixHash(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}

const EMPTY = 0;

/** A SeriesStore's state (SeriesStore.dump(), .load()). */
export interface SeriesStoreDump {
  symbols: readonly string[];
  start: Uint32Array;
  bytes: Uint16Array;
  pairs: Uint8Array;
  hash: Uint32Array;
  pool: Uint8Array;
  slots: Int32Array;
  count: number;
  dead: number;
}

export class SeriesStore {
  readonly symbols = new Symbols();
  /** Per ref: the run's start in #pool, its length in bytes, its pair count (0: no series), its hash. */
  #start = new Uint32Array(1024);
  #bytes = new Uint16Array(1024);
  #pairs = new Uint8Array(1024);
  #hash = new Uint32Array(1024);
  #pool = new Uint8Array(1 << 16);
  #used = 0;
  /** Pool entries of removed series (compacted away when they outnumber the live ones). */
  #dead = 0;
  #slots = new Int32Array(1024);
  #count = 0;
  /** Scratch for the encoded run of a lookup. */
  #scratch = new Uint8Array(256);

  get count(): number {
    return this.#count;
  }

  has(ref: number): boolean {
    return ref > 0 && ref < this.#pairs.length && this.#pairs[ref]! !== 0;
  }

  /** Encodes the ids of `labels` into #scratch; returns the byte length, −1 when a string was never interned. */
  #encode(labels: Labels, intern: boolean): number {
    if (labels.size * 10 > this.#scratch.length) this.#scratch = new Uint8Array(labels.size * 20);
    const s = this.#scratch;
    let k = 0;
    const put = (id: number) => {
      while (id >= 0x80) {
        s[k++] = (id & 0x7f) | 0x80;
        id >>>= 7;
      }
      s[k++] = id;
    };
    for (const [name, value] of labels) {
      const a = intern ? this.symbols.intern(name) : this.symbols.find(name);
      const b = intern ? this.symbols.intern(value) : this.symbols.find(value);
      if (a < 0 || b < 0) return -1;
      put(a);
      put(b);
    }
    return k;
  }

  #hashOf(n: number): number {
    let h = 0x811c9dc5 ^ n;
    const s = this.#scratch;
    let i = 0;
    for (; i + 4 <= n; i += 4) h = mixHash(h, s[i]! | (s[i + 1]! << 8) | (s[i + 2]! << 16) | (s[i + 3]! << 24));
    for (; i < n; i++) h = mixHash(h, s[i]!);
    return h === 0 ? 1 : h;
  }

  #sameRun(ref: number, n: number): boolean {
    if (this.#bytes[ref] !== n) return false;
    const p = this.#pool;
    const s = this.#scratch;
    const at = this.#start[ref]!;
    for (let i = 0; i < n; i++) if (p[at + i] !== s[i]) return false;
    return true;
  }

  /** Decodes the ids of `ref` (names and values interleaved) into `out`; returns how many. */
  #ids(ref: number, out: number[]): number {
    const p = this.#pool;
    let at = this.#start[ref]!;
    const end = at + this.#bytes[ref]!;
    let k = 0;
    while (at < end) {
      let id = 0;
      let shift = 0;
      let b: number;
      do {
        b = p[at++]!;
        id |= (b & 0x7f) << shift;
        shift += 7;
      } while (b & 0x80);
      out[k++] = id >>> 0;
    }
    return k;
  }

  readonly #idScratch: number[] = [];

  /** The ref of the series with exactly `labels`, or undefined. */
  find(labels: Labels): number | undefined {
    const n = this.#encode(labels, false);
    if (n <= 0) return undefined;
    const h = this.#hashOf(n);
    const slots = this.#slots;
    const mask = slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const ref = slots[i]!;
      if (ref === EMPTY) return undefined;
      if (this.#hash[ref] === h && this.#sameRun(ref, n)) return ref;
    }
  }

  /** Stores `labels` under `ref` (which must be free). */
  add(ref: number, labels: Labels): void {
    if (labels.size === 0) throw new RangeError("Cannot store a series without labels");
    if (labels.size > 255) throw new RangeError(`Cannot store series ${labels.toString()}: more than 255 labels`);
    const n = this.#encode(labels, true);
    if (n > 0xffff) throw new RangeError(`Cannot store series ${labels.toString()}: its label ids take more than 64 KiB`);
    this.#growRefs(ref);
    // Before #pairs[ref] is set: a rehash inserts every live ref, and this one is inserted below.
    if ((this.#count + 1) * 10 > this.#slots.length * 7) this.#rehash(this.#slots.length * 2);
    if (this.#used + n > this.#pool.length) this.#growPool(n);
    this.#pool.set(this.#scratch.subarray(0, n), this.#used);
    this.#start[ref] = this.#used;
    this.#bytes[ref] = n;
    this.#pairs[ref] = labels.size;
    this.#used += n;
    const h = this.#hashOf(n);
    this.#hash[ref] = h;
    this.#insertSlot(ref, h);
    this.#count++;
  }

  #insertSlot(ref: number, h: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = h & mask;
    while (slots[i] !== EMPTY) i = (i + 1) & mask;
    slots[i] = ref;
  }

  /** Forgets series `ref`. */
  remove(ref: number): void {
    if (!this.has(ref)) return;
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = this.#hash[ref]! & mask;
    while (slots[i] !== ref) i = (i + 1) & mask;
    // Backward-shift deletion: move later entries of the probe run into the hole.
    let hole = i;
    for (let j = (i + 1) & mask; slots[j] !== EMPTY; j = (j + 1) & mask) {
      const r = slots[j]!;
      const home = this.#hash[r]! & mask;
      // r may move into the hole unless its home slot lies cyclically in (hole, j].
      const between = hole < j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        slots[hole] = r;
        hole = j;
      }
    }
    slots[hole] = EMPTY;
    this.#dead += this.#bytes[ref]!;
    this.#pairs[ref] = 0;
    this.#count--;
    if (this.#dead > 4096 && this.#dead > this.#used - this.#dead) this.#compactPool();
  }

  /** The value of label `name` of `ref` ("" when absent), without building a Labels. */
  value(ref: number, name: string): string {
    const id = this.symbols.find(name);
    if (id < 0 || !this.has(ref)) return "";
    const ids = this.#idScratch;
    const n = this.#ids(ref, ids);
    for (let i = 0; i < n; i += 2) if (ids[i] === id) return this.symbols.str(ids[i + 1]!);
    return "";
  }

  /** The labels of `ref`, built from interned strings; undefined when there is no such series. */
  labels(ref: number): Labels | undefined {
    if (!this.has(ref)) return undefined;
    const ids = this.#idScratch;
    const n = this.#ids(ref, ids);
    const flat = new Array<string>(n);
    for (let i = 0; i < n; i++) flat[i] = this.symbols.str(ids[i]!);
    return Labels.fromSorted(flat);
  }

  /** The whole store as arrays (copies), for the head snapshot; `refs`: one past the highest ref. */
  dump(refs: number): SeriesStoreDump {
    const n = Math.min(refs, this.#start.length);
    return {
      symbols: this.symbols.all(),
      start: this.#start.slice(0, n),
      bytes: this.#bytes.slice(0, n),
      pairs: this.#pairs.slice(0, n),
      hash: this.#hash.slice(0, n),
      pool: this.#pool.slice(0, this.#used),
      slots: this.#slots.slice(),
      count: this.#count,
      dead: this.#dead,
    };
  }

  /**
   * Takes over a dump (into an empty store). The arrays are checked against each other, so a
   * dump that does not hold together throws instead of answering wrong lookups later.
   */
  load(d: SeriesStoreDump): void {
    if (this.#count !== 0) throw new Error("Cannot load series into a store that already holds some");
    const n = d.start.length;
    if (d.bytes.length !== n || d.pairs.length !== n || d.hash.length !== n) throw new SyntaxError(`Cannot load series: the per-ref arrays differ in length (${n}, ${d.bytes.length}, ${d.pairs.length}, ${d.hash.length})`);
    const slots = d.slots.length;
    if (slots < 16 || (slots & (slots - 1)) !== 0) throw new SyntaxError(`Cannot load series: the hash table has ${slots} slots, not a power of two`);
    let live = 0;
    for (let ref = 1; ref < n; ref++) {
      if (d.pairs[ref] === 0) continue;
      live++;
      if (d.start[ref]! + d.bytes[ref]! > d.pool.length) throw new SyntaxError(`Cannot load series: series ${ref}'s label ids lie past the pool's end`);
    }
    let used = 0;
    for (let i = 0; i < slots; i++) {
      const ref = d.slots[i]!;
      if (ref === EMPTY) continue;
      if (!(ref > 0 && ref < n && d.pairs[ref] !== 0)) throw new SyntaxError(`Cannot load series: hash slot ${i} holds ${ref}, which is not a series`);
      used++;
    }
    if (live !== d.count || used !== d.count) throw new SyntaxError(`Cannot load series: ${d.count} expected, ${live} in the arrays, ${used} in the hash table`);
    this.symbols.load(d.symbols);
    const cap = Math.max(1024, 2 ** Math.ceil(Math.log2(n + 1)));
    this.#start = new Uint32Array(cap);
    this.#start.set(d.start);
    this.#bytes = new Uint16Array(cap);
    this.#bytes.set(d.bytes);
    this.#pairs = new Uint8Array(cap);
    this.#pairs.set(d.pairs);
    this.#hash = new Uint32Array(cap);
    this.#hash.set(d.hash);
    this.#pool = new Uint8Array(Math.max(1 << 16, Math.ceil(d.pool.length * 1.25)));
    this.#pool.set(d.pool);
    this.#used = d.pool.length;
    this.#slots = d.slots.slice();
    this.#count = d.count;
    this.#dead = d.dead;
  }

  /** Bytes held by the typed arrays (capacity, not use) and the symbol table. */
  memory(): { labelIds: number; refArrays: number; hashSlots: number; symbols: number } {
    return {
      labelIds: this.#pool.byteLength,
      refArrays: this.#start.byteLength + this.#bytes.byteLength + this.#pairs.byteLength + this.#hash.byteLength,
      hashSlots: this.#slots.byteLength,
      symbols: this.symbols.bytes(),
    };
  }

  #growRefs(ref: number): void {
    let n = this.#start.length;
    if (ref < n) return;
    while (n <= ref) n *= 2;
    const grow = <T extends Uint32Array | Uint16Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.#start = grow(this.#start);
    this.#bytes = grow(this.#bytes);
    this.#pairs = grow(this.#pairs);
    this.#hash = grow(this.#hash);
  }

  #growPool(need: number): void {
    // 1.5× growth: the pool is the biggest array here, and doubling would waste up to half.
    let n = this.#pool.length;
    while (n < this.#used + need) n = Math.ceil(n * 1.5);
    const b = new Uint8Array(n);
    b.set(this.#pool.subarray(0, this.#used));
    this.#pool = b;
  }

  #compactPool(): void {
    const live = this.#used - this.#dead;
    const b = new Uint8Array(Math.max(1 << 16, Math.ceil(live * 1.25)));
    let at = 0;
    for (let ref = 1; ref < this.#pairs.length; ref++) {
      if (this.#pairs[ref] === 0) continue;
      const n = this.#bytes[ref]!;
      if (n === 0) continue;
      b.set(this.#pool.subarray(this.#start[ref]!, this.#start[ref]! + n), at);
      this.#start[ref] = at;
      at += n;
    }
    this.#pool = b;
    this.#used = at;
    this.#dead = 0;
  }

  #rehash(cap: number): void {
    this.#slots = new Int32Array(cap);
    for (let ref = 1; ref < this.#pairs.length; ref++) if (this.#pairs[ref] !== 0) this.#insertSlot(ref, this.#hash[ref]!);
  }
}
