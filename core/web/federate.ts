/**
 * `GET /federate?match[]=<selector>…` as Prometheus 2.42 serves it, so another Prometheus can
 * scrape gleaner (with `honor_labels: true`): for the union of the selectors, each series'
 * latest sample within the lookback delta of now, stale markers skipped, every family
 * `untyped`, explicit millisecond timestamps, and the external labels added unless the series
 * has them (`instance` always counts as one, so a series without it gets `instance=""`).
 * Text format 0.0.4, or delimited protobuf when the Accept header asks for it.
 */
import type { Hono } from "hono";
import type { Labels } from "../model/labels.ts";
import type { Matcher, Querier, SeriesQuerier, Steps } from "../../storage/types.ts";
import { byKey, DEFAULT_SLICE_MS, drain, drive, sortSteps, TimeSlicer } from "../time-slice.ts";
import { textBody, TextChunks } from "./sliced-body.ts";
import { parseSelector } from "./selector.ts";

export interface FederateOptions {
  /** Storage to read, or null before it is open (its columnar steps are used when it has them). */
  querier: () => (Querier & Partial<SeriesQuerier>) | null;
  /** `--query.lookback-delta` in ms. */
  lookbackDeltaMs: number;
  /** The config's `global.external_labels`. */
  externalLabels: () => Record<string, string>;
  now?: () => number;
}

export const TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
export const PROTO_DELIMITED_CONTENT_TYPE = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

interface FederatedSample {
  name: string;
  /** Label pairs without __name__, in output order (series labels, then external ones). */
  labels: Array<[string, string]>;
  t: number;
  v: number;
}

/** Go's strconv.FormatFloat(v, 'g', -1, 64), which the text format uses: `1.7e+09`, `0.001`, `123456`. */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const m = /^(-?)(\d(?:\.\d+)?)e([+-])(\d+)$/.exec(v.toExponential())!;
  const exp = (m[3] === "-" ? -1 : 1) * Number(m[4]);
  if (exp < -4 || exp >= 6) return `${m[1]}${m[2]}e${m[3]}${m[4]!.padStart(2, "0")}`;
  return String(v);
}

const escapeValue = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

/** The text format, in steps of a few series, as chunks of text. */
function* encodeTextSteps(samples: readonly FederatedSample[]): Steps<string[]> {
  const out = new TextChunks();
  let family = "";
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (s.name !== family) {
      out.push(`# TYPE ${s.name} untyped\n`);
      family = s.name;
    }
    const labels = s.labels.length > 0 ? `{${s.labels.map(([n, v]) => `${n}="${escapeValue(v)}"`).join(",")}}` : "";
    out.push(`${s.name}${labels} ${formatGoFloat(s.v)} ${s.t}\n`);
    if ((i & 63) === 63) yield 64 * 64;
  }
  return out.finish();
}

/** A minimal protobuf writer for the io.prometheus.client messages federation sends. */
export class ProtoWriter {
  readonly bytes: number[] = [];
  static readonly #encoder = new TextEncoder();

  varint(n: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(n));
    while (x >= 0x80n) {
      this.bytes.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.bytes.push(Number(x));
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }

  string(field: number, s: string): this {
    return this.message(field, ProtoWriter.#encoder.encode(s));
  }

  message(field: number, body: ArrayLike<number>): this {
    this.tag(field, 2).varint(body.length);
    for (let i = 0; i < body.length; i++) this.bytes.push(body[i]!);
    return this;
  }

  double(field: number, v: number): this {
    this.tag(field, 1);
    const b = new Uint8Array(Float64Array.of(v).buffer);
    for (const x of b) this.bytes.push(x);
    return this;
  }
}

const MTYPE_UNTYPED = 3;

/**
 * Delimited MetricFamily messages, in steps of a few series, as byte chunks: each metric is
 * encoded on its own and a family written once its length is known (a family can hold a
 * million metrics).
 */
function* encodeProtoSteps(samples: readonly FederatedSample[]): Steps<Uint8Array[]> {
  const out: Uint8Array[] = [];
  let name = "";
  let metrics: Uint8Array[] = [];
  let size = 0;
  const flush = () => {
    if (metrics.length === 0) return;
    const header = new ProtoWriter().string(1, name).tag(3, 0).varint(MTYPE_UNTYPED).bytes;
    out.push(Uint8Array.from(new ProtoWriter().varint(header.length + size).bytes), Uint8Array.from(header), ...metrics);
    metrics = [];
    size = 0;
  };
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (s.name !== name) {
      flush();
      name = s.name;
    }
    const metric = new ProtoWriter();
    for (const [n, v] of s.labels) metric.message(1, new ProtoWriter().string(1, n).string(2, v).bytes);
    metric.message(5, new ProtoWriter().double(1, s.v).bytes);
    metric.tag(6, 0).varint(s.t);
    // Field 4 of the family, length-delimited.
    const framed = Uint8Array.from(new ProtoWriter().tag(4, 2).varint(metric.bytes.length).bytes.concat(metric.bytes));
    metrics.push(framed);
    size += framed.length;
    if ((i & 63) === 63) yield 64 * 256;
  }
  flush();
  return out;
}

/** The format expfmt.Negotiate picks for an Accept header (q-values honoured). */
export function negotiateFormat(accept: string): "text" | "protobuf" {
  const ranges = accept
    .split(",")
    .map((part, i) => {
      const [type = "", ...params] = part.split(";").map((x) => x.trim());
      const p = new Map(params.map((x) => [x.slice(0, x.indexOf("=")).trim().toLowerCase(), x.slice(x.indexOf("=") + 1).trim().replace(/^"|"$/g, "")]));
      return { type: type.toLowerCase(), p, q: Number(p.get("q") ?? 1), i };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranges) {
    if (r.type === "application/vnd.google.protobuf" && r.p.get("proto") === "io.prometheus.client.MetricFamily" && r.p.get("encoding") === "delimited") return "protobuf";
    if (r.type === "text/plain" && ((r.p.get("version") ?? "") === "" || r.p.get("version") === "0.0.4")) return "text";
  }
  return "text";
}

/** Federated samples for the matcher sets: latest non-stale sample per series in (now - lookback, now]. */
export function federatedSamples(querier: Querier & Partial<SeriesQuerier>, sets: readonly Matcher[][], now: number, lookbackDeltaMs: number, external: Record<string, string>): FederatedSample[] {
  return drain(federatedSamplesSteps(querier, sets, now, lookbackDeltaMs, external));
}

/** federatedSamples() in steps: the storage's columnar steps when it has them, else select(). */
export function* federatedSamplesSteps(querier: Querier & Partial<SeriesQuerier>, sets: readonly Matcher[][], now: number, lookbackDeltaMs: number, external: Record<string, string>): Steps<FederatedSample[]> {
  const seen = new Map<string, { labels: Labels; t: number; v: number }>();
  for (const set of sets) {
    if (querier.selectColumnsSteps !== undefined) {
      const cols = yield* querier.selectColumnsSteps(set, now - lookbackDeltaMs, now);
      for (let i = 0; i < cols.length; i++) {
        const c = cols[i]!;
        const last = c.t.length - 1;
        if (!seen.has(c.labels.key) && last >= 0 && c.stale?.[last] !== 1) seen.set(c.labels.key, { labels: c.labels, t: c.t[last]!, v: c.v[last]! });
        if ((i & 255) === 255) yield 1024;
      }
      continue;
    }
    for (const s of querier.select(set, now - lookbackDeltaMs, now)) {
      if (seen.has(s.labels.key)) continue;
      const last = s.samples.at(-1);
      if (last === undefined || last.stale) continue;
      seen.set(s.labels.key, { labels: s.labels, t: last.t, v: last.v });
    }
  }
  const ext = { ...external };
  if (!("instance" in ext)) ext.instance = "";
  const extNames = Object.keys(ext).sort();
  const out: FederatedSample[] = [];
  let k = 0;
  for (const { labels, t, v } of seen.values()) {
    if ((++k & 255) === 0) yield 1024;
    const name = labels.get("__name__");
    if (name === "") continue;
    const pairs: Array<[string, string]> = [];
    for (const [n, val] of labels) if (n !== "__name__" && val !== "") pairs.push([n, val]);
    for (const n of extNames) if (!labels.has(n) || labels.get(n) === "") pairs.push([n, ext[n]!]);
    out.push({ name, labels: pairs, t, v });
  }
  return yield* sortSteps(out, byKey((s: FederatedSample) => s.name));
}

export function registerFederateRoute(app: Hono, opts: FederateOptions): void {
  const now = opts.now ?? Date.now;
  app.get("/federate", async (c) => {
    const sets: Matcher[][] = [];
    for (const m of new URL(c.req.url).searchParams.getAll("match[]")) {
      try {
        sets.push(parseSelector(m));
      } catch (err) {
        return new Response(`${(err as Error).message}\n`, { status: 400, headers: { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" } });
      }
    }
    const format = negotiateFormat(c.req.header("accept") ?? "");
    const querier = opts.querier();
    // In time slices: a federation of every series walks millions of them. A client that
    // went away stops it.
    const signal = c.req.raw.signal;
    const slices = new TimeSlicer(DEFAULT_SLICE_MS, () => signal.throwIfAborted());
    try {
      const samples = sets.length === 0 || querier === null ? [] : await drive(federatedSamplesSteps(querier, sets, now(), opts.lookbackDeltaMs, opts.externalLabels()), slices);
      if (format === "protobuf") return new Response(new Blob(await drive(encodeProtoSteps(samples), slices)), { headers: { "Content-Type": PROTO_DELIMITED_CONTENT_TYPE } });
      return new Response(textBody(await drive(encodeTextSteps(samples), slices)), { headers: { "Content-Type": TEXT_CONTENT_TYPE } });
    } catch (err) {
      // Nobody is left to read an answer: no error to log either.
      if (signal.aborted) return new Response("the client went away\n", { status: 503 });
      throw err;
    }
  });
}
