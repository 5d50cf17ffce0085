/**
 * The synthetic scrape workload of `gleaner bench`: S series per target in the Prometheus
 * text format or OpenMetrics, with the shapes real services expose — counters that increase,
 * gauges that move, classic histograms and summaries — or the bytes of a real exporter
 * capture replayed as they are.
 *
 * Values are a pure function of (series, interval number), so every target serves the same
 * body for one interval and the generator renders it once per interval, not once per scrape;
 * the scraper tells targets apart by their address (the `instance` label). With churn, a
 * fraction of the series carry a `pod` label whose value changes every minute, so that many
 * series end and as many new ones start each minute.
 *
 * ```ts
 * const w = new Workload({ series: 20_000, format: "text", intervalMs: 10_000, churn: 0 });
 * w.body(Date.now()); // Uint8Array, the same for every target during one interval
 * ```
 */
import { readFileSync } from "node:fs";
import { K8sHttpWorkload } from "./k8s-http.ts";
import { mix } from "../../test/support/random.ts";

export type WorkloadFormat = "text" | "openmetrics";
/** `mixed`: endpoints of counter, gauge, histogram and summary, the same on every target; `k8s-http`: see k8s-http.ts. */
export type WorkloadShape = "mixed" | "k8s-http";
export const WORKLOAD_SHAPES: readonly WorkloadShape[] = ["mixed", "k8s-http"];

export interface WorkloadSpec {
  /** Series per target (rounded to whole families, see `Workload.seriesPerTarget`). */
  series: number;
  format: WorkloadFormat;
  /** The scrape interval: values change once per interval. */
  intervalMs: number;
  /** Fraction of series (0..1) replaced with new label values every minute. */
  churn: number;
  /** A capture to serve byte for byte instead of the synthetic families. */
  replay?: string;
  /** The synthetic shape (default `mixed`). */
  shape?: WorkloadShape;
}

export const CONTENT_TYPES: Record<WorkloadFormat, string> = {
  text: "text/plain; version=0.0.4; charset=utf-8",
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

const HISTOGRAM_BOUNDS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"];
const HISTOGRAM_SHARE = [0.08, 0.21, 0.42, 0.63, 0.79, 0.9, 0.95, 0.98, 0.995, 1];
const QUANTILES = ["0.5", "0.9", "0.99"];
const METHODS = ["GET", "POST", "PUT", "DELETE"];
const CODES = ["200", "200", "200", "201", "404", "500"];

/** The families one "endpoint" exposes, and how many series each contributes. */
const KINDS = [
  { kind: "counter", series: 1 },
  { kind: "gauge", series: 1 },
  { kind: "histogram", series: HISTOGRAM_BOUNDS.length + 2 },
  { kind: "summary", series: QUANTILES.length + 2 },
] as const;
const SERIES_PER_ENDPOINT = KINDS.reduce((n, k) => n + k.series, 0);

const MINUTE = 60_000;

export class Workload {
  readonly contentType: string;
  /** Series each target exposes (the synthetic set comes in whole endpoints of 19). */
  readonly seriesPerTarget: number;
  readonly #spec: WorkloadSpec;
  readonly #replay: Uint8Array | null;
  readonly #endpoints: number;
  readonly #k8s: K8sHttpWorkload | null = null;
  readonly #encoder = new TextEncoder();
  #cachedKey = -1;
  #cached: Uint8Array = new Uint8Array(0);

  constructor(spec: WorkloadSpec) {
    if (!(spec.series >= 1)) throw new RangeError(`Cannot build a workload of ${spec.series} series per target: need at least 1`);
    if (!(spec.churn >= 0 && spec.churn <= 1)) throw new RangeError(`Cannot build a workload with churn ${spec.churn}: expected a fraction between 0 and 1`);
    if (!(spec.intervalMs > 0)) throw new RangeError(`Cannot build a workload with interval ${spec.intervalMs} ms: must be positive`);
    this.#spec = spec;
    if (spec.replay !== undefined) {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(readFileSync(spec.replay));
      } catch (err) {
        throw new Error(`Cannot replay "${spec.replay}": ${(err as Error).message}`);
      }
      const text = new TextDecoder().decode(bytes);
      const om = /^# EOF\s*$/m.test(text);
      this.#replay = bytes;
      this.contentType = CONTENT_TYPES[om ? "openmetrics" : "text"];
      this.seriesPerTarget = text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
      if (this.seriesPerTarget === 0) throw new Error(`Cannot replay "${spec.replay}": it holds no samples`);
      this.#endpoints = 0;
    } else if (spec.shape === "k8s-http") {
      if (spec.format !== "text" || spec.churn !== 0) throw new RangeError("Cannot build the k8s-http workload in OpenMetrics or with churn: it is text without churn");
      this.#replay = null;
      this.#endpoints = 0;
      this.#k8s = new K8sHttpWorkload(spec.series);
      this.seriesPerTarget = this.#k8s.seriesPerTarget;
      this.contentType = CONTENT_TYPES.text;
    } else {
      this.#replay = null;
      this.#endpoints = Math.max(1, Math.round(spec.series / SERIES_PER_ENDPOINT));
      this.seriesPerTarget = this.#endpoints * SERIES_PER_ENDPOINT;
      this.contentType = CONTENT_TYPES[spec.format];
    }
  }

  /**
   * The body target number `target` serves at `nowMs` (rendered once per interval and minute;
   * only the k8s-http shape differs between targets).
   */
  body(nowMs: number, target = 0): Uint8Array {
    if (this.#replay !== null) return this.#replay;
    const step = Math.floor(nowMs / this.#spec.intervalMs);
    if (this.#k8s !== null) return this.#k8s.body(step, target);
    const minute = Math.floor(nowMs / MINUTE);
    const key = step * 1_000_003 + minute;
    if (key !== this.#cachedKey) {
      this.#cached = this.#encoder.encode(this.render(step, minute));
      this.#cachedKey = key;
    }
    return this.#cached;
  }

  /** The exposition text for interval number `step` during minute `minute`. */
  render(step: number, minute: number): string {
    const om = this.#spec.format === "openmetrics";
    const out: string[] = [];
    const churnCut = Math.round(this.#spec.churn * 0x1_0000_0000);
    const labels = (i: number) => {
      const pod = mix(i, 7) < churnCut ? `pod-${i}-${minute}` : `pod-${i % 29}`;
      return `service="svc-${i % 17}",handler="/api/v${i % 3}/items/${i}",method="${METHODS[i % METHODS.length]}",code="${CODES[i % CODES.length]}",pod="${pod}"`;
    };
    const n = this.#endpoints;
    const family = (name: string, type: string, help: string, emit: (i: number, l: string) => void) => {
      const typeName = om && type === "counter" ? name.replace(/_total$/, "") : name;
      out.push(`# HELP ${typeName} ${help}`, `# TYPE ${typeName} ${type}`);
      for (let i = 0; i < n; i++) emit(i, labels(i));
    };
    // Counters: a per-series rate plus noise smaller than the rate, so each step adds ≥ 1.
    const counter = (i: number, salt: number) => {
      const rate = 1 + (mix(i, salt) % 50);
      return 1000 + (mix(i, salt + 1) % 100_000) + step * rate + (mix(i, step ^ salt) % rate);
    };
    family("http_requests_total", "counter", "Requests handled, by handler, method and code.", (i, l) => {
      out.push(`http_requests_total{${l}} ${counter(i, 11)}`);
    });
    family("http_inflight_requests", "gauge", "Requests being served right now.", (i, l) => {
      const v = 50 + 40 * Math.sin(step / 7 + i) + (mix(i, step) % 1000) / 100;
      out.push(`http_inflight_requests{${l}} ${v.toFixed(2)}`);
    });
    family("http_request_duration_seconds", "histogram", "Request latency.", (i, l) => {
      const count = counter(i, 23);
      for (let b = 0; b < HISTOGRAM_BOUNDS.length; b++) {
        out.push(`http_request_duration_seconds_bucket{${l},le="${HISTOGRAM_BOUNDS[b]}"} ${Math.floor(count * HISTOGRAM_SHARE[b]!)}`);
      }
      out.push(`http_request_duration_seconds_sum{${l}} ${(count * 0.0871).toFixed(3)}`, `http_request_duration_seconds_count{${l}} ${count}`);
    });
    family("rpc_duration_seconds", "summary", "RPC latency.", (i, l) => {
      const count = counter(i, 37);
      for (let q = 0; q < QUANTILES.length; q++) {
        const v = (0.002 * (q + 1) ** 2) * (1 + (mix(i, step + q) % 100) / 200);
        out.push(`rpc_duration_seconds{${l},quantile="${QUANTILES[q]}"} ${v.toFixed(6)}`);
      }
      out.push(`rpc_duration_seconds_sum{${l}} ${(count * 0.0123).toFixed(3)}`, `rpc_duration_seconds_count{${l}} ${count}`);
    });
    if (om) out.push("# EOF");
    return out.join("\n") + "\n";
  }
}
