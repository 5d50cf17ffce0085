/**
 * One scrape of one target, start to commit (spec §4.3–4.10): fetch, parse in WASM, resolve
 * every series through the target's scrape cache in one call, handle only the misses in
 * JS (labels, relabeling, limits, storage refs), append, write stale markers and the report
 * series, and commit atomically — or roll back and commit just the stale markers and the
 * report when anything fails.
 *
 * The parse result lives in the shared WASM core and is only valid until the next parse, so
 * parse, lookups and appends run without an await in between — until the sample loop has
 * held the event loop for `sliceMs`: it then detaches the rest of the parse result (copies
 * it into WASM memory of its own) and goes on in slices, yielding between them.
 */
import type { ScrapeConfig } from "../config/types.ts";
import { configEqual } from "../config/equal.ts";
import type { Logger } from "../log/logger.ts";
import { Labels } from "../model/labels.ts";
import { compileRelabel, type CompiledRule } from "../relabel/index.ts";
import { APPEND_DUPLICATE, APPEND_OUT_OF_BOUNDS, APPEND_OUT_OF_ORDER, AppendError, UnknownSeriesRefError, type Appender, type SeriesRef, type Storage } from "../../storage/types.ts";
import type { Core } from "../../wasm/index.ts";
import { CACHE_DROPPED, CACHE_MISS, ScrapeCache, type BatchLookup } from "../../wasm/cache.ts";
import { type DetachedSamples, type ExpositionParser, type Format, type ParsedSamples, type SampleSource } from "../../wasm/parser.ts";
import { SAMPLE_EXEMPLAR_HAS_TIMESTAMP, SAMPLE_HAS_EXEMPLAR, SAMPLE_HAS_TIMESTAMP } from "../../wasm/assembly/abi.ts";
import type { ScrapeStep } from "./loop.ts";
import { MetadataCache } from "./metadata.ts";
import { heavyScrapePermits } from "./permits.ts";
import type { MetricMetadata } from "./pool.ts";
import type { ScrapeMetrics } from "./metrics.ts";
import { reportLabels, reportValues, type ScrapeReport } from "./report.ts";
import { finalSeriesLabels, SeriesError, type LabelLimits } from "./sample-labels.ts";
import type { Target } from "./target.ts";
import { parseExemplarLabels } from "./exemplar-labels.ts";

export type FetchResult =
  /** `release`: the body's buffer goes back to its pool (called once the body is parsed). */
  | { ok: true; body: Uint8Array; contentType: string; release?: () => void }
  /** `bodySize`: -1 after the body size limit, 0 after other HTTP-level failures. */
  | { ok: false; error: string; bodySize: number; bodyLimit?: boolean };

/** Fetches the target once, within its timeout. */
export type Fetcher = (signal: AbortSignal) => Promise<FetchResult>;

/** Picks the parser for a Content-Type, or returns the error that fails the scrape. */
export type FormatSelector = (contentType: string) => Format | { error: string };

export interface ScraperDeps {
  core: Core;
  parser: ExpositionParser;
  storage: Storage;
  fetch: Fetcher;
  selectFormat: FormatSelector;
  metrics: ScrapeMetrics;
  log: Logger;
  /** Monotonic milliseconds, for scrape durations. */
  elapsed?: () => number;
  /**
   * How long the sample loop may hold the event loop before it yields (default 20 ms): a
   * first scrape creating 100k+ series is cut into slices, so other targets, the HTTP API and
   * signals are served meanwhile.
   */
  sliceMs?: number;
}

/** Lets timers, I/O and other scrapes run. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const DEFAULT_SLICE_MS = 20;
/** Samples between two looks at the clock (and, once detached, the size of a window). */
const CHECK_EVERY = 512;

const ERR_SAMPLE_LIMIT = "sample limit exceeded";
const STALE_NAN_BITS = 0x7ff0000000000002n;

/** A failure partway through: samples from `index` on were not appended. */
class ScrapeFailure extends Error {
  constructor(message: string, readonly index: number) {
    super(message);
  }
}

/** What a reloaded target's new scraper takes over from the old one (spec §4.11). */
export interface ScraperState {
  cache: ScrapeCache;
  metadata: MetadataCache;
  reportRefs: SeriesRef[];
  untracked: Set<SeriesRef>;
  lastSuccessfulSize: number;
}

/**
 * A reloaded job keeps its targets' caches when only the interval, timeout, sample_limit
 * or the HTTP client changed (spec §4.11); any other change starts them fresh.
 */
export function cacheReusable(previous: ScrapeConfig, next: ScrapeConfig): boolean {
  const HTTP = ["basic_auth", "authorization", "oauth2", "tls_config", "follow_redirects", "enable_http2", "proxy_url", "no_proxy", "proxy_from_environment", "proxy_connect_header", "http_headers"];
  const strip = (c: ScrapeConfig) => {
    const rest: Record<string, unknown> = { ...c, scrape_interval: 0, scrape_timeout: 0, sample_limit: 0 };
    for (const k of HTTP) delete rest[k];
    return rest;
  };
  return configEqual(strip(previous), strip(next));
}

export class TargetScraper implements ScrapeStep {
  #cache: ScrapeCache;
  #metadata: MetadataCache;
  #handedOver = false;
  readonly #rules: CompiledRule[];
  readonly #limits: LabelLimits;
  readonly #reportLabels: Labels[];
  readonly #reportRefs: SeriesRef[];
  /** Refs of series exposed with their own timestamp: not tracked for staleness. */
  readonly #untracked: Set<SeriesRef>;
  readonly #elapsed: () => number;

  constructor(readonly target: Target, readonly config: ScrapeConfig, private readonly deps: ScraperDeps, inherited?: ScraperState) {
    this.#cache = inherited?.cache ?? new ScrapeCache(deps.core);
    this.#metadata = inherited?.metadata ?? new MetadataCache();
    this.#untracked = inherited?.untracked ?? new Set();
    this.#lastSuccessfulSize = inherited?.lastSuccessfulSize ?? 0;
    this.#rules = compileRelabel(config.metric_relabel_configs, config.metric_name_validation_scheme);
    this.#limits = { labelLimit: config.label_limit, labelNameLengthLimit: config.label_name_length_limit, labelValueLengthLimit: config.label_value_length_limit };
    this.#reportLabels = reportLabels(target.publicLabels, config.extra_scrape_metrics);
    this.#reportRefs = inherited?.reportRefs ?? this.#reportLabels.map(() => 0);
    this.#elapsed = deps.elapsed ?? (() => performance.now());
  }

  metadata(): MetricMetadata[] {
    return this.#metadata.list();
  }

  /** Entries in the target's scrape cache (series and dropped series). */
  get cacheSize(): number {
    return this.#cache.count;
  }

  /** Bytes of WASM memory the target's scrape cache holds (slots and key records). */
  get cacheBytes(): number {
    return this.#cache.capacity * 8 + this.#cache.keyBytes;
  }

  get handedOver(): boolean {
    return this.#handedOver;
  }

  /** Gives this scraper's cache to the scraper that replaces it on a reload. */
  handOver(): ScraperState {
    this.#handedOver = true;
    return { cache: this.#cache, metadata: this.#metadata, reportRefs: this.#reportRefs, untracked: this.#untracked, lastSuccessfulSize: this.#lastSuccessfulSize };
  }

  /** Frees the cache's WASM memory; the scraper must not be used afterwards. */
  dispose(): void {
    if (this.#handedOver) return;
    this.#cache.destroy();
  }

  /** See ScrapeStep.lastDurationMs. */
  lastDurationMs = 0;

  async scrape(timestamp: number, forcedError: string | null, signal: AbortSignal): Promise<string | null> {
    const start = this.#elapsed();
    const fetched: FetchResult = forcedError !== null ? { ok: false, error: forcedError, bodySize: 0 } : await this.deps.fetch(signal);
    if (!fetched.ok && fetched.bodyLimit) this.deps.metrics.bodySizeLimit.inc();

    const report: ScrapeReport = {
      up: false, durationSeconds: 0, scraped: 0, postRelabeling: 0, seriesAdded: 0,
      timeoutSeconds: this.target.timeoutMs / 1000, sampleLimit: this.config.sample_limit,
      bodySizeBytes: fetched.ok ? fetched.body.length : fetched.bodySize,
    };
    // From here to the commit nothing awaits: the parse result lives in shared WASM memory.
    let app = this.deps.storage.appender();
    let error: string | null = null;
    let staleRefs: Iterable<SeriesRef>;
    try {
      staleRefs = await this.#appendScrape(app, fetched, timestamp, report, signal);
      report.up = true;
    } catch (err) {
      if (fetched.ok) fetched.release?.();
      if (!(err instanceof ScrapeFailure) && !(err instanceof AppendError)) throw err;
      error = err.message;
      await app.rollback();
      app = this.deps.storage.appender();
      staleRefs = this.#failedScrapeStaleRefs(err instanceof ScrapeFailure ? err.index : 0);
    }
    for (const ref of staleRefs) appendStaleIfKnown(app, ref, timestamp);
    report.durationSeconds = (this.#elapsed() - start) / 1000;
    this.lastDurationMs = report.durationSeconds * 1000;
    this.#appendReport(app, report, timestamp);
    try {
      await app.commit();
    } catch (err) {
      this.deps.log.error("Scrape commit failed", { target: this.target.url, err });
    }
    this.deps.metrics.scrapes.inc({ job: this.config.job_name, result: error === null ? "success" : "failure" });
    return error;
  }

  #lastLookup: BatchLookup | null = null;
  /** Cache entries after the last successful scrape: bounds growth across failures. */
  #lastSuccessfulSize = 0;
  #cacheStarted = false;

  /** Appends one successful fetch; returns the refs to mark stale. Throws ScrapeFailure. */
  async #appendScrape(app: Appender, fetched: FetchResult, ts: number, report: ScrapeReport, signal: AbortSignal): Promise<Iterable<SeriesRef>> {
    this.#lastLookup = null;
    this.#cacheStarted = false;
    if (!fetched.ok) throw new ScrapeFailure(fetched.error, 0);
    if (fetched.body.length === 0) {
      // An empty 200 body is a success with no samples: everything goes stale.
      fetched.release?.();
      this.#beginScrape();
      return this.#tracked(this.#cache.unseenRefs());
    }
    const format = this.deps.selectFormat(fetched.contentType);
    if (typeof format !== "number") throw new ScrapeFailure(format.error, 0);
    // Native histograms are not stored yet: their classic parts are scraped (see the config warning).
    const parsed = this.deps.parser.parse(fetched.body, format, { ignoreNativeHistograms: true });
    // The body is in WASM memory now: its buffer can serve another scrape.
    fetched.release?.();
    if (!parsed.ok) {
      // As with Prometheus's incremental parser, the series before the bad line count as
      // seen (they get no stale marker) and as scraped.
      this.#beginScrape();
      this.#lastLookup = this.#cache.lookupParsed(parsed.before);
      report.scraped = parsed.before.count;
      throw new ScrapeFailure(`${formatName(format)} parse error at line ${parsed.line}, column ${parsed.column}: ${parsed.reason}`, parsed.before.count);
    }
    this.#beginScrape();
    this.#metadata.update(parsed);
    const n = parsed.count;
    report.scraped = n;
    const lookup = this.#cache.lookupParsed(parsed);
    this.#lastLookup = lookup;
    await this.#appendSamples(app, parsed, lookup, ts, report, signal);
    const stale = this.#tracked(this.#cache.unseenRefs());
    // After a successful non-empty scrape, entries it did not see are flushed.
    this.#cache.evict(1);
    this.#lastSuccessfulSize = this.#cache.count;
    return stale;
  }

  #beginScrape(): void {
    this.#cache.beginScrape();
    this.#cacheStarted = true;
  }

  async #appendSamples(app: Appender, live: ParsedSamples, lookup: BatchLookup, scrapeTs: number, report: ScrapeReport, signal: AbortSignal): Promise<void> {
    const permit: { release: (() => void) | null } = { release: null };
    try {
      await this.#sampleLoop(app, live, lookup, scrapeTs, report, signal, permit);
    } finally {
      permit.release?.();
    }
  }

  async #sampleLoop(app: Appender, live: ParsedSamples, lookup: BatchLookup, scrapeTs: number, report: ScrapeReport, signal: AbortSignal, permit: { release: (() => void) | null }): Promise<void> {
    let parsed: SampleSource = live;
    let detached: DetachedSamples | null = null;
    const sliceMs = this.deps.sliceMs ?? DEFAULT_SLICE_MS;
    let sliceStart = performance.now();
    let nextCheck = CHECK_EVERY;
    const cfg = this.config;
    const { metrics } = this.deps;
    const honorTs = cfg.honor_timestamps;
    const limit = cfg.sample_limit;
    let appended = 0;
    let limitHit = false;
    let limitIndex = 0;
    const n = parsed.count;
    for (let i = 0; i < n; i++) {
      if (i === nextCheck) {
        nextCheck = i + CHECK_EVERY;
        if (performance.now() - sliceStart >= sliceMs) {
          // The rest no longer depends on the shared parse: other scrapes may parse meanwhile.
          if (detached === null) {
            parsed = detached = live.detach(i);
            // Wait for a turn when two sliced scrapes already run (see permits.ts).
            permit.release = await heavyScrapePermits(this.deps.core).acquire();
          }
          await yieldToEventLoop();
          if (signal.aborted) throw new ScrapeFailure("scrape cancelled: its scrape loop was stopped", i);
          sliceStart = performance.now();
        }
        // A detached result's bytes come into WASM memory one window at a time.
        if (detached !== null) detached.window(i, Math.min(n, nextCheck));
      }
      let ref = lookup.ref(i);
      if (ref === CACHE_DROPPED) continue;
      const hasTs = (parsed.flags[i]! & SAMPLE_HAS_TIMESTAMP) !== 0;
      const explicitTs = honorTs && hasTs;
      const t = explicitTs ? parsed.timestamp[i]! : scrapeTs;
      const v = parsed.value[i]!;
      // Protobuf passes value bits through, so a target can send a stale marker itself.
      const stale = v !== v && parsed.valueBits(i) === STALE_NAN_BITS;
      let isNew = false;
      let labels: Labels | null = null;
      if (ref === CACHE_MISS) {
        const start = parsed.seriesStart[i]!;
        const len = parsed.seriesEnd[i]! - start;
        // Another sample of this scrape may have inserted the key already.
        const again = this.#cache.lookup(start, len);
        if (again === CACHE_DROPPED) continue;
        if (again >= 0) {
          ref = again;
          if (!explicitTs && this.#cache.lastDuplicates > 0) {
            report.postRelabeling++;
            metrics.duplicate.inc();
            continue;
          }
        } else {
          labels = this.#newSeriesLabels(parsed, i);
          if (labels === null) {
            this.#cache.insert(start, len, CACHE_DROPPED);
            continue;
          }
          isNew = true;
          ref = 0;
        }
      } else if (!explicitTs && lookup.isDuplicate(i)) {
        report.postRelabeling++;
        metrics.duplicate.inc();
        continue;
      }
      report.postRelabeling++;
      // Stale markers for known series are exempt from sample_limit.
      if (limit > 0 && !(stale && ref > 0) && ++appended > limit) {
        if (!limitHit) limitIndex = i;
        limitHit = true;
        continue;
      }
      if (limitHit) continue;
      let got: number;
      try {
        try {
          got = stale ? app.appendStale(ref, labels, t) : app.append(ref, labels, t, v);
        } catch (err) {
          // The storage forgot this cached series (retention removed its data): resolve it
          // by its labels again, as for a new series, and re-point the cache entry.
          if (!(err instanceof UnknownSeriesRefError) || labels !== null) throw err;
          labels = this.#newSeriesLabels(parsed, i);
          if (labels === null) {
            this.#cache.insert(parsed.seriesStart[i]!, parsed.seriesEnd[i]! - parsed.seriesStart[i]!, CACHE_DROPPED);
            continue;
          }
          isNew = true;
          got = stale ? app.appendStale(0, labels, t) : app.append(0, labels, t, v);
        }
      } catch (err) {
        if (err instanceof AppendError) throw new ScrapeFailure(err.message, i);
        throw err;
      }
      if (got === APPEND_OUT_OF_ORDER) metrics.outOfOrder.inc();
      else if (got === APPEND_DUPLICATE) metrics.duplicate.inc();
      else if (got === APPEND_OUT_OF_BOUNDS) metrics.outOfBounds.inc();
      if (got <= 0) continue;
      if (isNew) {
        this.#cache.insert(parsed.seriesStart[i]!, parsed.seriesEnd[i]! - parsed.seriesStart[i]!, got);
        report.seriesAdded++;
      }
      if (explicitTs && !cfg.track_timestamps_staleness) this.#untracked.add(got);
      else if (this.#untracked.size > 0) this.#untracked.delete(got);
      if ((parsed.flags[i]! & SAMPLE_HAS_EXEMPLAR) !== 0) this.#appendExemplar(app, parsed, i, got, t);
    }
    if (limitHit) {
      metrics.sampleLimit.inc();
      throw new ScrapeFailure(ERR_SAMPLE_LIMIT, limitIndex);
    }
  }

  /** Labels of a new series, or null when relabeling drops it; throws ScrapeFailure. */
  #newSeriesLabels(parsed: SampleSource, i: number): Labels | null {
    const decoded = parsed.labels(i);
    const exposed = new Map<string, string>(decoded.labels);
    exposed.set("__name__", decoded.name);
    try {
      return finalSeriesLabels(exposed, this.target.publicLabels, this.config.honor_labels, this.#rules, this.config.metric_name_validation_scheme, this.#limits);
    } catch (err) {
      if (!(err instanceof SeriesError)) throw err;
      if (err.kind === "label_limit") this.deps.metrics.labelLimits.inc();
      throw new ScrapeFailure(err.message, i);
    }
  }

  #appendExemplar(app: Appender, parsed: SampleSource, i: number, ref: SeriesRef, sampleTs: number): void {
    const labels = parseExemplarLabels(parsed.exemplarText(i));
    // Exemplar problems never fail a scrape.
    if (labels === null) return;
    const hasTs = (parsed.flags[i]! & SAMPLE_EXEMPLAR_HAS_TIMESTAMP) !== 0;
    const rejected = app.appendExemplar(ref, { labels: Labels.from(labels), value: parsed.exemplarValue[i]!, timestamp: hasTs ? parsed.exemplarTimestamp[i]! : sampleTs });
    if (rejected === "out_of_order") this.deps.metrics.exemplarOutOfOrder.inc();
  }

  /**
   * After a failed scrape: every series of the previous scrape that this attempt did not
   * append goes stale. Series appended before the failure stay "seen" (as Prometheus does).
   */
  #failedScrapeStaleRefs(failedAt: number): Set<SeriesRef> {
    if (!this.#cacheStarted) this.#beginScrape();
    const stale = new Set<SeriesRef>(this.#tracked(this.#cache.unseenRefs()));
    const lookup = this.#lastLookup;
    if (lookup !== null) {
      for (let i = failedAt; i < lookup.count; i++) {
        const ref = lookup.ref(i);
        if (ref >= 0 && !this.#untracked.has(ref)) stale.add(ref);
      }
    }
    // Failed scrapes keep the cache, unless it runs away (label churn on a failing target).
    if (this.#cache.count > 2 * this.#lastSuccessfulSize + 1000) this.#cache.evict(1);
    return stale;
  }

  #tracked(refs: Int32Array): SeriesRef[] {
    const out: SeriesRef[] = [];
    for (const r of refs) if (!this.#untracked.has(r)) out.push(r);
    return out;
  }

  #appendReport(app: Appender, report: ScrapeReport, ts: number): void {
    const values = reportValues(report, this.config.extra_scrape_metrics);
    values.forEach((v, k) => {
      const ref = this.#reportRefs[k]!;
      let got: number;
      try {
        got = app.append(ref, ref === 0 ? this.#reportLabels[k]! : null, ts, v);
      } catch (err) {
        if (!(err instanceof UnknownSeriesRefError)) throw err;
        got = app.append(0, this.#reportLabels[k]!, ts, v);
      }
      if (got > 0) this.#reportRefs[k] = got;
    });
  }

  /** End-of-run stale markers: the last scrape's series and the report series (spec §4.8). */
  async endOfRunStaleness(staleTime: number): Promise<void> {
    const app = this.deps.storage.appender();
    this.#cache.beginScrape();
    for (const ref of this.#tracked(this.#cache.unseenRefs())) appendStaleIfKnown(app, ref, staleTime);
    for (const ref of this.#reportRefs) if (ref > 0) appendStaleIfKnown(app, ref, staleTime);
    await app.commit();
  }

}

/** A stale marker for a series the storage may have forgotten meanwhile (then none is due). */
function appendStaleIfKnown(app: Appender, ref: SeriesRef, t: number): void {
  try {
    app.appendStale(ref, null, t);
  } catch (err) {
    if (!(err instanceof UnknownSeriesRefError)) throw err;
  }
}

function formatName(f: Format): string {
  return f === 1 ? "text" : f === 2 ? "OpenMetrics" : "protobuf";
}
