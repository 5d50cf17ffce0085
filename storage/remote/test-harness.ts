/**
 * Test wiring for remote write: a real TSDB in a temp dir, a RemoteWriteStorage tailing its
 * WAL, and helpers to commit numbered samples and wait for the receiver to hold them.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../core/config/load.ts";
import { createLogger } from "../../core/log/logger.ts";
import { Registry } from "../../core/metrics/registry.ts";
import { Labels } from "../../core/model/labels.ts";
import type { Clock } from "../../core/scrape/clock.ts";
import { Tsdb } from "../tsdb/index.ts";
import { RemoteWriteStorage } from "./index.ts";
import type { FamilyMetadata } from "./write-request.ts";

export const T0 = 1_800_000_000_000;

export interface Harness {
  dir: string;
  db: Tsdb;
  remote: RemoteWriteStorage;
  registry: Registry;
  logs: string[];
  close(): Promise<void>;
}

/**
 * A config with one `remote_write` queue at `url`, fast retries by default; `extra` is YAML
 * indented under the entry, `queue` overrides queue_config keys, `global` goes under global.
 */
export function rwConfig(url: string, opts: { extra?: string; queue?: Record<string, string | number | boolean>; global?: string; remoteTimeout?: string } = {}) {
  const queue = { min_backoff: "10ms", max_backoff: "80ms", batch_send_deadline: "20ms", ...opts.queue };
  const q = Object.entries(queue).map(([k, v]) => `      ${k}: ${v}\n`).join("");
  return parseConfig(`global:\n${opts.global ?? "  external_labels: {}\n"}remote_write:\n  - url: ${url}\n    remote_timeout: ${opts.remoteTimeout ?? "2s"}\n${opts.extra ?? ""}    queue_config:\n${q}`, "rw.yml");
}

export async function openHarness(opts: { dir?: string; walSegmentSize?: number; flushDeadlineMs?: number; now?: () => number; clock?: Clock; reshardIntervalMs?: number; metadata?: () => Iterable<FamilyMetadata>; maxExemplars?: number } = {}): Promise<Harness> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "gleaner-rw-"));
  const logs: string[] = [];
  const log = createLogger({ level: "debug", format: "logfmt", write: (l) => logs.push(l) });
  const registry = new Registry();
  const db = await Tsdb.open({ dir, retentionMs: 0, retentionBytes: 0, registry, log, flushIntervalMs: 3_600_000, now: opts.now ?? (() => T0 + 3_600_000), ...(opts.walSegmentSize ? { walSegmentSize: opts.walSegmentSize } : {}), ...(opts.maxExemplars ? { maxExemplars: opts.maxExemplars } : {}) });
  const remote = new RemoteWriteStorage({ source: db, dir: join(dir, "remote"), registry, log, flushDeadlineMs: opts.flushDeadlineMs ?? 200, reshardIntervalMs: opts.reshardIntervalMs ?? 3_600_000, ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.metadata ? { metadata: opts.metadata } : {}) });
  return {
    dir,
    db,
    remote,
    registry,
    logs,
    close: async () => {
      await remote.close();
      await db.close();
    },
  };
}

/** Commits `scrapes` transactions of `series` samples each; sample k of series i is (T0 + k·15s, k), stale at `staleAt`. */
export async function commitScrapes(db: Tsdb, series: number, from: number, scrapes: number, staleAt = -1): Promise<void> {
  for (let k = from; k < from + scrapes; k++) {
    const a = db.appender();
    for (let i = 0; i < series; i++) {
      const labels = Labels.from({ __name__: "m", i: String(i) });
      if (k === staleAt) a.appendStale(0, labels, T0 + k * 15_000);
      else a.append(0, labels, T0 + k * 15_000, k);
    }
    await a.commit();
  }
}

/** Polls `cond` every 10 ms for up to `ms` (real time: it waits on sockets, not on a clock). */
export async function until(cond: () => boolean, ms = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}
