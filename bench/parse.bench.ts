/**
 * Exposition parser throughput: MB/s and samples/s, including the copy into WASM memory.
 * Run: node_modules/.bin/bun bench/parse.bench.ts   (never part of `bun test`)
 */
import { createCore } from "../wasm/index.ts";
import { ExpositionParser, Format } from "../wasm/parser.ts";
import { TESTDATA } from "../test/support/testdata.ts";

const testdata = TESTDATA;
const parser = new ExpositionParser(await createCore());

function synthetic(series: number): Uint8Array {
  const lines: string[] = [];
  lines.push("# HELP http_request_duration_seconds Request latency.", "# TYPE http_request_duration_seconds histogram");
  const les = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];
  for (let i = 0; lines.length < series; i++) {
    const labels = `method="GET",handler="/api/v1/query_range/${i % 500}",instance="10.0.${i % 250}.${i % 7}:9100",code="200"`;
    for (const le of les) lines.push(`http_request_duration_seconds_bucket{${labels},le="${le}"} ${i * 13 + le.length}`);
    lines.push(`http_request_duration_seconds_sum{${labels}} ${(i * 0.123456789).toPrecision(17)}`);
    lines.push(`http_request_duration_seconds_count{${labels}} ${i * 13 + 4}`);
  }
  lines.push("# TYPE process_cpu_seconds_total counter");
  for (let i = 0; i < series / 10; i++) lines.push(`process_cpu_seconds_total{core="${i}"} ${i * 1.5} 1700000000000`);
  return new TextEncoder().encode(`${lines.join("\n")}\n`);
}

function measure(name: string, body: Uint8Array, format: Format, minMs = 1500): void {
  let samples = 0;
  for (let w = 0; w < 3; w++) {
    const r = parser.parse(body, format);
    if (!r.ok) throw new Error(`${name}: ${r.reason} at ${r.line}:${r.column}`);
    samples = r.count;
  }
  const runs: number[] = [];
  const until = performance.now() + minMs;
  while (performance.now() < until || runs.length < 5) {
    const t0 = Bun.nanoseconds();
    parser.parse(body, format);
    runs.push(Bun.nanoseconds() - t0);
  }
  runs.sort((a, b) => a - b);
  const med = runs[runs.length >> 1]! / 1e9;
  const mb = body.length / 1e6;
  console.log(
    `${name.padEnd(34)} ${(body.length / 1024).toFixed(0).padStart(7)} KiB ${String(samples).padStart(8)} samples  ` +
      `${(mb / med).toFixed(0).padStart(5)} MB/s  ${(samples / med / 1e6).toFixed(2).padStart(6)} M samples/s  (median of ${runs.length})`,
  );
}

const node = await Bun.file(new URL("real-exporters/node-exporter.prom", testdata)).bytes();
const alltypes = await Bun.file(new URL("prometheus-textparse/alltypes.237mfs.prom.txt", testdata)).bytes();
const big = synthetic(200_000);
const bigOm = new Uint8Array([...big, ...new TextEncoder().encode("# EOF\n")]);

measure("node-exporter.prom (text)", node, Format.Text);
measure("alltypes.237mfs.prom.txt (text)", alltypes, Format.Text);
measure("synthetic 200k lines (text)", big, Format.Text);
measure("synthetic 200k lines (OpenMetrics)", bigOm, Format.OpenMetrics);
for (const pb of ["real-exporters/node-exporter.pb", "real-exporters/prometheus.pb"]) {
  const bytes = await Bun.file(new URL(pb, testdata)).bytes();
  const r = parser.parse(bytes, Format.Protobuf);
  if (r.ok) measure(`${pb.slice(15)} (protobuf)`, bytes, Format.Protobuf);
}
