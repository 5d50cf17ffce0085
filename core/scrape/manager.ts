/**
 * The scrape manager: one pool per job. Applying a config keeps unchanged jobs running,
 * reloads changed ones and stops removed ones (spec §4.11); target sets arrive per job
 * from discovery (static_configs included).
 */
import { configEqual } from "../config/equal.ts";
import type { Config, ScrapeConfig } from "../config/types.ts";
import type { TargetGroup } from "../discovery/types.ts";
import type { Logger } from "../log/logger.ts";
import type { Registry } from "../metrics/registry.ts";
import { ScrapePool, type LoopFactory } from "./pool.ts";


export class ScrapeManager {
  readonly #pools = new Map<string, ScrapePool>();
  #configs = new Map<string, ScrapeConfig>();
  readonly #syncFailed;
  readonly #limitExceeded;
  readonly #reloads;

  constructor(
    private readonly newLoop: LoopFactory,
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.#syncFailed = registry.counter("prometheus_target_sync_failed_total", "Total number of target sync failures.", ["scrape_job"]);
    this.#limitExceeded = registry.counter("prometheus_target_scrape_pool_exceeded_target_limit_total", "Total number of times scrape pools hit the target limit, during sync or config reload.");
    this.#reloads = registry.counter("prometheus_target_scrape_pool_reloads_total", "Total number of scrape pool reloads.");
    registry.collector("prometheus_target_scrape_pools_total", "Number of scrape pools.", "gauge", () => [{ value: this.#pools.size }]);
  }

  /** Applies the jobs of a newly loaded config. */
  async applyConfig(config: Config): Promise<void> {
    const next = new Map(config.scrape_configs.map((c) => [c.job_name, c]));
    const work: Array<Promise<void>> = [];
    for (const [job, pool] of this.#pools) {
      const cfg = next.get(job);
      if (cfg === undefined) {
        this.#pools.delete(job);
        work.push(pool.stop());
      } else if (!configEqual(pool.config, cfg)) {
        this.#reloads.inc();
        this.log.info("Reloading scrape pool", { scrape_pool: job });
        work.push(pool.reload(cfg));
      }
    }
    this.#configs = next;
    await Promise.all(work);
  }

  /** Replaces the target groups of the given jobs; pools are created on first targets. */
  async updateTargets(sets: ReadonlyMap<string, TargetGroup[]>): Promise<void> {
    const work: Array<Promise<void>> = [];
    for (const [job, groups] of sets) {
      const cfg = this.#configs.get(job);
      if (cfg === undefined) continue;
      let pool = this.#pools.get(job);
      if (pool === undefined) {
        pool = new ScrapePool(cfg, this.newLoop, this.log.with({ component: "scrape" }), {
          syncFailed: (j) => this.#syncFailed.inc({ scrape_job: j }),
          targetLimitExceeded: () => this.#limitExceeded.inc(),
        });
        this.#pools.set(job, pool);
      }
      work.push(pool.sync(groups));
    }
    await Promise.all(work);
  }

  pools(): ReadonlyMap<string, ScrapePool> {
    return this.#pools;
  }

  async stop(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.stop()));
  }
}

