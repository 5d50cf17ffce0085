/**
 * A synthetic scrape target for benchmarks, run as its own process so its CPU is not
 * counted as the scraper's: serves the same body of `--series` samples (counters, gauges,
 * histogram buckets) for every request, whatever the host or path, so one server stands
 * in for many targets (127.0.x.y:port addresses all reach it).
 *
 *   bun bench/support/target-server.ts --port 9999 --series 1000
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, series: { type: "string", default: "1000" } } });
const series = Number(values.series);

export function syntheticBody(n: number): string {
  const lines = ["# HELP http_requests_total Requests.", "# TYPE http_requests_total counter"];
  for (let i = 0; lines.length - 2 < n; i++) {
    const l = `service="svc-${i % 17}",handler="/api/v${i % 5}/items/${i}"`;
    lines.push(`http_requests_total{${l},code="200"} ${1000 + i}`);
    lines.push(`http_request_size_bytes{${l}} ${i * 7}`);
    for (const le of ["0.01", "0.1", "1", "10", "+Inf"]) lines.push(`http_request_duration_seconds_bucket{${l},le="${le}"} ${i}`);
    lines.push(`http_request_duration_seconds_sum{${l}} ${i * 0.3}`, `http_request_duration_seconds_count{${l}} ${i}`);
  }
  return lines.slice(0, n + 2).join("\n") + "\n";
}

if (import.meta.main) {
  const body = new TextEncoder().encode(syntheticBody(series));
  const server = Bun.serve({
    port: Number(values.port),
    hostname: "0.0.0.0",
    fetch: () => new Response(body, { headers: { "Content-Type": "text/plain; version=0.0.4" } }),
  });
  console.log(`listening ${server.port}`);
}
