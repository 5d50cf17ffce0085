/**
 * static_configs as a discovery mechanism: the job's groups, sent once (group i has source
 * "i"); they stay until the config changes.
 */
import type { StaticConfig } from "../../../core/config/types.ts";
import { definePlugin } from "../../../core/plugin.ts";
import type { TargetGroup } from "../../../core/discovery/types.ts";

/** The target groups of a job's static_configs: group i has source "i". */
export function staticGroups(configs: readonly StaticConfig[]): TargetGroup[] {
  return configs.map((g, i) => ({ source: String(i), targets: g.targets.map((t) => ({ __address__: t })), labels: g.labels }));
}

export default definePlugin<StaticConfig[]>({
  apiVersion: 1,
  kind: "discovery",
  name: "static",
  // static_configs is a key of its own in every scrape config, not `static_sd_configs`.
  configKey: null,
  parseConfig: (raw) => raw as StaticConfig[],
  create: (groups) => ({
    run(_signal, emit) {
      emit(staticGroups(groups));
    },
  }),
});
