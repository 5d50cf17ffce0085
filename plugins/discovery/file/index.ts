/**
 * file_sd_configs (spec §1.6): target groups from JSON or YAML files, re-read on any change
 * to their directories (fs.watch) and every refresh_interval. A file that cannot be read
 * or parsed keeps its previous groups; a file that disappears or shrinks deletes its groups.
 */
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { duration, str } from "../../../core/config/schema/fields.ts";
import { joinDir } from "../../../core/config/http-client.ts";
import { definePlugin } from "../../../core/plugin.ts";
import type { TargetGroup } from "../../../core/discovery/types.ts";

export interface FileSDConfig {
  files: string[];
  refresh_interval: number;
}

const configSchema = z.strictObject({
  files: z.array(str).nullish(),
  refresh_interval: duration.nullish(),
});

const EXTENSION = /\.(json|ya?ml)$/i;
const GLOB = /^[^*]*(\*[^/]*)?$/;

/** One file's content: a list of `{targets, labels}` groups (strict: unknown keys are errors). */
const groupSchema = z.strictObject({
  targets: z.array(z.string()).nullish(),
  labels: z.record(z.string(), z.string().nullable()).nullish(),
});

export function parseFileGroups(path: string, text: string): TargetGroup[] {
  let data: unknown;
  try {
    data = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text, { strict: true, uniqueKeys: true });
  } catch (err) {
    throw new SyntaxError(`${path}: ${(err as Error).message.split("\n")[0]}`);
  }
  if (data === null || data === undefined) return [];
  if (!Array.isArray(data)) throw new TypeError(`${path}: expected a list of target groups, got ${typeof data}`);
  return data.map((g, i) => {
    if (g === null) throw new TypeError(`${path}: group ${i} is null`);
    const r = groupSchema.safeParse(g);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new TypeError(`${path}: group ${i}${issue.path.length ? `.${issue.path.join(".")}` : ""}: ${issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.join(", ")}` : issue.message}`);
    }
    const labels: Record<string, string> = { __meta_filepath: path };
    for (const [k, v] of Object.entries(r.data.labels ?? {})) labels[k] = v ?? "";
    return { source: `${path}:${i}`, targets: (r.data.targets ?? []).map((t) => ({ __address__: t })), labels };
  });
}

/** The files matching the patterns now (a `*` only in the last element). */
async function expand(patterns: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of patterns) {
    if (!p.includes("*")) {
      out.push(p);
      continue;
    }
    const glob = new Bun.Glob(basename(p));
    try {
      for await (const name of new Bun.Glob("*").scan({ cwd: dirname(p), onlyFiles: true })) if (glob.match(name)) out.push(join(dirname(p), name));
    } catch {
      // a missing directory matches nothing
    }
  }
  return [...new Set(out)].sort();
}

export default definePlugin<FileSDConfig>({
  apiVersion: 1,
  kind: "discovery",
  name: "file",
  parseConfig(raw, ctx) {
    const c = ctx.validate(configSchema, raw);
    const files = c.files ?? [];
    if (files.length === 0) throw ctx.error([], "file service discovery config must contain at least one path name");
    files.forEach((f, i) => {
      if (!EXTENSION.test(f)) throw ctx.error(["files", i], `path name "${f}" is not valid for file discovery: it must end in .json, .yml or .yaml`);
      if (!GLOB.test(f)) throw ctx.error(["files", i], `path name "${f}" is not valid for file discovery: a * is allowed only in the last path element`);
    });
    return { files: files.map((f) => joinDir(ctx.dir, f) ?? f), refresh_interval: c.refresh_interval ?? 300_000 };
  },
  create(config, ctx) {
    return {
      async run(signal, emit) {
        /** Groups per file, as last read successfully. */
        const known = new Map<string, TargetGroup[]>();
        const readAll = async () => {
          const files = await expand(config.files);
          const out: TargetGroup[] = [];
          for (const file of files) {
            try {
              const groups = parseFileGroups(file, await readFile(file, "utf8"));
              const before = known.get(file)?.length ?? 0;
              known.set(file, groups);
              out.push(...groups);
              for (let i = groups.length; i < before; i++) out.push({ source: `${file}:${i}`, targets: [], labels: {} });
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
              ctx.log.error("Error reading file for service discovery; keeping its previous targets", { file, err: (err as Error).message });
            }
          }
          // Files that are gone: delete their groups.
          for (const [file, groups] of known) {
            if (files.includes(file) && (await Bun.file(file).exists())) continue;
            known.delete(file);
            groups.forEach((_, i) => out.push({ source: `${file}:${i}`, targets: [], labels: {} }));
          }
          if (!signal.aborted) emit(out);
        };
        // Watch the directories: editors replace files, and new files appear.
        const watchers: FSWatcher[] = [];
        let pending = false;
        const onChange = () => {
          if (pending) return;
          pending = true;
          setTimeout(() => {
            pending = false;
            void readAll();
          }, 50);
        };
        for (const dir of new Set(config.files.map((f) => dirname(f)))) {
          try {
            // Any event re-reads the set (Node cannot tell a chmod from a write).
            watchers.push(watch(dir, onChange));
          } catch (err) {
            ctx.log.warn("Cannot watch directory for file service discovery; relying on refresh_interval", { dir, err: (err as Error).message });
          }
        }
        try {
          while (!signal.aborted) {
            await readAll();
            await ctx.clock.sleep(config.refresh_interval, signal);
          }
        } finally {
          for (const w of watchers) w.close();
        }
      },
    };
  },
});
