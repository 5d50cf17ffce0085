/**
 * A synthetic scrape commit of one target for WAL tests and bench/wal.bench.ts, shaped like
 * the `k8s-http` bench workload: ~35 % counters, ~45 % classic histograms (12 cumulative
 * buckets, a full-precision `_sum`, `_count`), ~20 % gauges (random integers 0..65535, a
 * random walk around 1000, 2-decimal floats), then 5 report series. One timestamp for the
 * whole commit; the target's refs are consecutive (the report series' five are a run of their
 * own). Values are a pure function of (target, step), and counters grow every step.
 */
import { Labels } from "../../../core/model/labels.ts";
import type { WalSamples, WalSeries } from "./index.ts";
import { mix } from "../../../test/support/random.ts";

const COUNTERS = 7_001;
const HISTOGRAMS = 643;
const BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];
const GAUGES = 1_333;
const REPORT = 5;
/** Samples of one commit (20,007). */
export const SCRAPE_SAMPLES = COUNTERS + HISTOGRAMS * (BUCKETS.length + 2) + GAUGES * 3 + REPORT;
/** Refs one target takes: its series, a gap, its report series. */
export const TARGET_REFS = SCRAPE_SAMPLES + 10;

const firstRef = (target: number) => 1 + target * TARGET_REFS;

/** The samples target `target` commits at interval number `step` (fresh arrays). */
export function scrapeCommit(target: number, step: number, t = 1_763_800_000_000 + step * 10_000): WalSamples {
  const n = SCRAPE_SAMPLES;
  const s: WalSamples = { count: n, refs: new Uint32Array(n), ts: new Float64Array(n), values: new Float64Array(n), stale: new Uint8Array(n) };
  const v = s.values;
  s.ts.fill(t);
  const base = firstRef(target);
  for (let i = 0; i < n - REPORT; i++) s.refs[i] = base + i;
  for (let i = 0; i < REPORT; i++) s.refs[n - REPORT + i] = base + n + 5 + i;
  const st = 380_000 + step;
  const counter = (i: number, salt: number) => {
    const rate = 1 + (mix(i, salt + target) % 40);
    return 500 + (mix(i, salt + 1 + target) % 1_000_000) + st * rate + (mix(i, step ^ salt) % rate);
  };
  let k = 0;
  for (let i = 0; i < COUNTERS; i++) v[k++] = counter(i, 11);
  for (let i = 0; i < HISTOGRAMS; i++) {
    const count = counter(i, 23);
    let cumulative = 0;
    for (let b = 0; b < BUCKETS.length; b++) {
      cumulative = b === BUCKETS.length - 1 ? count : Math.min(count, cumulative + Math.floor((count * (2 + (mix(i * 16 + b, step >> 3) % 6))) / 64));
      v[k++] = cumulative;
    }
    v[k++] = count * 0.0871 + (mix(i, step) / 0x1_0000_0000) * 0.731;
    v[k++] = count;
  }
  for (let i = 0; i < GAUGES; i++) v[k++] = mix(i, step + target) % 65_536;
  for (let i = 0; i < GAUGES; i++) v[k++] = Math.round(1000 + 400 * Math.sin(step / 9 + i) + ((mix(i, step) % 200) - 100));
  for (let i = 0; i < GAUGES; i++) v[k++] = Number(((mix(i, step + 7) % 10_000) / 100).toFixed(2));
  // up, scrape_duration_seconds, scrape_samples_scraped, scrape_samples_post_metric_relabeling, scrape_series_added
  v[k++] = 1;
  v[k++] = 0.05 + mix(target, step) / 0x1_0000_0000 / 10;
  v[k++] = n - REPORT;
  v[k++] = n - REPORT;
  v[k++] = 0;
  return s;
}

/** The series of target `target`, in ref order (what its first commit creates). */
export function scrapeSeries(target: number): WalSeries[] {
  const out: WalSeries[] = [];
  const base = firstRef(target);
  const pod = `api-${mix(target, 99).toString(16).padStart(8, "0")}-${String(target).padStart(5, "0")}`;
  const common = (i: number) => ({
    namespace: ["prod", "staging", "payments", "search"][i % 4]!,
    pod,
    handler: `/api/v${i % 3}/items/${i}`,
    method: ["GET", "POST", "PUT", "DELETE", "PATCH"][i % 5]!,
    status: ["200", "201", "204", "404", "500"][(i >> 2) % 5]!,
    instance: `10.${target >> 8}.${target & 255}.7:8080`,
    job: "k8s-pods",
  });
  let ref = base;
  for (let i = 0; i < COUNTERS; i++) out.push({ ref: ref++, labels: Labels.from({ __name__: "http_requests_total", ...common(i) }) });
  for (let i = 0; i < HISTOGRAMS; i++) {
    for (const le of BUCKETS) out.push({ ref: ref++, labels: Labels.from({ __name__: "http_request_duration_seconds_bucket", le, ...common(i) }) });
    out.push({ ref: ref++, labels: Labels.from({ __name__: "http_request_duration_seconds_sum", ...common(i) }) });
    out.push({ ref: ref++, labels: Labels.from({ __name__: "http_request_duration_seconds_count", ...common(i) }) });
  }
  for (const name of ["process_open_fds", "queue_depth", "cpu_utilisation_ratio"]) {
    for (let i = 0; i < GAUGES; i++) out.push({ ref: ref++, labels: Labels.from({ __name__: name, ...common(i) }) });
  }
  ref = base + SCRAPE_SAMPLES + 5;
  const job = { instance: common(0).instance, job: "k8s-pods" };
  for (const name of ["up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"]) {
    out.push({ ref: ref++, labels: Labels.from({ __name__: name, ...job }) });
  }
  return out;
}
