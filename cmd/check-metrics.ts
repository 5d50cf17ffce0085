/** `gleaner check metrics`: parses an exposition from stdin, like `promtool check metrics`. */
import { core } from "../wasm/index.ts";
import { ExpositionParser, Format } from "../wasm/parser.ts";
import { flag, formatHelp, parseFlags, UsageError, type FlagSpec } from "./flags.ts";

const FORMATS = { text: Format.Text, openmetrics: Format.OpenMetrics, protobuf: Format.Protobuf } as const;

export const CHECK_METRICS_FLAGS: FlagSpec[] = [
  { name: "format", placeholder: "FORMAT", default: "text", choices: Object.keys(FORMATS), help: "Exposition format of the input: text (0.0.4), openmetrics (1.0) or protobuf (delimited)." },
  { name: "dump", boolean: true, help: 'Print every parsed sample as a JSON line: {"series", "labels", "value", "timestamp_ms"}.' },
  { name: "strict", boolean: true, help: "OpenMetrics only: also apply the OpenMetrics test suite's semantic checks." },
];

export const CHECK_METRICS_HELP = formatHelp(
  "gleaner check metrics [<flags>] < exposition",
  "Check that the metrics exposition read from stdin parses. Exit 0 when it does, 1 with\n`line:column: reason` when it does not. Users debug exporters with it:\n\n  curl -s localhost:9100/metrics | gleaner check metrics",
  CHECK_METRICS_FLAGS,
);

function valueText(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export async function checkMetrics(argv: readonly string[], stdin: () => Promise<Uint8Array> = () => Bun.stdin.bytes()): Promise<number> {
  const parsed = parseFlags(argv, CHECK_METRICS_FLAGS);
  if (parsed.help) {
    process.stdout.write(CHECK_METRICS_HELP);
    return 0;
  }
  if (parsed.positionals.length > 0) throw new UsageError(`check metrics reads stdin and takes no arguments, got "${parsed.positionals[0]}"`);
  const format = FORMATS[flag(parsed, CHECK_METRICS_FLAGS, "format") as keyof typeof FORMATS];
  const body = await stdin();
  const parser = new ExpositionParser(await core());
  const r = parser.parse(body, format, { strict: flag(parsed, CHECK_METRICS_FLAGS, "strict") === "true" });
  if (!r.ok) {
    process.stderr.write(`${r.line}:${r.column}: ${r.reason}\n`);
    return 1;
  }
  if (flag(parsed, CHECK_METRICS_FLAGS, "dump") === "true") {
    let out = "";
    for (let i = 0; i < r.count; i++) {
      const l = r.labels(i);
      out += JSON.stringify({
        series: r.seriesText(i),
        labels: { __name__: l.name, ...Object.fromEntries(l.labels) },
        value: valueText(r.value[i]!),
        timestamp_ms: r.hasTimestamp(i) ? r.timestamp[i]! : null,
      }) + "\n";
      if (out.length > 1 << 16) {
        process.stdout.write(out);
        out = "";
      }
    }
    process.stdout.write(out);
  }
  return 0;
}
