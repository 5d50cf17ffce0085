/**
 * The generator process of `gleaner bench`: one HTTP server that stands in for every
 * target (127.0.x.y:port addresses all reach it, whatever the path), serving the workload's
 * body for the current interval. It runs in its own process so its CPU is measured apart
 * from the scraper's; it prints `listening <port>` once ready.
 *
 *   gleaner bench target-server --series 20000 --interval 10s [--workload k8s-http] [--format openmetrics] [--churn 0.05] [--replay FILE]
 */
import { parseDuration } from "../../core/config/duration.ts";
import { formatHelp, flag, parseFlags, UsageError, type FlagSpec } from "../../cmd/flags.ts";
import { Workload, WORKLOAD_SHAPES, type WorkloadFormat, type WorkloadShape } from "./workload.ts";

export const TARGET_SERVER_FLAGS: FlagSpec[] = [
  { name: "port", placeholder: "PORT", default: "0", help: "Port to listen on (0: any free port)." },
  { name: "series", placeholder: "N", default: "1000", help: "Series per target." },
  { name: "interval", placeholder: "DURATION", default: "10s", help: "How often values change (the scrape interval)." },
  { name: "format", placeholder: "FORMAT", default: "text", choices: ["text", "openmetrics"], help: "Exposition format." },
  { name: "churn", placeholder: "FRACTION", default: "0", help: "Fraction of series replaced with new label values each minute." },
  { name: "replay", placeholder: "FILE", help: "Serve this exposition capture as it is instead." },
  { name: "workload", placeholder: "SHAPE", default: "mixed", choices: [...WORKLOAD_SHAPES], help: "Synthetic workload shape." },
];

/** The target number of a 127.0.x.y address (as `targetAddresses` hands them out), from the Host header. */
export function targetIndex(host: string | null): number {
  const m = /^127\.0\.(\d+)\.(\d+)(?::\d+)?$/.exec(host ?? "");
  return m === null ? 0 : (Number(m[1]) - 1) * 250 + Number(m[2]) - 1;
}

export function targetServerCommand(argv: readonly string[]): number {
  const parsed = parseFlags(argv, TARGET_SERVER_FLAGS);
  if (parsed.help) {
    process.stdout.write(formatHelp("gleaner bench target-server [<flags>]", "Serve the synthetic bench workload on every address of one port.", TARGET_SERVER_FLAGS));
    return 0;
  }
  const get = (name: string) => flag(parsed, TARGET_SERVER_FLAGS, name);
  const replay = parsed.values.get("replay")?.at(-1);
  const workload = new Workload({
    series: Number(get("series")),
    format: get("format") as WorkloadFormat,
    intervalMs: parseDuration(get("interval")),
    churn: Number(get("churn")),
    shape: get("workload") as WorkloadShape,
    ...(replay !== undefined ? { replay } : {}),
  });
  const port = Number(get("port"));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port "${get("port")}"`);
  const headers = { "Content-Type": workload.contentType };
  const server = Bun.serve({ port, hostname: "0.0.0.0", fetch: (req) => new Response(workload.body(Date.now(), targetIndex(req.headers.get("host"))), { headers }) });
  process.stdout.write(`listening ${server.port} series ${workload.seriesPerTarget}\n`);
  return -1;
}

if (import.meta.main) {
  const code = targetServerCommand(process.argv.slice(2));
  if (code >= 0) process.exit(code);
}
