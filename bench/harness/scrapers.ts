/**
 * The scrapers `gleaner bench` can put under the same workload: gleaner itself (this very
 * program, started as `gleaner run` in its own process), Debian's Prometheus and
 * VictoriaMetrics single-node. Each is started with a generated config on loopback and read
 * through its own counters (samples ingested, series) and its `/api/v1/targets`.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export type ScraperName = "gleaner" | "prometheus" | "victoriametrics";
export const SCRAPER_NAMES: readonly ScraperName[] = ["gleaner", "prometheus", "victoriametrics"];

export interface ScrapeJob {
  /** host:port of every target. */
  targets: readonly string[];
  intervalText: string;
  /** An empty directory the scraper may use for config and data. */
  dir: string;
  port: number;
  /** Directory for a CPU profile of the scraper (gleaner only). */
  profileDir?: string;
}

export interface Counters {
  /** Samples the scraper says it ingested (its own counter). */
  samples: number;
  /** Series the scraper says it holds (its own gauge). */
  series: number;
}

export interface TargetState {
  url: string;
  health: string;
  lastError: string;
  /** ms since the epoch; 0 before the first scrape. */
  lastScrape: number;
  lastScrapeDurationS: number;
}

export interface ScraperSpec {
  name: ScraperName;
  /** The executable for a peer; null for gleaner (this program). */
  binary: string | null;
  /** The Debian package that provides the peer. */
  pkg: string | null;
  /** Report series the scraper adds to every scrape (up, scrape_duration_seconds, ...). */
  reportSeries: number;
  /** argv and environment to start it for `job` (writes its config into job.dir). */
  command(job: ScrapeJob): { argv: string[]; env?: Record<string, string> };
  /** Where its data lives inside job.dir. */
  dataDir(job: ScrapeJob): string;
  /** Reads the samples and series counters from its /metrics text. */
  counters(metrics: string): Counters;
  /** The version line, for the report. */
  version(): string;
}

/** How to run this program again: the compiled binary itself, or bun with the CLI's source. */
export function selfCommand(): string[] {
  if (Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/")) return [process.execPath];
  return [process.execPath, new URL("../../cmd/gleaner.ts", import.meta.url).pathname];
}

function promConfig(job: ScrapeJob): string {
  const file = join(job.dir, "scrape.yml");
  const targets = job.targets.map((t) => `'${t}'`).join(", ");
  writeFileSync(
    file,
    `global:\n  scrape_interval: ${job.intervalText}\n  scrape_timeout: ${job.intervalText}\nscrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: [${targets}]\n`,
  );
  return file;
}

/** The value of the first sample of `name` whose labels contain `labels` (NaN if none). */
export function metricValue(text: string, name: string, labels = ""): number {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    if (labels !== "" && !rest.includes(labels)) continue;
    return Number(rest.slice(rest.lastIndexOf(" ") + 1));
  }
  return NaN;
}

const prometheusCounters = (text: string): Counters => ({
  samples: metricValue(text, "prometheus_tsdb_head_samples_appended_total"),
  series: metricValue(text, "prometheus_tsdb_head_series"),
});

export const SCRAPERS: Record<ScraperName, ScraperSpec> = {
  gleaner: {
    name: "gleaner",
    binary: null,
    pkg: null,
    reportSeries: 5,
    command(job) {
      const profile = job.profileDir !== undefined && !Bun.main.startsWith("/$bunfs/") ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${job.profileDir}`] : [];
      const [exe, ...script] = selfCommand();
      return {
        argv: [exe!, ...profile, ...script, "run", `--config.file=${promConfig(job)}`, `--storage.tsdb.path=${this.dataDir(job)}`, `--web.listen-address=127.0.0.1:${job.port}`, "--log.level=warn"],
        ...(job.profileDir !== undefined && Bun.main.startsWith("/$bunfs/") ? { env: { BUN_OPTIONS: `--cpu-prof --cpu-prof-md --cpu-prof-dir=${job.profileDir}` } } : {}),
      };
    },
    dataDir: (job) => join(job.dir, "data"),
    counters: prometheusCounters,
    version: () => {
      const [exe, ...script] = selfCommand();
      const out = Bun.spawnSync([exe!, ...script, "version"], { stderr: "ignore" }).stdout.toString();
      return out.split("\n")[0]?.replace(/^gleaner, version /, "gleaner ") ?? "gleaner";
    },
  },
  prometheus: {
    name: "prometheus",
    binary: "/usr/bin/prometheus",
    pkg: "prometheus",
    reportSeries: 5,
    command(job) {
      return { argv: [this.binary!, `--config.file=${promConfig(job)}`, `--storage.tsdb.path=${this.dataDir(job)}`, `--web.listen-address=127.0.0.1:${job.port}`, "--log.level=warn"] };
    },
    dataDir: (job) => join(job.dir, "data"),
    counters: prometheusCounters,
    version: () => {
      const r = Bun.spawnSync(["/usr/bin/prometheus", "--version"]);
      const line = (r.stdout.toString() + r.stderr.toString()).split("\n")[0] ?? "";
      return line.replace(/^prometheus, version (\S+).*$/, "Prometheus $1");
    },
  },
  victoriametrics: {
    name: "victoriametrics",
    binary: "/usr/bin/victoria-metrics",
    pkg: "victoria-metrics",
    // up, scrape_duration_seconds, scrape_response_size_bytes, scrape_samples_post_metric_relabeling,
    // scrape_samples_scraped, scrape_series_added, scrape_timeout_seconds
    reportSeries: 7,
    command(job) {
      return {
        argv: [this.binary!, `-promscrape.config=${promConfig(job)}`, `-storageDataPath=${this.dataDir(job)}`, `-httpListenAddr=127.0.0.1:${job.port}`, "-loggerLevel=ERROR"],
      };
    },
    dataDir: (job) => join(job.dir, "data"),
    counters: (text) => ({
      samples: metricValue(text, "vm_rows_added_to_storage_total"),
      // Series seen in the current hour: VictoriaMetrics's nearest to "active series".
      series: metricValue(text, "vm_cache_entries", 'type="storage/hour_metric_ids"'),
    }),
    version: () => {
      const r = Bun.spawnSync(["dpkg-query", "-W", "-f=${Version}", "victoria-metrics"], { stderr: "ignore" });
      const v = r.stdout.toString().trim();
      return v === "" ? "VictoriaMetrics" : `VictoriaMetrics ${v}`;
    },
  },
};

/** The harness's own reads ask for no compression, to cost the scraper under test little. */
export const IDENTITY = { "Accept-Encoding": "identity" };

/** Reads /api/v1/targets of a Prometheus-compatible scraper. */
export async function fetchTargets(base: string, signal?: AbortSignal): Promise<TargetState[]> {
  const res = await fetch(`${base}/api/v1/targets?state=active`, { headers: IDENTITY, ...(signal ? { signal } : {}) });
  if (!res.ok) throw new Error(`GET ${base}/api/v1/targets: HTTP ${res.status}`);
  const body = (await res.json()) as { data?: { activeTargets?: Array<Record<string, unknown>> } };
  return (body.data?.activeTargets ?? []).map((t) => ({
    url: String(t.scrapeUrl ?? ""),
    health: String(t.health ?? ""),
    lastError: String(t.lastError ?? ""),
    lastScrape: t.lastScrape ? Math.max(0, Date.parse(String(t.lastScrape))) || 0 : 0,
    lastScrapeDurationS: Number(t.lastScrapeDuration ?? 0),
  }));
}
