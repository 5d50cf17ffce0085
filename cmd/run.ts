/** `gleaner run`: scrape, store and serve, with Prometheus's flag names. */
import { ConfigError } from "../core/config/errors.ts";
import { PluginLoadError } from "../core/plugin-loader.ts";
import { parseDuration } from "../core/config/duration.ts";
import { parseBytes } from "../core/config/bytes.ts";
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../core/log/logger.ts";
import { builtinPlugins } from "../plugins/discovery/index.ts";
import { Server } from "../core/server.ts";
import { VERSION } from "../core/version.ts";
import { flag, formatHelp, parseFlags, UsageError, type FlagSpec } from "./flags.ts";

const RUN_FLAGS: FlagSpec[] = [
  { name: "config.file", placeholder: "FILE", default: "prometheus.yml", help: "Configuration file path." },
  { name: "storage.tsdb.path", placeholder: "DIR", default: "data/", help: "Base path for metrics storage." },
  { name: "storage.tsdb.retention.time", placeholder: "DURATION", default: "15d", help: "How long to retain samples in storage." },
  { name: "storage.tsdb.retention.size", placeholder: "SIZE", default: "0B", help: "Maximum number of bytes that can be stored for blocks (e.g. 512MB; 0B: no limit)." },
  { name: "storage.tsdb.wal-fsync-interval", placeholder: "DURATION", default: "0s", help: "Group commit: fsync the WAL at most this often (0s: before every scrape is acknowledged; kill -9 can lose at most this much)." },
  { name: "query.timeout", placeholder: "DURATION", default: "2m", help: "Maximum time a query may take before being aborted." },
  { name: "query.max-samples", placeholder: "INT", default: "50000000", help: "Maximum number of samples a single query can load into memory. Note that queries will fail if they try to load more samples than this into memory, so this also limits the number of samples a query can return." },
  { name: "query.lookback-delta", placeholder: "DURATION", default: "5m", help: "The maximum lookback duration for retrieving metrics during expression evaluations and federation." },
  { name: "web.listen-address", placeholder: "ADDRESS", default: "0.0.0.0:9090", help: "Address to listen on for the web interface and API." },
  { name: "web.enable-lifecycle", boolean: true, default: "false", help: "Enable shutdown and reload via HTTP request (POST /-/reload, /-/quit)." },
  { name: "web.enable-remote-write-receiver", boolean: true, default: "false", help: "Enable API endpoint accepting remote write requests (POST /api/v1/write)." },
  { name: "storage.remote.flush-deadline", placeholder: "DURATION", default: "1m", help: "How long to wait flushing sample on shutdown or config reload." },
  { name: "log.level", placeholder: "LEVEL", default: "info", choices: LOG_LEVELS, help: `Only log messages with the given severity or above. One of: [${LOG_LEVELS.join(", ")}]` },
  { name: "log.format", placeholder: "FORMAT", default: "logfmt", choices: LOG_FORMATS, help: `Output format of log messages. One of: [${LOG_FORMATS.join(", ")}]` },
  { name: "enable-feature", placeholder: "FEATURE", repeatable: true, help: "Comma separated feature names to enable (repeatable). Valid option: exemplar-storage (keep storage.exemplars.max_exemplars exemplars in memory and the WAL, served by /api/v1/query_exemplars and sent by remote write with send_exemplars)." },
  { name: "plugin", placeholder: "PATH", repeatable: true, help: "Load an external discovery plugin module (repeatable; the config's plugins: list adds more)." },
];

/**
 * Prometheus 2.42's other server flags, with Prometheus's defaults: taken so that a Prometheus
 * command line starts gleaner, listed in /api/v1/status/flags as Prometheus lists them, and
 * ignored (a warning names each one given).
 */
const PROMETHEUS_ONLY_FLAGS: FlagSpec[] = (
  [
    ["alertmanager.notification-queue-capacity", "INT", "10000", "The capacity of the queue for pending Alertmanager notifications."],
    ["alertmanager.timeout", "DURATION", "", "Timeout for sending alerts to Alertmanager."],
    ["query.max-concurrency", "INT", "20", "Maximum number of queries executed concurrently."],
    ["rules.alert.for-grace-period", "DURATION", "10m", "Minimum duration between alert and restored \"for\" state."],
    ["rules.alert.for-outage-tolerance", "DURATION", "1h", "Max time to tolerate prometheus outage for restoring \"for\" state of alert."],
    ["rules.alert.resend-delay", "DURATION", "1m", "Minimum amount of time to wait before resending an alert to Alertmanager."],
    ["scrape.adjust-timestamps", null, "true", "Adjust scrape timestamps by up to scrape.timestamp-tolerance to align them to the intended schedule."],
    ["scrape.discovery-reload-interval", "DURATION", "5s", "Interval used by scrape manager to throttle target groups updates."],
    ["scrape.timestamp-tolerance", "DURATION", "2ms", "Timestamp tolerance."],
    ["storage.agent.path", "DIR", "data-agent/", "Base path for metrics storage (agent mode)."],
    ["storage.agent.retention.max-time", "DURATION", "0s", "Max age a WAL segment may have before it is removed (agent mode)."],
    ["storage.agent.retention.min-time", "DURATION", "0s", "Min age a WAL segment must have before it may be removed (agent mode)."],
    ["storage.agent.use-lockfile", null, "false", "Create a lockfile in the data directory (agent mode)."],
    ["storage.agent.wal-compression", null, "true", "Compress the agent WAL."],
    ["storage.agent.wal-segment-size", "SIZE", "0B", "Size at which to split WAL segment files (agent mode)."],
    ["storage.agent.wal-truncate-frequency", "DURATION", "0s", "The frequency at which to truncate the WAL and remove old data (agent mode)."],
    ["storage.remote.read-concurrent-limit", "INT", "10", "Maximum number of concurrent remote read calls."],
    ["storage.remote.read-max-bytes-in-frame", "INT", "1048576", "Maximum number of bytes in a single frame for streaming remote read responses."],
    ["storage.remote.read-sample-limit", "INT", "50000000", "Maximum overall number of samples to return via the remote read interface."],
    ["storage.tsdb.allow-overlapping-blocks", null, "true", "Allow overlapping blocks (always on since Prometheus 2.39)."],
    ["storage.tsdb.head-chunks-write-queue-size", "INT", "0", "Size of the queue through which head chunks are written to the disk."],
    ["storage.tsdb.max-block-chunk-segment-size", "SIZE", "0B", "The maximum size for a single chunk segment in a block."],
    ["storage.tsdb.max-block-duration", "DURATION", "1d12h", "Maximum duration compacted blocks may span."],
    ["storage.tsdb.min-block-duration", "DURATION", "2h", "Minimum duration of a data block before being persisted."],
    ["storage.tsdb.retention", "DURATION", "0s", "[DEPRECATED] How long to retain samples in storage (use --storage.tsdb.retention.time)."],
    ["storage.tsdb.use-lockfile", null, "false", "Create a lockfile in the data directory."],
    ["storage.tsdb.wal-compression", null, "true", "Compress the tsdb WAL (gleaner always compresses its WAL)."],
    ["storage.tsdb.wal-segment-size", "SIZE", "0B", "Size at which to split the tsdb WAL segment files."],
    ["web.config.file", "FILE", "", "Path to configuration file that can enable TLS or authentication."],
    ["web.console.libraries", "DIR", "console_libraries", "Path to the console library directory."],
    ["web.console.templates", "DIR", "consoles", "Path to the console template directory."],
    ["web.cors.origin", "REGEX", ".*", "Regex for CORS origin."],
    ["web.enable-admin-api", null, "false", "Enable API endpoints for admin control actions."],
    ["web.external-url", "URL", "", "The URL under which Prometheus is externally reachable."],
    ["web.local-assets", "DIR", "", "Path to static asset directory."],
    ["web.max-connections", "INT", "512", "Maximum number of simultaneous connections."],
    ["web.page-title", "TITLE", "Prometheus Time Series Collection and Processing Server", "Document title of Prometheus instance."],
    ["web.read-timeout", "DURATION", "5m", "Maximum duration before timing out read of the request, and closing idle connections."],
    ["web.route-prefix", "PATH", "/", "Prefix for the internal routes of web endpoints."],
    ["web.user-assets", "PATH", "", "Path to static asset directory, available at /user."],
  ] as const
).map(([name, placeholder, def, help]): FlagSpec => ({ name, help, default: def, ignored: true, ...(placeholder === null ? { boolean: true } : { placeholder }) }));

const ALL_RUN_FLAGS: FlagSpec[] = [...RUN_FLAGS, ...PROMETHEUS_ONLY_FLAGS];

/** `--enable-feature` values gleaner acts on. */
const KNOWN_FEATURES = new Set(["exemplar-storage"]);

export const RUN_HELP = formatHelp(
  "gleaner run [<flags>]",
  "Scrape the targets of a Prometheus configuration file, store the samples and serve the HTTP API.\nSIGHUP (or POST /-/reload with --web.enable-lifecycle) reloads the configuration;\nSIGTERM or SIGINT stops gleaner cleanly.",
  ALL_RUN_FLAGS,
);

export async function runCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseFlags(argv, ALL_RUN_FLAGS);
  if (parsed.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  const get = (name: string) => flag(parsed, ALL_RUN_FLAGS, name);
  let retention: number;
  try {
    retention = parseDuration(get("storage.tsdb.retention.time"));
  } catch (err) {
    throw new UsageError(`invalid value for '--storage.tsdb.retention.time': ${(err as Error).message}`);
  }

  let retentionSize: number;
  try {
    retentionSize = parseBytes(get("storage.tsdb.retention.size"));
  } catch (err) {
    throw new UsageError(`invalid value for '--storage.tsdb.retention.size': ${(err as Error).message}`);
  }

  let walFsyncInterval: number;
  try {
    walFsyncInterval = parseDuration(get("storage.tsdb.wal-fsync-interval"));
  } catch (err) {
    throw new UsageError(`invalid value for '--storage.tsdb.wal-fsync-interval': ${(err as Error).message}`);
  }

  const duration = (name: string): number => {
    try {
      return parseDuration(get(name));
    } catch (err) {
      throw new UsageError(`invalid value for '--${name}': ${(err as Error).message}`);
    }
  };
  const queryTimeout = duration("query.timeout");
  const lookbackDelta = duration("query.lookback-delta");
  const maxSamples = Number(get("query.max-samples"));
  if (!/^\d+$/.test(get("query.max-samples")) || !Number.isSafeInteger(maxSamples)) {
    throw new UsageError(`invalid value for '--query.max-samples': expected a non-negative integer, got "${get("query.max-samples")}"`);
  }
  const flags = Object.fromEntries(ALL_RUN_FLAGS.map((f) => [f.name, (parsed.values.get(f.name) ?? [get(f.name)]).join(",")]));

  let remoteFlushDeadline: number;
  try {
    remoteFlushDeadline = parseDuration(get("storage.remote.flush-deadline"));
  } catch (err) {
    throw new UsageError(`invalid value for '--storage.remote.flush-deadline': ${(err as Error).message}`);
  }

  const log = createLogger({ level: get("log.level") as LogLevel, format: get("log.format") as LogFormat });
  // Signals are handled from before the start: a SIGTERM that arrives while the TSDB loads or the
  // listener opens stops gleaner cleanly once the start has finished, instead of killing it.
  let server: Server | undefined;
  let started = false;
  let stopReason: string | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    stopReason ??= `received ${signal}`;
    if (started) void server?.stop(stopReason);
  };
  const onHup = () => void (started ? server!.reload().catch(() => {}) : undefined);
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  process.on("SIGHUP", onHup);
  log.info("Starting gleaner", { version: VERSION, bun: Bun.version });
  for (const f of PROMETHEUS_ONLY_FLAGS) if (parsed.values.has(f.name)) log.warn("Flag accepted for compatibility with Prometheus and ignored", { flag: `--${f.name}` });
  const features = new Set<string>();
  for (const value of parsed.values.get("enable-feature") ?? []) {
    for (const f of value.split(",")) {
      const name = f.trim();
      if (name === "") continue;
      if (!KNOWN_FEATURES.has(name)) {
        log.warn("Unknown option for --enable-feature", { option: name });
        continue;
      }
      features.add(name);
      if (name === "exemplar-storage") log.info("Experimental in-memory exemplar storage enabled");
    }
  }
  server = new Server({
    configFile: get("config.file"),
    storagePath: get("storage.tsdb.path"),
    retentionTime: retention,
    retentionSize: retentionSize,
    walFsyncInterval: walFsyncInterval,
    listenAddress: get("web.listen-address"),
    enableLifecycle: get("web.enable-lifecycle") === "true",
    enableRemoteWriteReceiver: get("web.enable-remote-write-receiver") === "true",
    remoteFlushDeadline,
    log,
    plugins: builtinPlugins(),
    pluginPaths: parsed.values.get("plugin") ?? [],
    queryTimeout,
    queryMaxSamples: maxSamples,
    lookbackDelta,
    flags,
    features,
  });

  try {
    try {
      await server.start();
    } catch (err) {
      const message = err instanceof ConfigError || err instanceof PluginLoadError ? `Error loading config: ${err.message}` : (err as Error).message;
      log.error(message);
      return 1;
    }
    started = true;
    if (stopReason !== null) void server.stop(stopReason);
    await server.done();
    return 0;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    process.off("SIGHUP", onHup);
  }
}
