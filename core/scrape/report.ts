/**
 * The report series written with every scrape attempt (spec §4.7): `up`,
 * `scrape_duration_seconds`, the sample counts, and with extra_scrape_metrics the
 * timeout, sample limit and body size.
 */
import { Labels } from "../model/labels.ts";

export interface ScrapeReport {
  up: boolean;
  durationSeconds: number;
  /** Samples in the exposition, including ones dropped later. */
  scraped: number;
  /** Samples that survived metric relabeling. */
  postRelabeling: number;
  /** Series new to the scrape cache. */
  seriesAdded: number;
  timeoutSeconds: number;
  sampleLimit: number;
  /** Decompressed body size; -1 after a body size limit failure, 0 after other HTTP failures. */
  bodySizeBytes: number;
}

export const REPORT_NAMES = [
  "up",
  "scrape_duration_seconds",
  "scrape_samples_scraped",
  "scrape_samples_post_metric_relabeling",
  "scrape_series_added",
] as const;
export const EXTRA_REPORT_NAMES = ["scrape_timeout_seconds", "scrape_sample_limit", "scrape_body_size_bytes"] as const;

export function reportValues(r: ScrapeReport, extra: boolean): number[] {
  const base = [r.up ? 1 : 0, r.durationSeconds, r.scraped, r.postRelabeling, r.seriesAdded];
  return extra ? [...base, r.timeoutSeconds, r.sampleLimit, r.bodySizeBytes] : base;
}

/** The label sets of a target's report series: the name plus the target's public labels. */
export function reportLabels(publicLabels: Labels, extra: boolean): Labels[] {
  const names = extra ? [...REPORT_NAMES, ...EXTRA_REPORT_NAMES] : [...REPORT_NAMES];
  return names.map((name) => Labels.from([...publicLabels, ["__name__", name] as [string, string]]));
}
