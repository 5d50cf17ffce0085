/**
 * A scrape pool: one per job. It turns the job's target groups into targets (deduplicated
 * by identity), keeps one loop per target, and applies target_limit and the dropped-target
 * list (spec §2.3–2.5).
 */
import type { ScrapeConfig } from "../config/types.ts";
import type { TargetGroup } from "../discovery/types.ts";
import type { Logger } from "../log/logger.ts";
import type { Labels } from "../model/labels.ts";
import { compileRelabel, type CompiledRule } from "../relabel/index.ts";
import { mergeGroupLabels, populateTarget, type Target } from "./target.ts";

export type TargetHealth = "unknown" | "up" | "down";

/** One metric family's HELP/TYPE/UNIT as a target last exposed it. */
export interface MetricMetadata {
  metric: string;
  type: string;
  help: string;
  unit: string;
}

export interface TargetStatus {
  health: TargetHealth;
  lastError: string;
  /** ms since epoch of the last scrape start, 0 before the first. */
  lastScrape: number;
  lastScrapeDurationMs: number;
}

/** A running scrape loop, as the pool sees it. */
export interface Loop {
  readonly target: Target;
  start(): void;
  /**
   * Stops the loop; with `endOfRunStaleness` it later marks its series stale (spec §4.8
   * case 4) and then frees its resources itself; without, call release() once done with it.
   */
  stop(endOfRunStaleness: boolean): Promise<void>;
  /**
   * Frees a loop stopped without end-of-run staleness. Unless its state was handed on to a
   * new loop, `endOfRunStaleness` first marks its series stale (a reload without cache reuse).
   */
  release(endOfRunStaleness: boolean): void;
  /** A forced error (target_limit) makes every tick fail without a request; null clears it. */
  setForcedError(error: string | null): void;
  status(): TargetStatus;
  /** The target's metric metadata from recent scrapes. */
  metadata(): MetricMetadata[];
}

/**
 * `poolSignal` aborts when the pool stops (end-of-run staleness is then skipped).
 * `previous`, on a reload, is the stopped loop of the same target: the factory may take
 * over its scrape cache (spec §4.11).
 */
export type LoopFactory = (target: Target, config: ScrapeConfig, poolSignal: AbortSignal, previous?: Loop) => Loop;

export interface PoolMetrics {
  syncFailed(job: string): void;
  targetLimitExceeded(job: string): void;
}

export interface DroppedTarget {
  discoveredLabels: Labels;
}

export class ScrapePool {
  #config: ScrapeConfig;
  #rules: CompiledRule[];
  readonly #loops = new Map<bigint, Loop>();
  /** The most recent discovered labels per identity, for the API. */
  readonly #active = new Map<bigint, Target>();
  #dropped: DroppedTarget[] = [];
  #droppedCount = 0;
  #limitError: string | null = null;
  readonly #stopped = new AbortController();

  constructor(
    config: ScrapeConfig,
    private readonly newLoop: LoopFactory,
    private readonly log: Logger,
    private readonly metrics: PoolMetrics,
  ) {
    this.#config = config;
    this.#rules = compileRelabel(config.relabel_configs, config.metric_name_validation_scheme);
  }

  get config(): ScrapeConfig {
    return this.#config;
  }

  /** Replaces the target set with the targets of `groups`; starts and stops loops. */
  async sync(groups: readonly TargetGroup[]): Promise<void> {
    const cfg = this.#config;
    const fresh = new Map<bigint, Target>();
    const dropped: DroppedTarget[] = [];
    let droppedCount = 0;
    for (const group of groups) {
      for (const t of group.targets) {
        const r = populateTarget(mergeGroupLabels(t, group.labels), cfg, this.#rules);
        if (r.kind === "target") fresh.set(r.target.hash, r.target);
        else if (r.kind === "dropped") {
          droppedCount++;
          if (cfg.keep_dropped_targets === 0 || dropped.length < cfg.keep_dropped_targets) dropped.push({ discoveredLabels: r.discoveredLabels });
        } else {
          this.metrics.syncFailed(cfg.job_name);
          this.log.error("Creating target failed", { scrape_pool: cfg.job_name, target: r.discoveredLabels.toString(), err: r.error });
        }
      }
    }
    this.#dropped = dropped;
    this.#droppedCount = droppedCount;

    for (const [hash, target] of fresh) {
      this.#active.set(hash, target);
      if (!this.#loops.has(hash)) {
        const loop = this.newLoop(target, cfg, this.#stopped.signal);
        this.#loops.set(hash, loop);
        loop.start();
      }
    }
    const stopping: Array<Promise<void>> = [];
    for (const [hash, loop] of this.#loops) {
      if (fresh.has(hash)) continue;
      this.#loops.delete(hash);
      this.#active.delete(hash);
      stopping.push(loop.stop(true));
    }
    await Promise.all(stopping);
    this.#applyTargetLimit();
  }

  #applyTargetLimit(): void {
    const limit = this.#config.target_limit;
    const n = this.#loops.size;
    this.#limitError = limit > 0 && n > limit ? `target_limit exceeded (number of targets: ${n}, limit: ${limit})` : null;
    if (this.#limitError !== null) this.metrics.targetLimitExceeded(this.#config.job_name);
    for (const loop of this.#loops.values()) loop.setForcedError(this.#limitError);
  }

  /** Restarts every loop with a new config of the same job (spec §4.11). */
  async reload(config: ScrapeConfig): Promise<void> {
    this.#config = config;
    this.#rules = compileRelabel(config.relabel_configs, config.metric_name_validation_scheme);
    const targets = [...this.#loops.entries()];
    await Promise.all(targets.map(([, loop]) => loop.stop(false)));
    for (const [hash, old] of targets) {
      const loop = this.newLoop(old.target, config, this.#stopped.signal, old);
      // Unless the new loop took over its cache, the old loop's series go stale (spec §4.11).
      old.release(true);
      this.#loops.set(hash, loop);
      loop.start();
    }
    this.#applyTargetLimit();
  }

  /** Stops every loop; a removed job's series simply age out (no end-of-run markers). */
  async stop(): Promise<void> {
    const loops = [...this.#loops.values()];
    this.#stopped.abort();
    this.#loops.clear();
    this.#active.clear();
    await Promise.all(loops.map((l) => l.stop(false)));
    for (const l of loops) l.release(false);
  }

  activeTargets(): Array<{ target: Target; status: TargetStatus; loop: Loop }> {
    return [...this.#loops.entries()].map(([hash, loop]) => ({ target: this.#active.get(hash) ?? loop.target, status: loop.status(), loop }));
  }

  droppedTargets(): { targets: DroppedTarget[]; count: number } {
    return { targets: this.#dropped, count: this.#droppedCount };
  }

  get targetLimitError(): string | null {
    return this.#limitError;
  }
}
