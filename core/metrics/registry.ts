/**
 * gleaner's own metrics, exposed on /metrics in the Prometheus text format 0.0.4.
 *
 * Small on purpose: counters and gauges with fixed label names, plus collectors that
 * compute values at scrape time (process metrics). Names follow Prometheus's own where a
 * dashboard expects them (`prometheus_config_last_reload_successful`, ...).
 *
 * @example
 * const reloads = registry.counter("prometheus_config_reloads_total", "Config reloads.", ["result"]);
 * reloads.inc({ result: "success" });
 */

export type MetricType = "counter" | "gauge" | "summary" | "histogram";
export type Labels = Record<string, string>;

export interface Sample {
  labels?: Labels;
  value: number;
  /** Appended to the family name: `_sum` and `_count` of a summary, `_bucket` of a histogram. */
  suffix?: string;
}

interface Family {
  name: string;
  help: string;
  type: MetricType;
  collect(): Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

class Metric {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly labelNames: readonly string[], readonly family: string) {}

  #key(labels: Labels): string {
    for (const k of Object.keys(labels)) {
      if (!this.labelNames.includes(k)) throw new RangeError(`Cannot use label "${k}" on ${this.family}: its labels are [${this.labelNames.join(", ")}]`);
    }
    return this.labelNames.map((n) => labels[n] ?? "").join("\u0000");
  }

  add(labels: Labels, delta: number): void {
    const key = this.#key(labels);
    const entry = this.#values.get(key);
    if (entry === undefined) this.#values.set(key, { labels: { ...labels }, value: delta });
    else entry.value += delta;
  }

  set(labels: Labels, value: number): void {
    const key = this.#key(labels);
    const entry = this.#values.get(key);
    if (entry === undefined) this.#values.set(key, { labels: { ...labels }, value });
    else entry.value = value;
  }

  get(labels: Labels = {}): number {
    return this.#values.get(this.#key(labels))?.value ?? 0;
  }

  samples(): Sample[] {
    return [...this.#values.values()].map(({ labels, value }) => ({ labels, value }));
  }
}

export class Counter extends Metric {
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new RangeError(`Cannot decrease counter ${this.family} by ${by}`);
    this.add(labels, by);
  }
}

export class Gauge extends Metric {
  inc(labels: Labels = {}, by = 1): void {
    this.add(labels, by);
  }
  dec(labels: Labels = {}, by = 1): void {
    this.add(labels, -by);
  }
}

export class Registry {
  readonly #families = new Map<string, Family>();
  readonly #shared = new Map<string, Counter | Gauge>();

  #register(f: Family): void {
    if (!NAME.test(f.name)) throw new TypeError(`Cannot register metric "${f.name}": not a valid metric name`);
    if (this.#families.has(f.name)) throw new Error(`Cannot register metric "${f.name}": already registered`);
    this.#families.set(f.name, f);
  }

  #metric<M extends Metric>(M: new (l: readonly string[], n: string) => M, type: MetricType, name: string, help: string, labelNames: readonly string[]): M {
    for (const l of labelNames) if (!LABEL.test(l)) throw new TypeError(`Cannot register metric "${name}": "${l}" is not a valid label name`);
    const m = new M(labelNames, name);
    // A metric without labels shows 0 before its first update, as client libraries do.
    if (labelNames.length === 0) m.set({}, 0);
    this.#register({ name, help, type, collect: () => m.samples() });
    return m;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#metric(Counter, "counter", name, help, labelNames);
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#metric(Gauge, "gauge", name, help, labelNames);
  }

  /** The counter registered as `name`, created on first use (for plugins that restart). */
  sharedCounter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    const existing = this.#shared.get(name);
    if (existing instanceof Counter) return existing;
    const c = this.counter(name, help, labelNames);
    this.#shared.set(name, c);
    return c;
  }

  /** The gauge registered as `name`, created on first use. */
  sharedGauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    const existing = this.#shared.get(name);
    if (existing instanceof Gauge) return existing;
    const g = this.gauge(name, help, labelNames);
    this.#shared.set(name, g);
    return g;
  }

  /** A family whose samples are computed when /metrics is scraped. */
  collector(name: string, help: string, type: MetricType, collect: () => Sample[]): void {
    this.#register({ name, help, type, collect });
  }

  /** The text exposition (format 0.0.4) of every family, sorted by name. */
  expose(): string {
    let out = "";
    for (const f of [...this.#families.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const samples = f.collect();
      if (samples.length === 0) continue;
      out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
      for (const s of samples) {
        const entries = Object.entries(s.labels ?? {}).filter(([, v]) => v !== "");
        const labels = entries.length === 0 ? "" : `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
        out += `${f.name}${s.suffix ?? ""}${labels} ${formatValue(s.value)}\n`;
      }
    }
    return out;
  }
}

/**
 * A summary over the last `window` observations per label set, with the given quantiles
 * (`prometheus_target_interval_length_seconds` style).
 */
export class WindowSummary {
  readonly #series = new Map<string, { labels: Labels; values: number[]; next: number; sum: number; count: number }>();

  constructor(readonly quantiles: readonly number[], readonly window = 1024) {}

  observe(labels: Labels, value: number): void {
    const key = JSON.stringify(labels);
    let s = this.#series.get(key);
    if (s === undefined) {
      s = { labels: { ...labels }, values: [], next: 0, sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    if (s.values.length < this.window) s.values.push(value);
    else s.values[s.next] = value;
    s.next = (s.next + 1) % this.window;
    s.sum += value;
    s.count++;
  }

  samples(): Sample[] {
    const out: Sample[] = [];
    for (const s of this.#series.values()) {
      const sorted = [...s.values].sort((a, b) => a - b);
      for (const q of this.quantiles) {
        const v = sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
        out.push({ labels: { ...s.labels, quantile: String(q) }, value: v });
      }
      out.push({ labels: s.labels, value: s.sum, suffix: "_sum" }, { labels: s.labels, value: s.count, suffix: "_count" });
    }
    return out;
  }
}
