/**
 * Event-loop lag: how late a timer that should fire every `periodMs` actually fires. A lag of
 * L ms means something held the loop for about L ms, during which no request (not even
 * `/-/healthy`) and no scrape timer could run. Exposed as the histogram
 * `gleaner_event_loop_lag_seconds` and the gauge `gleaner_event_loop_lag_max_seconds` (the
 * worst since the last /metrics read); a lag over `warnMs` is logged with its size.
 *
 * @example
 * const stop = monitorEventLoop(registry, log);
 * stop(); // at shutdown
 */
import type { Logger } from "../log/logger.ts";
import type { Registry, Sample } from "./registry.ts";

const BOUNDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface EventLoopMonitorOptions {
  periodMs?: number;
  /** Lags above this are logged (default 1000 ms). */
  warnMs?: number;
  now?: () => number;
}

export class LagHistogram {
  readonly counts = new Array<number>(BOUNDS.length + 1).fill(0);
  sum = 0;
  count = 0;
  max = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < BOUNDS.length && seconds > BOUNDS[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
    if (seconds > this.max) this.max = seconds;
  }

  samples(): Sample[] {
    const out: Sample[] = [];
    let cumulative = 0;
    BOUNDS.forEach((b, i) => {
      cumulative += this.counts[i]!;
      out.push({ labels: { le: String(b) }, value: cumulative, suffix: "_bucket" });
    });
    out.push({ labels: { le: "+Inf" }, value: this.count, suffix: "_bucket" }, { value: this.sum, suffix: "_sum" }, { value: this.count, suffix: "_count" });
    return out;
  }
}

/** Starts measuring; returns the stop function. The timer does not keep the process alive. */
export function monitorEventLoop(registry: Registry, log: Logger, opts: EventLoopMonitorOptions = {}): () => void {
  const period = opts.periodMs ?? 100;
  const warnMs = opts.warnMs ?? 1000;
  const now = opts.now ?? (() => performance.now());
  const h = new LagHistogram();
  let maxSinceRead = 0;
  registry.collector("gleaner_event_loop_lag_seconds", "How late a periodic timer fired: time the event loop was held by other work.", "histogram", () => h.samples());
  registry.collector("gleaner_event_loop_lag_max_seconds", "The largest event-loop lag since the last read of this metric.", "gauge", () => {
    const v = maxSinceRead;
    maxSinceRead = 0;
    return [{ value: v }];
  });
  let expected = now() + period;
  const timer = setInterval(() => {
    const t = now();
    const lagMs = Math.max(0, t - expected);
    expected = t + period;
    h.observe(lagMs / 1000);
    if (lagMs / 1000 > maxSinceRead) maxSinceRead = lagMs / 1000;
    if (lagMs > warnMs) log.warn("The event loop was blocked", { lag: `${(lagMs / 1000).toFixed(2)}s` });
  }, period);
  (timer as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
}
