/**
 * Bindings for the exposition parsers of the WASM core (wasm/assembly/parse/).
 *
 * The body is copied once into the core's input arena and parsed there. Results are
 * struct-of-arrays in WASM memory, exposed as typed arrays with one entry per sample; no
 * object is created per sample. Results are valid until the next parse on the same core.
 *
 * Series ranges (`seriesStart`/`seriesEnd`), exemplar ranges and family metadata ranges are
 * absolute byte addresses in the core's memory: into the input arena for text formats, into
 * the side arena for series rewritten with a canonical `le`/`quantile` value and for every
 * protobuf series (synthesized as `name{a="b",le="0.5"}` with text-format escaping).
 * Addresses stay valid until the next parse even when memory grows (blocks never move);
 * only JS views detach, and the getters below re-create them. `labels()` may grow memory.
 * Text NaN values are stored as NormalNaN bits; read `valueBits()` where the payload matters.
 *
 * @example
 * const p = new ExpositionParser(await core());
 * const r = p.parse(body, Format.Text);
 * if (!r.ok) throw new SyntaxError(`line ${r.line}: ${r.reason}`);
 * const values = r.value; for (let i = 0; i < r.count; i++) sum += values[i]!;
 */
import {
  FAMILY_HELP_END, FAMILY_HELP_START, FAMILY_NAME_END, FAMILY_NAME_START, FAMILY_TYPE,
  FAMILY_UNIT_END, FAMILY_UNIT_START, FAMILY_WORDS, FORMAT_OPENMETRICS, FORMAT_PROTOBUF,
  FORMAT_TEXT, PARSE_FLAG_OM_STRICT, PARSE_FLAG_PB_IGNORE_NATIVE, PH_ERR_CODE, PH_ERR_COLUMN, PH_ERR_LINE, PH_EXEMPLAR_END,
  PH_EXEMPLAR_START, PH_EXEMPLAR_TIMESTAMP, PH_EXEMPLAR_VALUE, PH_FAMILIES, PH_FAMILY,
  PH_FAMILY_RECORDS, PH_FLAGS, PH_KIND, PH_LINE, PH_SAMPLES, PH_SERIES_END, PH_SERIES_START,
  PH_TIMESTAMP, PH_VALUE, SAMPLE_HAS_TIMESTAMP, PH_INPUT, PH_INPUT_LEN, PH_SIDE, PH_SIDE_LEN,
} from "./assembly/abi.ts";
import type { Core } from "./index.ts";

export const Format = {
  Text: FORMAT_TEXT,
  OpenMetrics: FORMAT_OPENMETRICS,
  Protobuf: FORMAT_PROTOBUF,
} as const;
export type Format = (typeof Format)[keyof typeof Format];

export interface ParseOptions {
  /** OpenMetrics only: the OpenMetrics suite's semantic checks, which Prometheus does not do. */
  strict?: boolean;
  /**
   * Protobuf only: read just the classic parts of histograms that carry native-histogram
   * fields (as Prometheus does with native histograms off). Without it they are an error.
   */
  ignoreNativeHistograms?: boolean;
}

/** Reason texts for PARSE_ERR_* codes (wasm/assembly/abi.ts). */
export const PARSE_ERROR_REASONS: Readonly<Record<number, string>> = {
  1: "expected a metric name",
  2: "invalid label name",
  3: "expected '=' after the label name",
  4: "expected a double-quoted label value",
  5: "unterminated quoted string",
  6: "expected ',' or '}' after the label value",
  7: "invalid UTF-8",
  8: "expected a value",
  9: "invalid float value",
  10: "float value out of range",
  11: "invalid timestamp",
  12: "unexpected text after the sample",
  13: "invalid metric type",
  14: "malformed metadata line",
  15: "metric name already set",
  16: "carriage return (CRLF line endings are not allowed)",
  17: "data does not end with # EOF",
  18: "unexpected data after # EOF",
  19: "blank line",
  20: "invalid comment line",
  21: "unit is not a suffix of the metric name",
  22: "invalid exemplar",
  23: "exemplar labels longer than 128 code points",
  24: "exemplar not allowed on this sample",
  25: "duplicate label name",
  26: "metric family name clashes with an earlier family",
  27: "metadata after samples of the same family",
  28: "repeated metadata line",
  29: "timestamps out of order within a group",
  30: "samples of a label group are not contiguous",
  31: "missing or invalid label for the metric type",
  32: "invalid value for the metric type",
  33: "invalid histogram",
  34: "unit not allowed for this metric type",
  40: "truncated protobuf message",
  41: "malformed protobuf message",
  42: "native histograms are not supported",
  43: "invalid metric type in protobuf",
  44: "empty or invalid metric name in protobuf",
  50: "unknown format",
};

export interface ParseFailure {
  ok: false;
  /** The samples parsed before the error (valid until the next parse). */
  before: ParsedSamples;
  code: number;
  /** 1-based line (protobuf: 1-based MetricFamily message index). */
  line: number;
  /** 1-based byte column within the line (protobuf: 1-based byte offset into the body). */
  column: number;
  reason: string;
}

export interface FamilyMetadata {
  name: string;
  /** MTYPE_* */
  type: number;
  help: string;
  unit: string;
}

export interface SeriesLabels {
  name: string;
  labels: [name: string, value: string][];
}

interface Exports {
  parserHeader(): number;
  parserInput(len: number): number;
  parserRun(len: number, format: number, flags: number): number;
  parserDecodeLabels(start: number, end: number): number;
  parserDecodeWords(): number;
  parserParseFloat(ptr: number, len: number): number;
  parserFloatError(): number;
  parserFormatFloat(v: number): number;
  parserFormatBuffer(): number;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Samples of one parse. Typed arrays are re-created when memory has grown. */
export class ParsedSamples {
  readonly ok = true;
  readonly count: number;
  readonly familyCount: number;
  readonly format: Format;
  readonly #core: Core;
  readonly #ex: Exports;
  readonly #hdr: Uint32Array;
  #buffer: ArrayBuffer | null = null;
  #seriesStart!: Uint32Array;
  #seriesEnd!: Uint32Array;
  #value!: Float64Array;
  #timestamp!: Float64Array;
  #kind!: Uint8Array;
  #flags!: Uint8Array;
  #exStart!: Uint32Array;
  #exEnd!: Uint32Array;
  #exValue!: Float64Array;
  #exTs!: Float64Array;
  #line!: Uint32Array;
  #family!: Int32Array;
  #families!: Uint32Array;
  #u8!: Uint8Array;

  constructor(core: Core, hdr: Uint32Array, format: Format) {
    this.#core = core;
    this.#ex = core.exports as unknown as Exports;
    this.#hdr = hdr;
    this.count = hdr[PH_SAMPLES]!;
    this.familyCount = hdr[PH_FAMILIES]!;
    this.format = format;
    this.#refresh();
  }

  #refresh(): void {
    const buffer = this.#core.exports.memory.buffer;
    if (buffer === this.#buffer) return;
    this.#buffer = buffer;
    const h = this.#hdr;
    const n = this.count;
    this.#seriesStart = new Uint32Array(buffer, h[PH_SERIES_START]!, n);
    this.#seriesEnd = new Uint32Array(buffer, h[PH_SERIES_END]!, n);
    this.#value = new Float64Array(buffer, h[PH_VALUE]!, n);
    this.#timestamp = new Float64Array(buffer, h[PH_TIMESTAMP]!, n);
    this.#kind = new Uint8Array(buffer, h[PH_KIND]!, n);
    this.#flags = new Uint8Array(buffer, h[PH_FLAGS]!, n);
    this.#exStart = new Uint32Array(buffer, h[PH_EXEMPLAR_START]!, n);
    this.#exEnd = new Uint32Array(buffer, h[PH_EXEMPLAR_END]!, n);
    this.#exValue = new Float64Array(buffer, h[PH_EXEMPLAR_VALUE]!, n);
    this.#exTs = new Float64Array(buffer, h[PH_EXEMPLAR_TIMESTAMP]!, n);
    this.#line = new Uint32Array(buffer, h[PH_LINE]!, n);
    this.#family = new Int32Array(buffer, h[PH_FAMILY]!, n);
    this.#families = new Uint32Array(buffer, h[PH_FAMILY_RECORDS]!, this.familyCount * FAMILY_WORDS);
    this.#u8 = new Uint8Array(buffer);
  }

  /** Start address of each sample's series bytes. */
  get seriesStart(): Uint32Array { this.#refresh(); return this.#seriesStart; }
  get seriesEnd(): Uint32Array { this.#refresh(); return this.#seriesEnd; }
  get value(): Float64Array { this.#refresh(); return this.#value; }
  /** Integer milliseconds, meaningful when flags has SAMPLE_HAS_TIMESTAMP. */
  get timestamp(): Float64Array { this.#refresh(); return this.#timestamp; }
  /** KIND_* per sample. */
  get kind(): Uint8Array { this.#refresh(); return this.#kind; }
  /** SAMPLE_* bits per sample. */
  get flags(): Uint8Array { this.#refresh(); return this.#flags; }
  get exemplarStart(): Uint32Array { this.#refresh(); return this.#exStart; }
  get exemplarEnd(): Uint32Array { this.#refresh(); return this.#exEnd; }
  get exemplarValue(): Float64Array { this.#refresh(); return this.#exValue; }
  get exemplarTimestamp(): Float64Array { this.#refresh(); return this.#exTs; }
  /** 1-based line of each sample (protobuf: MetricFamily index). */
  get line(): Uint32Array { this.#refresh(); return this.#line; }
  /** Index of the family record each sample belongs to, or -1. */
  get family(): Int32Array { this.#refresh(); return this.#family; }
  /** The whole WASM memory: series ranges index into it. */
  get memory(): Uint8Array { this.#refresh(); return this.#u8; }

  /** Address ranges the series and exemplar ranges of this result lie in: input and side arena. */
  arenas(): { input: [number, number]; side: [number, number] } {
    const h = this.#hdr;
    return {
      input: [h[PH_INPUT]!, h[PH_INPUT]! + h[PH_INPUT_LEN]!],
      side: [h[PH_SIDE]!, h[PH_SIDE]! + h[PH_SIDE_LEN]!],
    };
  }

  /**
   * Raw bits of sample i's value. NaN payloads survive in WASM memory (text NaN is stored as
   * Prometheus' NormalNaN 0x7ff8000000000001, protobuf NaN bits are kept as sent), but a JS
   * `number` read from `value` may lose them.
   */
  valueBits(i: number): bigint {
    const v = this.value;
    return new BigUint64Array(v.buffer, v.byteOffset + i * 8, 1)[0]!;
  }

  hasTimestamp(i: number): boolean {
    return (this.flags[i]! & SAMPLE_HAS_TIMESTAMP) !== 0;
  }

  /** The series identity bytes of sample i (a view, valid until the next parse). */
  seriesBytes(i: number): Uint8Array {
    return this.memory.subarray(this.seriesStart[i]!, this.seriesEnd[i]!);
  }

  seriesText(i: number): string {
    return decoder.decode(this.seriesBytes(i));
  }

  /** Exemplar text (`{labels} value [timestamp]`) or "" when the sample has none. */
  exemplarText(i: number): string {
    return decoder.decode(this.memory.subarray(this.exemplarStart[i]!, this.exemplarEnd[i]!));
  }

  /** Metric name and unescaped labels of sample i (for new series; allocates strings). */
  labels(i: number): SeriesLabels {
    return decodeSeries(this.#core, this.seriesStart[i]!, this.seriesEnd[i]!);
  }

  /**
   * A copy of this result that stays valid after the next parse (a scrape that yields to the
   * event loop partway through its samples), samples from `from` on; see DetachedSamples.
   */
  detach(from = 0): DetachedSamples {
    return new DetachedSamples(this.#core, this, from);
  }

  families(): FamilyMetadata[] {
    const out: FamilyMetadata[] = [];
    for (let f = 0; f < this.familyCount; f++) out.push(this.familyAt(f));
    return out;
  }

  familyAt(f: number): FamilyMetadata {
    this.#refresh();
    const r = this.#families;
    const u8 = this.#u8;
    const o = f * FAMILY_WORDS;
    const text = (s: number, e: number): string => decoder.decode(u8.subarray(s, e));
    const rawHelp = text(r[o + FAMILY_HELP_START]!, r[o + FAMILY_HELP_END]!);
    return {
      name: unescapeName(text(r[o + FAMILY_NAME_START]!, r[o + FAMILY_NAME_END]!)),
      type: r[o + FAMILY_TYPE]!,
      help: this.format === Format.Protobuf ? rawHelp : unescapeHelp(rawHelp, this.format === Format.OpenMetrics),
      unit: text(r[o + FAMILY_UNIT_START]!, r[o + FAMILY_UNIT_END]!),
    };
  }
}

function unescapeHelp(s: string, om: boolean): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\(.)/gs, (m, c: string) => (c === "\\" ? "\\" : c === "n" ? "\n" : om && c === '"' ? '"' : m));
}

function unescapeName(s: string): string {
  return s.includes("\\") ? s.replace(/\\(.)/gs, (m, c: string) => (c === "\\" ? "\\" : c === "n" ? "\n" : c === '"' ? '"' : m)) : s;
}

/** Decodes series bytes at [start, end) of the core's memory into name and labels. */
export function decodeSeries(core: Core, start: number, end: number): SeriesLabels {
  const ex = core.exports as unknown as Exports;
  const n = ex.parserDecodeLabels(start, end);
  const v = core.views();
  if (n < 0) {
    throw new SyntaxError(`Cannot decode series "${decoder.decode(v.u8.subarray(start, end))}": ${PARSE_ERROR_REASONS[-n] ?? `error ${-n}`}`);
  }
  const w = ex.parserDecodeWords() >>> 2;
  const str = (s: number, e: number): string => decoder.decode(v.u8.subarray(s, e));
  const labels: [string, string][] = [];
  for (let k = 0; k < n; k++) {
    const o = w + 2 + k * 4;
    labels.push([str(v.u32[o]!, v.u32[o + 1]!), str(v.u32[o + 2]!, v.u32[o + 3]!)]);
  }
  return { name: str(v.u32[w]!, v.u32[w + 1]!), labels };
}

/** The sample fields a scrape reads, from a live parse or a detached copy. */
export interface SampleSource {
  readonly count: number;
  readonly seriesStart: Uint32Array;
  readonly seriesEnd: Uint32Array;
  readonly value: Float64Array;
  readonly timestamp: Float64Array;
  readonly flags: Uint8Array;
  readonly exemplarValue: Float64Array;
  readonly exemplarTimestamp: Float64Array;
  valueBits(i: number): bigint;
  labels(i: number): SeriesLabels;
  exemplarText(i: number): string;
}

/** The WASM scratch that holds the current window of every detached result (one per core). */
const windowScratch = new WeakMap<Core, { ptr: number; size: number }>();

/**
 * See ParsedSamples.detach(). The arenas are copied into JS memory (garbage once the scrape
 * is done), and `window(from, to)` puts the bytes of samples [from, to) into one WASM scratch
 * shared by all detached results of the core: series and exemplar ranges of those samples
 * point into it until the next window() call on any of them. A caller that awaits must call
 * window() again afterwards. Fields before `from` are zero.
 */
export class DetachedSamples implements SampleSource {
  readonly count: number;
  readonly seriesStart: Uint32Array;
  readonly seriesEnd: Uint32Array;
  readonly value: Float64Array;
  readonly timestamp: Float64Array;
  readonly flags: Uint8Array;
  readonly exemplarStart: Uint32Array;
  readonly exemplarEnd: Uint32Array;
  readonly exemplarValue: Float64Array;
  readonly exemplarTimestamp: Float64Array;
  readonly #core: Core;
  /** Ranges as the parse gave them (addresses into the arenas). */
  readonly #start: Uint32Array;
  readonly #end: Uint32Array;
  readonly #exStart: Uint32Array;
  readonly #exEnd: Uint32Array;
  readonly #arenas: Array<{ lo: number; hi: number; bytes: Uint8Array }>;

  constructor(core: Core, p: ParsedSamples, from: number) {
    this.#core = core;
    const n = (this.count = p.count);
    const slice = <T extends Uint32Array | Float64Array | Uint8Array>(a: T): T => {
      const out = new (a.constructor as new (n: number) => T)(n);
      out.set(a.subarray(from) as T, from);
      return out;
    };
    this.#start = slice(p.seriesStart);
    this.#end = slice(p.seriesEnd);
    this.#exStart = slice(p.exemplarStart);
    this.#exEnd = slice(p.exemplarEnd);
    this.seriesStart = new Uint32Array(n);
    this.seriesEnd = new Uint32Array(n);
    this.exemplarStart = new Uint32Array(n);
    this.exemplarEnd = new Uint32Array(n);
    const { input, side } = p.arenas();
    const u8 = p.memory;
    this.#arenas = [input, side].map(([lo, hi]) => ({ lo, hi, bytes: u8.slice(lo, hi) }));
    this.value = slice(p.value);
    this.timestamp = slice(p.timestamp);
    this.flags = slice(p.flags);
    this.exemplarValue = slice(p.exemplarValue);
    this.exemplarTimestamp = slice(p.exemplarTimestamp);
  }

  /** Makes the series and exemplar ranges of samples [from, to) valid (see the class comment). */
  window(from: number, to: number): void {
    const arenas = this.#arenas;
    const lo = arenas.map(() => Infinity);
    const hi = arenas.map(() => -Infinity);
    const which = (a: number) => (a >= arenas[0]!.lo && a < arenas[0]!.hi ? 0 : a >= arenas[1]!.lo && a < arenas[1]!.hi ? 1 : -1);
    const span = (s: number, e: number) => {
      if (s === e) return;
      const k = which(s);
      if (k < 0) return;
      if (s < lo[k]!) lo[k] = s;
      if (e > hi[k]!) hi[k] = e;
    };
    for (let i = from; i < to; i++) {
      span(this.#start[i]!, this.#end[i]!);
      span(this.#exStart[i]!, this.#exEnd[i]!);
    }
    let need = 0;
    for (let k = 0; k < arenas.length; k++) if (hi[k]! > lo[k]!) need += hi[k]! - lo[k]!;
    const core = this.#core;
    let sc = windowScratch.get(core);
    if (sc === undefined || sc.size < need) {
      if (sc !== undefined) core.exports.free(sc.ptr, sc.size);
      const size = Math.max(need, 64 * 1024, (sc?.size ?? 0) * 2);
      sc = { ptr: core.exports.alloc(size), size };
      windowScratch.set(core, sc);
    }
    const u8 = core.views().u8;
    const delta: number[] = [];
    let at = sc.ptr;
    for (let k = 0; k < arenas.length; k++) {
      if (!(hi[k]! > lo[k]!)) continue;
      const a = arenas[k]!;
      u8.set(a.bytes.subarray(lo[k]! - a.lo, hi[k]! - a.lo), at);
      delta[k] = at - lo[k]!;
      at += hi[k]! - lo[k]!;
    }
    const move = (x: number) => {
      const k = which(x);
      return k < 0 ? 0 : delta[k]!;
    };
    for (let i = from; i < to; i++) {
      const s = this.#start[i]!;
      const d = move(s);
      this.seriesStart[i] = s + d;
      this.seriesEnd[i] = this.#end[i]! + d;
      const es = this.#exStart[i]!;
      const de = move(es);
      this.exemplarStart[i] = es + de;
      this.exemplarEnd[i] = this.#exEnd[i]! + de;
    }
  }

  valueBits(i: number): bigint {
    return new BigUint64Array(this.value.buffer, i * 8, 1)[0]!;
  }

  labels(i: number): SeriesLabels {
    return decodeSeries(this.#core, this.seriesStart[i]!, this.seriesEnd[i]!);
  }

  exemplarText(i: number): string {
    return decoder.decode(this.#core.views().u8.subarray(this.exemplarStart[i]!, this.exemplarEnd[i]!));
  }
}

export class ExpositionParser {
  readonly #core: Core;
  readonly #ex: Exports;

  constructor(core: Core) {
    this.#core = core;
    this.#ex = core.exports as unknown as Exports;
  }

  /** Parses a whole body. The previous result of this core becomes invalid. */
  parse(body: Uint8Array, format: Format, options: ParseOptions = {}): ParsedSamples | ParseFailure {
    const ex = this.#ex;
    const ptr = ex.parserInput(body.length);
    this.#core.views().u8.set(body, ptr);
    const flags = (options.strict === true ? PARSE_FLAG_OM_STRICT : 0) | (options.ignoreNativeHistograms === true ? PARSE_FLAG_PB_IGNORE_NATIVE : 0);
    const n = ex.parserRun(body.length, format, flags);
    const v = this.#core.views();
    const base = ex.parserHeader() >>> 2;
    const hdr = v.u32.slice(base, base + 24);
    if (n < 0) {
      const code = hdr[PH_ERR_CODE]!;
      return {
        ok: false,
        before: new ParsedSamples(this.#core, hdr, format),
        code,
        line: hdr[PH_ERR_LINE]!,
        column: hdr[PH_ERR_COLUMN]!,
        reason: PARSE_ERROR_REASONS[code] ?? `error ${code}`,
      };
    }
    return new ParsedSamples(this.#core, hdr, format);
  }

  /** Go strconv.ParseFloat semantics as the parsers use them; throws SyntaxError/RangeError. */
  parseFloat(text: string): number {
    const b = encoder.encode(text);
    const size = Math.max(b.length, 1);
    const ptr = this.#core.exports.alloc(size);
    this.#core.views().u8.set(b, ptr);
    const v = this.#ex.parserParseFloat(ptr, b.length);
    const e = this.#ex.parserFloatError();
    this.#core.exports.free(ptr, size);
    if (e === 1) throw new SyntaxError(`Cannot parse float "${text}": invalid syntax`);
    if (e === 2) throw new RangeError(`Cannot parse float "${text}": value out of range`);
    return v;
  }

  /** OpenMetrics canonical text of v (Go %g shortest, `.0` added): how `le`/`quantile` are written. */
  formatFloat(v: number): string {
    const n = this.#ex.parserFormatFloat(v);
    const p = this.#ex.parserFormatBuffer();
    return decoder.decode(this.#core.views().u8.subarray(p, p + n));
  }
}
