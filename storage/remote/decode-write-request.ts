/**
 * Reads a remote write 1.0 `prometheus.WriteRequest` (see write-request.ts for the layout)
 * into struct-of-arrays samples (and exemplars, rare, as objects): what `/api/v1/write`
 * stores and the tests compare. Unknown
 * fields are skipped, as protobuf requires; every malformed byte is a SyntaxError naming
 * its offset. A value of exactly 0x7ff0000000000002 comes back flagged as a stale marker.
 */

/** StaleNaN as the two little-endian u32 halves of the float64. */
const STALE_LO = 0x00000002;
const STALE_HI = 0x7ff00000;

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** A decoded WriteRequest: series with their sample range in shared parallel arrays. */
export interface DecodedWriteRequest {
  series: DecodedSeries[];
  /** Samples over all series. */
  count: number;
  ts: Float64Array;
  values: Float64Array;
  /** 1 where the value was exactly StaleNaN (0x7ff0000000000002). */
  stale: Uint8Array;
  /** Exemplars over all series (Exemplar, field 3 of TimeSeries), each series' in wire order. */
  exemplars: DecodedExemplar[];
  /** Native histograms seen (not decoded: gleaner does not keep them yet). */
  histograms: number;
  /** MetricMetadata entries (field 3), with the type as its proto enum number. */
  metadata: Array<{ type: number; metric: string; help: string; unit: string }>;
}

/** An exemplar: its own labels (names and values interleaved, wire order), value, timestamp (ms). */
export interface DecodedExemplar {
  labels: string[];
  value: number;
  timestamp: number;
}

export interface DecodedSeries {
  /** Names and values interleaved, in wire order; null when decoding them was left to the caller (lazyLabels). */
  labels: string[] | null;
  /**
   * The bytes of the series' Label fields, [labelStart, labelEnd) in the request, when they
   * are contiguous (-1 otherwise): a cache key for a receiver, and what decodeLabels() reads.
   */
  labelStart: number;
  labelEnd: number;
  /** Sample range [start, end) in the arrays of the request. */
  start: number;
  end: number;
  /** Exemplar range [exStart, exEnd) in `exemplars` of the request. */
  exStart: number;
  exEnd: number;
}

/** Reads protobuf fields; every error names the byte offset. */
class Reader {
  p: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
    readonly dv: DataView,
  ) {
    this.p = start;
  }

  varint(): number {
    const b = this.b;
    let v = 0;
    let mul = 1;
    const at = this.p;
    for (let i = 0; i < 10; i++) {
      if (this.p >= this.end) throw new SyntaxError(`truncated varint at byte ${at}`);
      const x = b[this.p++]!;
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 128;
    }
    throw new SyntaxError(`varint longer than 10 bytes at byte ${at}`);
  }

  /** An int64 varint as a number (exact below 2^53 in magnitude). */
  int64(): number {
    const b = this.b;
    const at = this.p;
    // Fast path: up to 7 bytes (49 bits) is a non-negative exact number.
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 7 && this.p < this.end; i++) {
      const x = b[this.p++]!;
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 128;
    }
    this.p = at;
    let big = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.p >= this.end) throw new SyntaxError(`truncated varint at byte ${at}`);
      const x = b[this.p++]!;
      big |= BigInt(x & 0x7f) << shift;
      if (x < 0x80) return Number(BigInt.asIntN(64, big));
      shift += 7n;
    }
    throw new SyntaxError(`varint longer than 10 bytes at byte ${at}`);
  }

  /** The end of a length-delimited field starting here. */
  len(): number {
    const at = this.p;
    const n = this.varint();
    const end = this.p + n;
    if (end > this.end) throw new SyntaxError(`field at byte ${at} claims ${n} bytes, only ${this.end - this.p} left`);
    return end;
  }

  string(): string {
    const end = this.len();
    const b = this.b;
    let s = "";
    let i = this.p;
    for (; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) break;
      s += String.fromCharCode(c);
    }
    if (i < end) {
      try {
        s = utf8Strict.decode(b.subarray(this.p, end));
      } catch {
        throw new SyntaxError(`invalid UTF-8 in the string at byte ${this.p}`);
      }
    }
    this.p = end;
    return s;
  }

  skip(wire: number): void {
    const at = this.p;
    if (wire === 0) this.varint();
    else if (wire === 1) this.p += 8;
    else if (wire === 2) this.p = this.len();
    else if (wire === 5) this.p += 4;
    else throw new SyntaxError(`unsupported protobuf wire type ${wire} at byte ${at}`);
    if (this.p > this.end) throw new SyntaxError(`field at byte ${at} runs past its message`);
  }
}

/**
 * The Label fields in b[start, end) (other fields skipped) as names and values interleaved.
 * Throws SyntaxError for malformed bytes or invalid UTF-8.
 */
export function decodeLabels(b: Uint8Array, start: number, end: number): string[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const r = new Reader(b, start, end, dv);
  const labels: string[] = [];
  while (r.p < end) {
    const t = r.varint();
    if (t !== 0x0a) {
      r.skip(t & 7);
      continue;
    }
    const lEnd = r.len();
    let name = "";
    let value = "";
    const inner = new Reader(b, r.p, lEnd, dv);
    while (inner.p < lEnd) {
      const lt = inner.varint();
      if (lt === 0x0a) name = inner.string();
      else if (lt === 0x12) value = inner.string();
      else inner.skip(lt & 7);
    }
    r.p = lEnd;
    labels.push(name, value);
  }
  return labels;
}

/**
 * Parses a (decompressed) WriteRequest. Throws SyntaxError naming the byte offset and the
 * field when the bytes are not a valid message. With `lazyLabels`, label strings are not
 * decoded where their bytes are contiguous (the caller may know them by those bytes).
 */
export function decodeWriteRequest(b: Uint8Array, opts: { lazyLabels?: boolean } = {}): DecodedWriteRequest {
  const lazy = opts.lazyLabels === true;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const r = new Reader(b, 0, b.length, dv);
  let cap = Math.max(16, b.length >>> 4);
  let ts = new Float64Array(cap);
  let values = new Float64Array(cap);
  let stale = new Uint8Array(cap);
  let count = 0;
  const out: DecodedWriteRequest = { series: [], count: 0, ts, values, stale, exemplars: [], histograms: 0, metadata: [] };
  while (r.p < r.end) {
    const tagAt = r.p;
    const tag = r.varint();
    if (tag === 0x1a) {
      const mEnd = r.len();
      const m = { type: 0, metric: "", help: "", unit: "" };
      const inner = new Reader(b, r.p, mEnd, dv);
      while (inner.p < mEnd) {
        const mt = inner.varint();
        if (mt === 0x08) m.type = inner.varint();
        else if (mt === 0x12) m.metric = inner.string();
        else if (mt === 0x22) m.help = inner.string();
        else if (mt === 0x2a) m.unit = inner.string();
        else inner.skip(mt & 7);
      }
      r.p = mEnd;
      out.metadata.push(m);
      continue;
    }
    if (tag !== 0x0a) {
      if (tag >>> 3 === 0) throw new SyntaxError(`invalid field number 0 at byte ${tagAt}`);
      r.skip(tag & 7);
      continue;
    }
    const tsEnd = r.len();
    const tsStart = r.p;
    const start = count;
    const exStart = out.exemplars.length;
    let labelStart = -1;
    let labelEnd = -1;
    let contiguous = true;
    while (r.p < tsEnd) {
      const at = r.p;
      const t = r.varint();
      const field = t >>> 3;
      const wire = t & 7;
      if (field === 1 && wire === 2) {
        const lEnd = r.len();
        if (labelStart < 0) labelStart = at;
        else if (labelEnd !== at) contiguous = false;
        labelEnd = lEnd;
        r.p = lEnd;
      } else if (field === 2 && wire === 2) {
        const sEnd = r.len();
        let v = 0;
        let isStale = 0;
        let time = 0;
        const inner = new Reader(b, r.p, sEnd, dv);
        while (inner.p < sEnd) {
          const st = inner.varint();
          if (st === 0x09) {
            if (inner.p + 8 > sEnd) throw new SyntaxError(`truncated sample value at byte ${inner.p}`);
            isStale = dv.getUint32(inner.p, true) === STALE_LO && dv.getUint32(inner.p + 4, true) === STALE_HI ? 1 : 0;
            v = dv.getFloat64(inner.p, true);
            inner.p += 8;
          } else if (st === 0x10) {
            time = inner.int64();
          } else {
            inner.skip(st & 7);
          }
        }
        r.p = sEnd;
        if (count === cap) {
          cap *= 2;
          const nts = new Float64Array(cap);
          nts.set(ts);
          ts = nts;
          const nv = new Float64Array(cap);
          nv.set(values);
          values = nv;
          const ns = new Uint8Array(cap);
          ns.set(stale);
          stale = ns;
        }
        ts[count] = time;
        values[count] = v;
        stale[count] = isStale;
        count++;
      } else if (field === 3 && wire === 2) {
        const eEnd = r.len();
        const e: DecodedExemplar = { labels: decodeLabels(b, r.p, eEnd), value: 0, timestamp: 0 };
        const inner = new Reader(b, r.p, eEnd, dv);
        while (inner.p < eEnd) {
          const et = inner.varint();
          if (et === 0x11) {
            if (inner.p + 8 > eEnd) throw new SyntaxError(`truncated exemplar value at byte ${inner.p}`);
            e.value = dv.getFloat64(inner.p, true);
            inner.p += 8;
          } else if (et === 0x18) {
            e.timestamp = inner.int64();
          } else {
            if (et >>> 3 === 0) throw new SyntaxError(`invalid field number 0 at byte ${inner.p - 1}`);
            inner.skip(et & 7);
          }
        }
        r.p = eEnd;
        out.exemplars.push(e);
      } else if (field === 4 && wire === 2) {
        out.histograms++;
        r.skip(2);
      } else {
        if (field === 0) throw new SyntaxError(`invalid field number 0 at byte ${at}`);
        r.skip(wire);
      }
    }
    if (r.p !== tsEnd) throw new SyntaxError(`time series ending at byte ${tsEnd} is malformed`);
    if (labelStart < 0) {
      labelStart = labelEnd = tsStart; // no labels: an empty range
    }
    if (!contiguous) {
      out.series.push({ labels: decodeLabels(b, tsStart, tsEnd), labelStart: -1, labelEnd: -1, start, end: count, exStart, exEnd: out.exemplars.length });
    } else {
      out.series.push({ labels: lazy ? null : decodeLabels(b, labelStart, labelEnd), labelStart, labelEnd, start, end: count, exStart, exEnd: out.exemplars.length });
    }
  }
  out.count = count;
  out.ts = ts;
  out.values = values;
  out.stale = stale;
  return out;
}
