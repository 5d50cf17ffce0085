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
import type { Matcher, Querier } from "../../storage/types.ts";
import { parseSelector } from "./selector.ts";

export interface FederateOptions {
  /** Storage to read, or null before it is open. */
  querier: () => Querier | null;
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

function encodeText(samples: readonly FederatedSample[]): string {
  let out = "";
  let family = "";
  for (const s of samples) {
    if (s.name !== family) {
      out += `# TYPE ${s.name} untyped\n`;
      family = s.name;
    }
    const labels = s.labels.length > 0 ? `{${s.labels.map(([n, v]) => `${n}="${escapeValue(v)}"`).join(",")}}` : "";
    out += `${s.name}${labels} ${formatGoFloat(s.v)} ${s.t}\n`;
  }
  return out;
}

/** A minimal protobuf writer for the io.prometheus.client messages federation sends. */
class ProtoWriter {
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

function encodeProtoDelimited(samples: readonly FederatedSample[]): Uint8Array {
  const out = new ProtoWriter();
  let family: ProtoWriter | null = null;
  let name = "";
  const flush = () => {
    if (family !== null) out.varint(family.bytes.length).bytes.push(...family.bytes);
  };
  for (const s of samples) {
    if (s.name !== name || family === null) {
      flush();
      family = new ProtoWriter().string(1, s.name).tag(3, 0).varint(MTYPE_UNTYPED);
      name = s.name;
    }
    const metric = new ProtoWriter();
    for (const [n, v] of s.labels) metric.message(1, new ProtoWriter().string(1, n).string(2, v).bytes);
    metric.message(5, new ProtoWriter().double(1, s.v).bytes);
    metric.tag(6, 0).varint(s.t);
    family.message(4, metric.bytes);
  }
  flush();
  return Uint8Array.from(out.bytes);
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
export function federatedSamples(querier: Querier, sets: readonly Matcher[][], now: number, lookbackDeltaMs: number, external: Record<string, string>): FederatedSample[] {
  const seen = new Map<string, { labels: Labels; t: number; v: number }>();
  for (const set of sets) {
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
  for (const { labels, t, v } of seen.values()) {
    const name = labels.get("__name__");
    if (name === "") continue;
    const pairs: Array<[string, string]> = [];
    for (const [n, val] of labels) if (n !== "__name__" && val !== "") pairs.push([n, val]);
    for (const n of extNames) if (!labels.has(n) || labels.get(n) === "") pairs.push([n, ext[n]!]);
    out.push({ name, labels: pairs, t, v });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function registerFederateRoute(app: Hono, opts: FederateOptions): void {
  const now = opts.now ?? Date.now;
  app.get("/federate", (c) => {
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
    const samples = sets.length === 0 || querier === null ? [] : federatedSamples(querier, sets, now(), opts.lookbackDeltaMs, opts.externalLabels());
    if (format === "protobuf") return new Response(encodeProtoDelimited(samples), { headers: { "Content-Type": PROTO_DELIMITED_CONTENT_TYPE } });
    return new Response(encodeText(samples), { headers: { "Content-Type": TEXT_CONTENT_TYPE } });
  });
}
