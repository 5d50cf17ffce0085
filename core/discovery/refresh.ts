/**
 * Turns "poll every N seconds" into the discovery contract (spec §7): the first refresh
 * runs at once; each refresh's groups are sent with empty groups for sources that
 * disappeared since the last one; a failed refresh is logged and counted and sends
 * nothing, so the last good targets stay.
 *
 * @example
 * create(config, ctx) {
 *   return ctx.refresh({ interval: config.refresh_interval, refresh: (signal) => lookUp(config, signal) });
 * }
 */
import type { Clock } from "../scrape/clock.ts";
import type { Discoverer, TargetGroup } from "./types.ts";

export interface RefreshOptions {
  /** Milliseconds between refreshes. */
  interval: number;
  /** One full look-up; throws (or rejects) when the source cannot be read. */
  refresh(signal: AbortSignal): Promise<TargetGroup[]>;
}

export interface RefreshHooks {
  clock: Clock;
  onError(err: unknown): void;
  onSuccess?(): void;
}

export function refreshDiscoverer(opts: RefreshOptions, hooks: RefreshHooks): Discoverer {
  return {
    async run(signal, emit) {
      let previous = new Set<string>();
      while (!signal.aborted) {
        try {
          const groups = await opts.refresh(signal);
          if (signal.aborted) break;
          const now = new Set(groups.map((g) => g.source));
          const deleted: TargetGroup[] = [...previous].filter((s) => !now.has(s)).map((source) => ({ source, targets: [], labels: {} }));
          previous = now;
          emit([...groups, ...deleted]);
          hooks.onSuccess?.();
        } catch (err) {
          if (signal.aborted) break;
          hooks.onError(err);
        }
        await hooks.clock.sleep(opts.interval, signal);
      }
    },
  };
}
