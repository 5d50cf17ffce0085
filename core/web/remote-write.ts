/**
 * `POST /api/v1/write`: the remote write 1.0 receiver (off by default; on with
 * `--web.enable-remote-write-receiver`, as in Prometheus), so a Prometheus agent or another
 * gleaner can push into this one.
 *
 * As Prometheus 2.42's handler: a body that is not snappy-compressed protobuf is a 400 with
 * the reason; an out-of-order, duplicate or out-of-bounds sample fails the whole request with
 * a 400 (the sender must not retry it) and nothing of it is stored; success is a 204. Series
 * with invalid labels are skipped and logged. Stale markers keep their exact bits
 * (0x7ff0000000000002). Each series' exemplars are appended after its samples, in the same
 * transaction; an exemplar that is not stored (out of order, labels too long, storage
 * disabled, series unknown) never fails the request — it is logged at debug, and the count
 * of out-of-order ones at warn, as Prometheus 2.42 does. Native histograms are accepted and
 * not stored (gleaner does not keep them yet).
 */
import type { Hono } from "hono";
import * as snappy from "snappyjs";
import { decodeLabels, decodeWriteRequest, type DecodedExemplar } from "../../storage/remote/decode-write-request.ts";
import { APPEND_DUPLICATE, APPEND_OUT_OF_BOUNDS, APPEND_OUT_OF_ORDER, AppendError, type Appender, type SeriesRef, type Storage } from "../../storage/types.ts";
import type { Logger } from "../log/logger.ts";
import { isValidLabelName, isValidMetricName, Labels } from "../model/labels.ts";

export interface RemoteWriteReceiverOptions {
  /** Where received samples go (the same storage scrapes write to). */
  storage(): Storage | null;
  log: Logger;
  /** Largest accepted body after decompression (default 64 MiB). */
  maxDecodedBytes?: number;
  /**
   * The ref of an existing series by its labels (undefined: none), for a TimeSeries that
   * carries only exemplars and whose series this receiver has not seen yet. Without it such
   * exemplars are stored only for series seen before. Series are never created for exemplars.
   */
  seriesRef?: (labels: Labels) => SeriesRef | undefined;
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

/** Entries in the receiver's series cache before it starts over. */
const CACHE_LIMIT = 1_000_000;

/**
 * Decodes and stores requests. Keeps each series' ref by the raw bytes of its Label fields
 * (as the scrape cache keys on exposed bytes), so a series seen before costs a map lookup —
 * not a label decode, validation and index lookup. Prometheus sends every sample as its own
 * TimeSeries with the full label set, so this is most of the work.
 */
export class RemoteWriteReceiver {
  /** Label bytes (latin1) → series ref; -1: labels that are invalid. */
  readonly #cache = new Map<string, number>();
  #storage: Storage | null = null;

  constructor(
    readonly log: Logger,
    readonly maxDecodedBytes = 64 << 20,
    readonly seriesRef?: (labels: Labels) => SeriesRef | undefined,
  ) {}

  /** Stores one request (snappy-compressed WriteRequest); the Response Prometheus would give. */
  async receive(body: Uint8Array, storage: Storage): Promise<Response> {
    const log = this.log;
    if (storage !== this.#storage) {
      this.#cache.clear();
      this.#storage = storage;
    }
    let raw: Uint8Array;
    let req;
    try {
      try {
        raw = snappy.uncompress(body, this.maxDecodedBytes);
      } catch (err) {
        throw new SyntaxError(`snappy: ${(err as Error).message === "Invalid Snappy bitstream" ? "corrupt input" : (err as Error).message}`);
      }
      req = decodeWriteRequest(raw, { lazyLabels: true });
    } catch (err) {
      return badRequest(log, (err as Error).message);
    }
    const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const cache = this.#cache;
    const app = storage.appender();
    let invalid = 0;
    const exemplarErrs = { outOfOrder: 0 };
    try {
      // Within one request a series may come in several entries: keep its samples in order.
      const last = new Map<number, number>();
      for (const s of req.series) {
        const key = s.labelStart >= 0 ? bytes.toString("latin1", s.labelStart, s.labelEnd) : null;
        let ref = key === null ? 0 : (cache.get(key) ?? 0);
        if (ref === -1) {
          invalid++;
          continue;
        }
        let labels: Labels | null = null;
        const decoded = () => {
          if (labels === null) {
            const flat = s.labels ?? decodeLabels(raw, s.labelStart, s.labelEnd);
            const why = invalidLabels(flat);
            if (why !== null) return why;
            labels = Labels.fromSorted(flat);
          }
          return labels;
        };
        if (ref === 0) {
          let got: Labels | string;
          try {
            got = decoded();
          } catch (err) {
            await app.rollback();
            return badRequest(log, (err as Error).message);
          }
          if (typeof got === "string") {
            invalid++;
            if (key !== null) remember(cache, key, -1);
            log.warn("Invalid metric names or labels in remote write; series skipped", { reason: got });
            continue;
          }
        }
        let prev = ref > 0 ? (last.get(ref) ?? -Infinity) : -Infinity;
        for (let i = s.start; i < s.end; i++) {
          const t = req.ts[i]!;
          if (t === prev) continue; // the same timestamp twice in one request: the first one stands
          let got: number;
          if (t < prev) got = APPEND_OUT_OF_ORDER;
          else {
            try {
              got = req.stale[i] === 1 ? app.appendStale(ref, labels, t) : app.append(ref, labels, t, req.values[i]!);
            } catch (err) {
              if (!(err instanceof AppendError) || labels !== null) throw err;
              // A cached ref the storage no longer knows (the series was deleted): by labels again.
              const l = decoded();
              if (typeof l === "string") throw new AppendError(l);
              ref = 0;
              i--;
              continue;
            }
            if (got > 0 && ref === 0) {
              // First sample of a series not in the cache: the same series may have come under other bytes.
              const before = last.get(got);
              if (before !== undefined && t <= before) got = APPEND_OUT_OF_ORDER;
              else if (key !== null) remember(cache, key, got);
            }
          }
          if (got < 0) {
            const l = decoded();
            const series = typeof l === "string" ? "(invalid labels)" : l.toString();
            const reason = REJECTIONS[got] ?? `rejected (${got})`;
            log.error("Out of order sample from remote write", { reason, series, timestamp: t });
            await app.rollback();
            return text(`${reason}: series ${series} at timestamp ${t}`, 400);
          }
          ref = got;
          prev = t;
        }
        if (ref > 0) last.set(ref, prev);
        if (s.exEnd > s.exStart) {
          ref = appendSeriesExemplars(app, log, req.exemplars, s.exStart, s.exEnd, ref, decoded, this.seriesRef, exemplarErrs);
          // A series found for its exemplars alone is known by its bytes from now on.
          if (ref > 0 && key !== null && !cache.has(key)) remember(cache, key, ref);
        }
      }
      await app.commit();
    } catch (err) {
      await app.rollback().catch(() => undefined);
      if (err instanceof AppendError) return text(err.message, 400);
      log.error("Error appending remote write", { err: (err as Error).message });
      return text((err as Error).message, 500);
    }
    if (invalid > 0) log.debug("Remote write request had invalid series", { count: invalid });
    if (exemplarErrs.outOfOrder > 0) log.warn("Error on ingesting out-of-order exemplars", { num_dropped: exemplarErrs.outOfOrder });
    return new Response(null, { status: 204 });
  }
}

/**
 * Appends one series' exemplars (`list[from..to)`) to `app`; `ref` is the series' ref from its
 * samples, or 0 (exemplars only) to look it up. Returns the ref used (0: series unknown).
 */
function appendSeriesExemplars(
  app: Appender,
  log: Logger,
  list: readonly DecodedExemplar[],
  from: number,
  to: number,
  ref: SeriesRef,
  labels: () => Labels | string,
  lookup: ((labels: Labels) => SeriesRef | undefined) | undefined,
  errs: { outOfOrder: number },
): SeriesRef {
  const series = () => {
    const l = labels();
    return typeof l === "string" ? "(invalid labels)" : l.toString();
  };
  const byLabels = (): SeriesRef => {
    const l = labels();
    return typeof l === "string" || lookup === undefined ? 0 : (lookup(l) ?? 0);
  };
  if (ref <= 0) ref = byLabels();
  for (let k = from; k < to; k++) {
    const e = list[k]!;
    const ex = { labels: Labels.fromSorted(e.labels), value: e.value, timestamp: e.timestamp };
    let why: string | null;
    if (ref <= 0) why = "unknown series";
    else {
      try {
        why = app.appendExemplar(ref, ex);
      } catch (err) {
        if (!(err instanceof AppendError)) throw err;
        // A cached ref the storage no longer knows: by labels again, once.
        const again = byLabels();
        why = again > 0 && again !== ref ? app.appendExemplar((ref = again), ex) : (err as Error).message;
        if (again <= 0) ref = 0;
      }
    }
    if (why === null) continue;
    if (why === "out_of_order") {
      errs.outOfOrder++;
      log.debug("Out of order exemplar", { series: series(), exemplar: `${ex.labels.toString()} ${ex.value} ${ex.timestamp}` });
    } else {
      log.debug("Error while adding exemplar in AddExemplar", { series: series(), exemplar: `${ex.labels.toString()} ${ex.value} ${ex.timestamp}`, err: why });
    }
  }
  return ref;
}

function remember(cache: Map<string, number>, key: string, ref: number): void {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, ref);
}

function badRequest(log: Logger, reason: string): Response {
  const msg = `cannot decode the remote write request (snappy-compressed protobuf WriteRequest expected): ${reason}`;
  log.error("Error decoding remote write request", { err: msg });
  return text(msg, 400);
}

/** Adds `POST /api/v1/write` to `app`. */
export function registerRemoteWriteRoute(app: Hono, opts: RemoteWriteReceiverOptions): void {
  const receiver = new RemoteWriteReceiver(opts.log, opts.maxDecodedBytes, opts.seriesRef);
  app.post("/api/v1/write", async (c) => {
    const storage = opts.storage();
    if (storage === null) return text("storage is not ready", 503);
    return receiver.receive(new Uint8Array(await c.req.arrayBuffer()), storage);
  });
}
