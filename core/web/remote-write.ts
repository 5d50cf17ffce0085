/**
 * `POST /api/v1/write`: the remote write 1.0 receiver (off by default; on with
 * `--web.enable-remote-write-receiver`, as in Prometheus), so a Prometheus agent or another
 * gleaner can push into this one.
 *
 * As Prometheus 2.42's handler: a body that is not snappy-compressed protobuf is a 400 with
 * the reason; an out-of-order, duplicate or out-of-bounds sample fails the whole request with
 * a 400 (the sender must not retry it) and nothing of it is stored; success is a 204. Series
 * with invalid labels are skipped and logged. Stale markers keep their exact bits
 * (0x7ff0000000000002). Exemplars and native histograms are accepted and not stored (gleaner
 * keeps neither yet).
 */
import type { Hono } from "hono";
import * as snappy from "snappyjs";
import { decodeWriteRequest } from "../../storage/remote/decode-write-request.ts";
import { APPEND_DUPLICATE, APPEND_OUT_OF_BOUNDS, APPEND_OUT_OF_ORDER, AppendError, type Storage } from "../../storage/types.ts";
import type { Logger } from "../log/logger.ts";
import { isValidLabelName, isValidMetricName, Labels } from "../model/labels.ts";

export interface RemoteWriteReceiverOptions {
  /** Where received samples go (the same storage scrapes write to). */
  storage(): Storage | null;
  log: Logger;
  /** Largest accepted body after decompression (default 64 MiB). */
  maxDecodedBytes?: number;
}

const REJECTIONS: Record<number, string> = {
  [APPEND_OUT_OF_ORDER]: "out of order sample",
  [APPEND_DUPLICATE]: "duplicate sample for timestamp",
  [APPEND_OUT_OF_BOUNDS]: "out of bounds",
};

function text(body: string, status: number): Response {
  return new Response(body.endsWith("\n") ? body : `${body}\n`, { status, headers: { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" } });
}

/** Why a series' labels are invalid (Prometheus's labels.IsValid), or null. */
function invalidLabels(flat: readonly string[]): string | null {
  let name = "";
  const seen = new Set<string>();
  for (let i = 0; i < flat.length; i += 2) {
    const n = flat[i]!;
    if (n === "__name__") name = flat[i + 1]!;
    if (!isValidLabelName(n, "legacy")) return `invalid label name ${JSON.stringify(n)}`;
    if (seen.has(n)) return `duplicate label name ${JSON.stringify(n)}`;
    seen.add(n);
  }
  if (name === "") return "no metric name (__name__)";
  if (!isValidMetricName(name, "legacy")) return `invalid metric name ${JSON.stringify(name)}`;
  return null;
}

/** Decodes and stores one request; the Response Prometheus would give. */
export async function receiveRemoteWrite(body: Uint8Array, storage: Storage, log: Logger, maxDecodedBytes = 64 << 20): Promise<Response> {
  let req;
  try {
    let raw: Uint8Array;
    try {
      raw = snappy.uncompress(body, maxDecodedBytes);
    } catch (err) {
      throw new SyntaxError(`snappy: ${(err as Error).message === "Invalid Snappy bitstream" ? "corrupt input" : (err as Error).message}`);
    }
    req = decodeWriteRequest(raw);
  } catch (err) {
    const msg = `cannot decode the remote write request (snappy-compressed protobuf WriteRequest expected): ${(err as Error).message}`;
    log.error("Error decoding remote write request", { err: msg });
    return text(msg, 400);
  }
  const app = storage.appender();
  let invalid = 0;
  try {
    // Within one request a series may come in several entries: keep its samples in order.
    const last = new Map<string, number>();
    for (const s of req.series) {
      const why = invalidLabels(s.labels);
      if (why !== null) {
        invalid++;
        log.warn("Invalid metric names or labels in remote write; series skipped", { reason: why });
        continue;
      }
      const labels = Labels.fromSorted(s.labels);
      let prev = last.get(labels.key) ?? -Infinity;
      let ref = 0;
      for (let i = s.start; i < s.end; i++) {
        const t = req.ts[i]!;
        if (t === prev) continue; // the same timestamp twice in one request: the first one stands
        const got = t < prev ? APPEND_OUT_OF_ORDER : req.stale[i] === 1 ? app.appendStale(ref, ref > 0 ? null : labels, t) : app.append(ref, ref > 0 ? null : labels, t, req.values[i]!);
        if (got < 0) {
          const reason = REJECTIONS[got] ?? `rejected (${got})`;
          log.error("Out of order sample from remote write", { reason, series: labels.toString(), timestamp: t });
          await app.rollback();
          return text(`${reason}: series ${labels.toString()} at timestamp ${t}`, 400);
        }
        ref = got;
        prev = t;
      }
      last.set(labels.key, prev);
    }
    await app.commit();
  } catch (err) {
    await app.rollback().catch(() => undefined);
    if (err instanceof AppendError) return text(err.message, 400);
    log.error("Error appending remote write", { err: (err as Error).message });
    return text((err as Error).message, 500);
  }
  if (invalid > 0) log.debug("Remote write request had invalid series", { count: invalid });
  return new Response(null, { status: 204 });
}

/** Adds `POST /api/v1/write` to `app`. */
export function registerRemoteWriteRoute(app: Hono, opts: RemoteWriteReceiverOptions): void {
  app.post("/api/v1/write", async (c) => {
    const storage = opts.storage();
    if (storage === null) return text("storage is not ready", 503);
    const body = new Uint8Array(await c.req.arrayBuffer());
    return receiveRemoteWrite(body, storage, opts.log, opts.maxDecodedBytes);
  });
}
