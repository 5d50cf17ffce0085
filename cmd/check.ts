/** `gleaner check config FILE...`: validates config files like `promtool check config`. */
import { loadConfigFile } from "../core/config/load.ts";
import { loadPlugin, pluginPathsOf } from "../core/plugin-loader.ts";
import { builtinPlugins } from "../plugins/discovery/index.ts";
import { formatHelp, parseFlags, UsageError, type FlagSpec } from "./flags.ts";
import { expandGlob } from "../core/config/load.ts";
import { checkMetrics } from "./check-metrics.ts";

export const CHECK_HELP = formatHelp(
  "gleaner check <command> [<args>...]",
  "Commands:\n  config FILE...   Check that configuration files are valid (exit 0 valid, 1 invalid).\n  metrics          Check that a metrics exposition read from stdin parses.",
  [],
);

const CHECK_CONFIG_FLAGS: FlagSpec[] = [{ name: "plugin", placeholder: "PATH", repeatable: true, help: "Load an external discovery plugin module first (repeatable)." }];

export const CHECK_CONFIG_HELP = formatHelp(
  "gleaner check config <config-files>...",
  "Check that each configuration file is valid, as `promtool check config` does: exit 0 when\nall are valid, 1 when any is not. Errors name the file, line, column and YAML path.",
  CHECK_CONFIG_FLAGS,
);

export async function checkCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "-h" || sub === "--help") {
    process.stdout.write(CHECK_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub === "config") return await checkConfig(rest);
  if (sub === "metrics") return checkMetrics(rest);
  throw new UsageError(`unknown check command "${sub}" (see gleaner check --help)`);
}

async function checkConfig(argv: readonly string[]): Promise<number> {
  const parsed = parseFlags(argv, CHECK_CONFIG_FLAGS);
  if (parsed.help) {
    process.stdout.write(CHECK_CONFIG_HELP);
    return 0;
  }
  if (parsed.positionals.length === 0) throw new UsageError("check config needs at least one config file");
  const plugins = builtinPlugins();
  let failed = false;
  for (const file of parsed.positionals) {
    process.stdout.write(`Checking ${file}\n`);
    const warnings: string[] = [];
    try {
      for (const path of [...(parsed.values.get("plugin") ?? []), ...pluginPathsOf(file)]) await loadPlugin(path, plugins);
      const config = loadConfigFile(file, { plugins, warn: (w) => warnings.push(w) });
      const ruleFiles = config.rule_files.flatMap((p) => expandGlob(p));
      process.stdout.write(` SUCCESS: ${file} is valid prometheus config file syntax\n`);
      if (config.rule_files.length > 0) process.stdout.write(`  ${ruleFiles.length} rule files found\n`);
      for (const w of warnings) process.stdout.write(`  WARNING: ${w}\n`);
    } catch (err) {
      failed = true;
      process.stdout.write(`  FAILED: ${(err as Error).message}\n`);
    }
    process.stdout.write("\n");
  }
  return failed ? 1 : 0;
}
