import { expect, test } from "bun:test";
import { join } from "node:path";
import { ENTRY } from "./harness.ts";
import { TESTDATA_DIR, TESTDATA_MISSING } from "../support/testdata.ts";

const TESTDATA = TESTDATA_DIR;

async function check(args: string[], input: Uint8Array | string) {
  const proc = Bun.spawn([process.execPath, ENTRY, "check", "metrics", ...args], { stdin: typeof input === "string" ? new TextEncoder().encode(input) : input, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

test.skipIf(TESTDATA_MISSING !== null)("a valid exposition exits 0", async () => {
  const r = await check([], await Bun.file(join(TESTDATA, "real-exporters/node-exporter.prom")).bytes());
  expect(r).toMatchObject({ code: 0, stderr: "" });
});

test("an invalid exposition exits 1 with line:column: reason", async () => {
  const r = await check([], "ok 1\nbad{ 2\n");
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^2:\d+: .+\n$/);
});

test("CRLF line endings are rejected", async () => {
  const r = await check([], "a 1\r\n");
  expect(r.code).toBe(1);
  expect(r.stderr).toStartWith("1:");
});

test("--dump prints one JSON line per sample, values as strings so NaN and Inf survive", async () => {
  const r = await check(["--dump"], 'a{x="1"} +Inf 1700000000000\nb NaN\n');
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l))).toEqual([
    { series: 'a{x="1"}', labels: { __name__: "a", x: "1" }, value: "+Inf", timestamp_ms: 1700000000000 },
    { series: "b", labels: { __name__: "b" }, value: "NaN", timestamp_ms: null },
  ]);
});

test.skipIf(TESTDATA_MISSING !== null)("--format=openmetrics requires # EOF and --format=protobuf reads delimited MetricFamily messages", async () => {
  expect((await check(["--format=openmetrics"], "a 1\n")).code).toBe(1);
  expect((await check(["--format=openmetrics"], "a 1\n# EOF\n")).code).toBe(0);
  const pb = await check(["--format=protobuf", "--dump"], await Bun.file(join(TESTDATA, "real-exporters/node-exporter.pb")).bytes());
  expect(pb.code).toBe(0);
  expect(pb.stdout.split("\n").length).toBeGreaterThan(100);
});

test("an unknown format is a usage error", async () => {
  const r = await check(["--format=json"], "");
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("invalid value \"json\" for flag '--format'");
});
