/**
 * An in-process gleaner server for the interop suites: the config written into `dir`, the
 * built-in plugins, the TSDB under `dir/data`, a free loopback port, and no log output.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../core/log/logger.ts";
import { Server, type ServerOptions } from "../../core/server.ts";
import { builtinPlugins } from "../../plugins/discovery/index.ts";

export async function startTestServer(dir: string, configYaml: string, extra: Partial<ServerOptions> = {}): Promise<Server> {
  const configFile = join(dir, "gleaner.yml");
  writeFileSync(configFile, configYaml);
  const server = new Server({
    configFile,
    storagePath: join(dir, "data"),
    retentionTime: 0,
    listenAddress: "127.0.0.1:0",
    enableLifecycle: false,
    log: createLogger({ level: "error", format: "logfmt", write: () => {} }),
    plugins: builtinPlugins(),
    ...extra,
  });
  await server.start();
  return server;
}
