/** The local TSDB as a storage plugin: gleaner's default backend. */
import { definePlugin } from "../../core/plugin.ts";
import { Tsdb } from "./index.ts";

export default definePlugin({
  apiVersion: 1,
  kind: "storage",
  name: "tsdb",
  open: (ctx) =>
    Tsdb.open({ dir: ctx.dir, retentionMs: ctx.retentionMs, retentionBytes: ctx.retentionBytes, fsyncIntervalMs: ctx.fsyncIntervalMs, maxExemplars: ctx.maxExemplars ?? 0, registry: ctx.registry, log: ctx.log }),
});
