#!/usr/bin/env bun
/** The gleaner command line: `gleaner run | check config | bench | version | help`. */
import { VERSION } from "../core/version.ts";
import { benchCommand } from "./bench.ts";
import { checkCommand } from "./check.ts";
import { UsageError } from "./flags.ts";
import { runCommand } from "./run.ts";

const HELP = `usage: gleaner <command> [<flags>] [<args>...]

A Prometheus-compatible metrics collector and time-series store.

Commands:
  run             Scrape targets, store samples, serve the HTTP API (see gleaner run --help)
  check config    Check configuration files (see gleaner check --help)
  check metrics   Check a metrics exposition read from stdin
  bench           Benchmark a high-cardinality scrape, side by side with Prometheus (see gleaner bench --help)
  version         Show version information
  help            Show this help

\`gleaner --config.file=prometheus.yml ...\` (flags only) is the same as \`gleaner run ...\`.
`;

export function versionText(): string {
  return `gleaner, version ${VERSION}\n  bun version:  ${Bun.version} (${Bun.revision.slice(0, 8)})\n  platform:     ${process.platform}/${process.arch}\n`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case "help":
      case "-h":
      case "--help":
        process.stdout.write(HELP);
        return command === undefined ? 2 : 0;
      case "version":
      case "--version":
        process.stdout.write(versionText());
        return 0;
      case "run":
        return await runCommand(rest);
      case "check":
        return await checkCommand(rest);
      case "bench":
        return await benchCommand(rest);
      default:
        // Prometheus is started with flags only; accept that form too.
        if (command.startsWith("--")) return await runCommand(argv);
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`gleaner: error: ${err.message}, try --help\n`);
      return 2;
    }
    throw err;
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
