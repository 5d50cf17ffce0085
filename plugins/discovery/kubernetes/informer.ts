/**
 * List-then-watch of one Kubernetes collection, as client-go's reflector does it: list
 * (paged) to get the objects and a resourceVersion, then watch from that version with
 * bookmarks; when the watch ends, watch again from the last version seen; on 410 Gone (an
 * HTTP 410 or an ERROR event with code 410) list again. Other failures are logged and
 * retried with a backoff on the host clock, keeping the objects already known.
 */
import type { Clock } from "../../../core/scrape/clock.ts";
import type { HttpClient } from "../../../core/scrape/http/http-client.ts";
import type { DiscoveryContext } from "../../../core/plugin.ts";
import type { Obj } from "./targets.ts";

export interface Selector {
  label?: string | undefined;
  field?: string | undefined;
}

export interface InformerOptions {
  http: HttpClient;
  /** Base URL of the API server, without a trailing slash. */
  server: string;
  /** Collection path, e.g. `/api/v1/namespaces/default/pods`. */
  path: string;
  selector: Selector;
  clock: Clock;
  log: DiscoveryContext["log"];
  /** Called after the store changed (list or watch event). */
  onChange: () => void;
  /** Extra request headers (e.g. a token from a kubeconfig). */
  headers?: Record<string, string>;
  /** Seconds the server holds a watch; default 5–10 minutes, as client-go picks. */
  watchTimeoutSeconds?: () => number;
}

const LIST_PAGE = 500;
const MIN_BACKOFF = 1_000;
const MAX_BACKOFF = 30_000;

class Gone extends Error {}

export class Informer {
  /** `<namespace>/<name>` (or `<name>` for cluster objects) → object. */
  readonly store = new Map<string, Obj>();
  synced = false;
  readonly #o: InformerOptions;

  constructor(o: InformerOptions) {
    this.#o = o;
  }

  static key(obj: Obj): string {
    const ns = obj?.metadata?.namespace;
    return ns ? `${ns}/${obj?.metadata?.name}` : String(obj?.metadata?.name);
  }

  async run(signal: AbortSignal): Promise<void> {
    let backoff = MIN_BACKOFF;
    /** The last 410 came before any watch succeeded: wait before listing again, so a server answering 410 at once cannot make us spin. */
    let goneAtOnce = false;
    while (!signal.aborted) {
      let watched = false;
      try {
        if (goneAtOnce) await this.#o.clock.sleep(MIN_BACKOFF, signal);
        let rv = await this.#list(signal);
        backoff = MIN_BACKOFF;
        for (;;) {
          rv = await this.#watch(rv, signal);
          watched = true;
        }
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof Gone) {
          goneAtOnce = !watched;
          this.#o.log.info("Kubernetes watch expired (410 Gone); listing again", { path: this.#o.path });
          continue;
        }
        goneAtOnce = false;
        this.#o.log.error("Kubernetes list/watch failed; keeping the last known objects and retrying", { path: this.#o.path, err: (err as Error).message });
        await this.#o.clock.sleep(backoff, signal).catch(() => {});
        backoff = Math.min(backoff * 2, MAX_BACKOFF);
      }
    }
  }

  #url(params: Record<string, string>): string {
    const q = new URLSearchParams();
    if (this.#o.selector.label) q.set("labelSelector", this.#o.selector.label);
    if (this.#o.selector.field) q.set("fieldSelector", this.#o.selector.field);
    for (const [k, v] of Object.entries(params)) q.set(k, v);
    return `${this.#o.server}${this.#o.path}?${q}`;
  }

  async #get(url: string, signal: AbortSignal): Promise<Response> {
    const res = await this.#o.http.request(url, { signal, timeoutMs: 30_000, headers: { Accept: "application/json", ...this.#o.headers } });
    if (res.status === 410) {
      await res.body?.cancel();
      throw new Gone();
    }
    if (res.status !== 200) {
      const text = (await res.text().catch(() => "")).slice(0, 300);
      throw new Error(`GET ${this.#o.path}: HTTP ${res.status}${text ? `: ${text}` : ""}`);
    }
    return res;
  }

  /** Lists every page, replaces the store, returns the list's resourceVersion. */
  async #list(signal: AbortSignal): Promise<string> {
    const items: Obj[] = [];
    let cont = "";
    let rv = "";
    do {
      const res = await this.#get(this.#url({ limit: String(LIST_PAGE), ...(cont ? { continue: cont } : {}) }), signal);
      let body: Obj;
      try {
        body = await res.json();
      } catch (err) {
        throw new Error(`GET ${this.#o.path}: malformed list response: ${(err as Error).message}`);
      }
      if (body === null || typeof body !== "object" || !Array.isArray(body.items ?? [])) throw new Error(`GET ${this.#o.path}: malformed list response: no items`);
      items.push(...(body.items ?? []));
      cont = String(body.metadata?.continue ?? "");
      rv = String(body.metadata?.resourceVersion ?? "");
    } while (cont !== "");
    this.store.clear();
    for (const item of items) this.store.set(Informer.key(item), item);
    this.synced = true;
    this.#o.onChange();
    return rv;
  }

  /**
   * Watches from `rv` until the stream ends; returns the last resourceVersion seen. A watch
   * the server holds past its timeoutSeconds (plus a minute) is dropped and resumed, and a
   * stream that ends without a single line is followed by a short pause, so a server that
   * closes watches at once cannot make us spin.
   */
  async #watch(rv: string, signal: AbortSignal): Promise<string> {
    const timeout = this.#o.watchTimeoutSeconds?.() ?? Math.floor(300 * (1 + Math.random()));
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    const watchdog = this.#o.clock.sleep((timeout + 60) * 1_000, stop.signal).then(
      () => stop.abort(new Error("watch held past its timeout")),
      () => {},
    );
    let lines = 0;
    try {
      const res = await this.#get(this.#url({ allowWatchBookmarks: "true", resourceVersion: rv, timeoutSeconds: String(timeout), watch: "true" }), stop.signal);
      if (res.body === null) return rv;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let nl: number;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line === "") continue;
            lines++;
            rv = this.#event(line, rv);
          }
        }
        if (buf.trim() !== "") {
          lines++;
          rv = this.#event(buf.trim(), rv);
        }
      } finally {
        reader.cancel().catch(() => {});
      }
    } catch (err) {
      // Our own watchdog (the request or the stream): resume from the last version seen.
      if (stop.signal.aborted && !signal.aborted) return rv;
      throw err;
    } finally {
      signal.removeEventListener("abort", onAbort);
      stop.abort();
      await watchdog;
    }
    if (lines === 0) await this.#o.clock.sleep(MIN_BACKOFF, signal);
    return rv;
  }

  /** Applies one watch event line; returns the resourceVersion to resume from. */
  #event(line: string, rv: string): string {
    let ev: Obj;
    try {
      ev = JSON.parse(line);
    } catch (err) {
      // As client-go: a watch that cannot be decoded ends; watch again from the last good version.
      throw new Error(`watch ${this.#o.path}: malformed event (${(err as Error).message}): ${line.slice(0, 120)}`);
    }
    const obj = ev?.object;
    const next = String(obj?.metadata?.resourceVersion ?? rv);
    switch (ev?.type) {
      case "ADDED":
      case "MODIFIED":
        this.store.set(Informer.key(obj), obj);
        this.#o.onChange();
        return next;
      case "DELETED":
        this.store.delete(Informer.key(obj));
        this.#o.onChange();
        return next;
      case "BOOKMARK":
        return next;
      case "ERROR":
        if (obj?.code === 410) throw new Gone();
        throw new Error(`watch ${this.#o.path}: error event: ${obj?.code ?? ""} ${obj?.message ?? JSON.stringify(obj)}`);
      default:
        throw new Error(`watch ${this.#o.path}: unknown event type ${JSON.stringify(ev?.type)}`);
    }
  }
}
