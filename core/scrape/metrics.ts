/** Scrape counters with Prometheus's names (spec §4.12), shared by every loop. */
import { WindowSummary, type Registry } from "../metrics/registry.ts";

export class ScrapeMetrics {
  readonly outOfOrder;
  readonly duplicate;
  readonly outOfBounds;
  readonly exemplarOutOfOrder;
  readonly sampleLimit;
  readonly bodySizeLimit;
  readonly labelLimits;
  readonly scrapes;
  /** Actual time between scrape starts, by configured interval. */
  readonly missed;
  readonly intervalLength = new WindowSummary([0.01, 0.05, 0.5, 0.9, 0.99]);

  constructor(r: Registry) {
    this.outOfOrder = r.counter("prometheus_target_scrapes_sample_out_of_order_total", "Total number of samples rejected due to not being out of the expected order.");
    this.duplicate = r.counter("prometheus_target_scrapes_sample_duplicate_timestamp_total", "Total number of samples rejected due to duplicate timestamps but different values.");
    this.outOfBounds = r.counter("prometheus_target_scrapes_sample_out_of_bounds_total", "Total number of samples rejected due to timestamp falling outside of the time bounds.");
    this.exemplarOutOfOrder = r.counter("prometheus_target_scrapes_exemplar_out_of_order_total", "Total number of exemplar rejected due to not being out of the expected order.");
    this.sampleLimit = r.counter("prometheus_target_scrapes_exceeded_sample_limit_total", "Total number of scrapes that hit the sample limit and were rejected.");
    this.bodySizeLimit = r.counter("prometheus_target_scrapes_exceeded_body_size_limit_total", "Total number of scrapes that hit the body size limit.");
    this.labelLimits = r.counter("prometheus_target_scrape_pool_exceeded_label_limits_total", "Total number of times scrape pools hit the label limits, during sync or config reload.");
    r.collector("prometheus_target_interval_length_seconds", "Actual intervals between scrapes.", "summary", () => this.intervalLength.samples());
    this.scrapes = r.counter("gleaner_target_scrapes_total", "Scrapes attempted, by job and result.", ["job", "result"]);
    this.missed = r.counter("gleaner_target_scrapes_missed_total", "Scrape intervals skipped because the scrape before ran past them (gleaner or the target could not keep up), by job.", ["job"]);
  }
}
