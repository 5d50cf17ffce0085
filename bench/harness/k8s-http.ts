/**
 * The `k8s-http` bench workload: what a fleet of HTTP services on Kubernetes exposes, each
 * target a different set of pods, so no two targets share a series text (unlike the `mixed`
 * workload, where only the `instance` label tells targets apart):
 *
 * - ~35 % counters `http_requests_total{namespace,pod,handler,method,status}`,
 * - ~45 % classic histograms `http_request_duration_seconds` (12 `le` buckets + `_sum` with a
 *   full-precision float + `_count`) over the same label sets,
 * - ~20 % gauges: random integers, a random walk, 2-decimal floats.
 *
 * Every value changes every interval. The pod names (`api-24234428-00000`: a deployment hash and
 * a replica number) are the only per-target bytes and have a fixed width, so the body is
 * rendered once per interval and each target's copy is patched at the recorded pod offsets.
 */
import { mix } from "../../test/support/random.ts";

const NAMESPACES = ["prod", "staging", "payments", "search"];
const APPS = ["api", "web", "auth", "cart", "feed"];
const HANDLERS = [
  "/api/v1/users", "/api/v1/users/:id", "/api/v1/orders", "/api/v1/orders/:id", "/api/v1/items",
  "/api/v1/items/:id", "/api/v1/search", "/api/v1/cart", "/api/v1/checkout", "/api/v1/login",
  "/api/v1/logout", "/api/v1/session", "/api/v2/users", "/api/v2/orders", "/api/v2/items",
  "/api/v2/search", "/healthz", "/readyz", "/metrics", "/graphql", "/static/:file", "/",
];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"];
const STATUSES = ["200", "201", "204", "301", "400", "401", "403", "404", "409", "429", "500", "502", "503"];
const BOUNDS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];
/** Series one histogram label set contributes: buckets, _sum, _count. */
const HISTOGRAM_SERIES = BOUNDS.length + 2;
const GAUGES = ["process_open_fds", "queue_depth", "cpu_utilisation_ratio"];
/** Characters of a pod name after the app: `-` 8 hex digits `-` 5 digits. */
const POD_SUFFIX = 15;
const REPLICAS = 4;

/**
 * The i-th label set (a handler × method × status of one pod) of a target: i in mixed radix,
 * so label sets never repeat within a family.
 */
function labelSet(i: number): { ns: string; app: string; replica: number; handler: string; method: string; status: string } {
  const replica = i % REPLICAS;
  let r = Math.floor(i / REPLICAS);
  const handler = HANDLERS[r % HANDLERS.length]!;
  r = Math.floor(r / HANDLERS.length);
  const method = METHODS[r % METHODS.length]!;
  r = Math.floor(r / METHODS.length);
  const status = STATUSES[r % STATUSES.length]!;
  r = Math.floor(r / STATUSES.length);
  const ns = NAMESPACES[r % NAMESPACES.length]!;
  const k = Math.floor(r / NAMESPACES.length);
  const app = k < APPS.length ? APPS[k]! : `${APPS[k % APPS.length]}${Math.floor(k / APPS.length)}`;
  return { ns, app, replica, handler, method, status };
}

/** The per-target part of a pod name: `-<deployment hash>-<replica>`, always POD_SUFFIX bytes. */
export function podSuffix(target: number, replica: number): string {
  return `-${mix(target, 99).toString(16).padStart(8, "0")}-${String(target * REPLICAS + replica).padStart(5, "0").slice(-5)}`;
}

export class K8sHttpWorkload {
  readonly seriesPerTarget: number;
  readonly #counters: number;
  readonly #histograms: number;
  readonly #gauges: number;
  readonly #encoder = new TextEncoder();
  #step = -1;
  #body = new Uint8Array(0);
  /** Byte offset of every pod suffix in #body, and the replica it names. */
  #podAt = new Uint32Array(0);
  #podReplica = new Uint8Array(0);
  #suffixes = new Map<number, Uint8Array>();

  constructor(series: number) {
    this.#histograms = Math.max(1, Math.round((series * 0.45) / HISTOGRAM_SERIES));
    const rest = Math.max(2, series - this.#histograms * HISTOGRAM_SERIES);
    this.#gauges = Math.max(1, Math.round((series * 0.2) / GAUGES.length));
    this.#counters = Math.max(1, rest - this.#gauges * GAUGES.length);
    this.seriesPerTarget = this.#counters + this.#histograms * HISTOGRAM_SERIES + this.#gauges * GAUGES.length;
  }

  /** The body target number `target` serves during interval number `step`. */
  body(step: number, target: number): Uint8Array {
    if (step !== this.#step) this.#render(step);
    const out = this.#body.slice();
    for (let r = 0; r < REPLICAS; r++) {
      const suffix = this.#suffix(target, r);
      for (let k = 0; k < this.#podAt.length; k++) if (this.#podReplica[k] === r) out.set(suffix, this.#podAt[k]!);
    }
    return out;
  }

  /** The exposition text of target `target` at interval `step` (for tests). */
  render(step: number, target: number): string {
    return new TextDecoder().decode(this.body(step, target));
  }

  #suffix(target: number, replica: number): Uint8Array {
    const key = target * REPLICAS + replica;
    let s = this.#suffixes.get(key);
    if (s === undefined) {
      if (this.#suffixes.size > 4096) this.#suffixes.clear();
      this.#suffixes.set(key, (s = this.#encoder.encode(podSuffix(target, replica))));
    }
    return s;
  }

  #render(step: number): void {
    const parts: string[] = [];
    let length = 0;
    const pods: number[] = [];
    const replicas: number[] = [];
    const push = (s: string) => {
      parts.push(s);
      length += s.length; // ASCII only
    };
    const placeholder = "-".repeat(POD_SUFFIX);
    const series = (name: string, i: number, extra: string, value: string) => {
      const l = labelSet(i);
      push(`${name}{namespace="${l.ns}",pod="${l.app}`);
      pods.push(length);
      replicas.push(l.replica);
      push(`${placeholder}",handler="${l.handler}",method="${l.method}",status="${l.status}"${extra}} ${value}\n`);
    };
    // A counter that grows by a per-series rate each step (never by 0), from a per-series base;
    // steps count from a recent origin so values stay in the range real counters have.
    const s = step % 1_000_000;
    const counter = (i: number, salt: number) => {
      const rate = 1 + (mix(i, salt) % 40);
      return 500 + (mix(i, salt + 1) % 1_000_000) + s * rate + (mix(i, step ^ salt) % rate);
    };
    push("# HELP http_requests_total Requests handled, by handler, method and status.\n# TYPE http_requests_total counter\n");
    for (let i = 0; i < this.#counters; i++) series("http_requests_total", i, "", String(counter(i, 11)));
    push("# HELP http_request_duration_seconds Request latency.\n# TYPE http_request_duration_seconds histogram\n");
    for (let i = 0; i < this.#histograms; i++) {
      const count = counter(i, 23);
      let cumulative = 0;
      for (let b = 0; b < BOUNDS.length; b++) {
        // Each bucket takes a share of the count that moves a little every step.
        cumulative = b === BOUNDS.length - 1 ? count : Math.min(count, cumulative + Math.floor((count * (2 + (mix(i * 16 + b, step >> 3) % 6))) / 64));
        series("http_request_duration_seconds_bucket", i, `,le="${BOUNDS[b]}"`, String(cumulative));
      }
      // A full-precision float sum, as client libraries accumulate it.
      const sum = count * 0.0871 + (mix(i, step) / 0x1_0000_0000) * 0.731;
      series("http_request_duration_seconds_sum", i, "", String(sum));
      series("http_request_duration_seconds_count", i, "", String(count));
    }
    for (let g = 0; g < GAUGES.length; g++) {
      const name = GAUGES[g]!;
      push(`# HELP ${name} A gauge.\n# TYPE ${name} gauge\n`);
      for (let i = 0; i < this.#gauges; i++) {
        let v: string;
        if (g === 0) v = String(mix(i, step) % 65_536); // random integers
        else if (g === 1) v = String(Math.round(1000 + 400 * Math.sin(step / 9 + i) + ((mix(i, step) % 200) - 100))); // a random walk
        else v = ((mix(i, step + 7) % 10_000) / 100).toFixed(2); // 2-decimal floats
        series(name, i, "", v);
      }
    }
    this.#body = this.#encoder.encode(parts.join(""));
    this.#podAt = Uint32Array.from(pods);
    this.#podReplica = Uint8Array.from(replicas);
    this.#step = step;
  }
}
