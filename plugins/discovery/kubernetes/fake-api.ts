/**
 * A loopback fake of the Kubernetes API for tests: collection lists with resourceVersions
 * and `limit`/`continue` paging, label and field selectors (equality forms), and watches
 * that replay events after a resourceVersion and then stream new ones as JSON lines.
 * Tests can send bookmarks and raw lines, break every watch mid-stream, compact the event
 * history (a watch from an older version gets an ERROR 410 event), answer watches with an
 * HTTP 410, or fail everything with 500. Every request is recorded.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

export interface RecordedRequest {
  path: string;
  query: Record<string, string>;
  authorization: string | null;
}

interface Watch {
  resource: string;
  ns: string;
  query: URLSearchParams;
  send(line: string): void;
  close(): void;
}

interface Event {
  rv: number;
  resource: string;
  type: string;
  object: Obj;
}

const ROUTE = /^\/(?:api\/v1|apis\/[^/]+\/v1)(?:\/namespaces\/([^/]+))?\/([a-z]+)$/;

function get(obj: Obj, path: string): unknown {
  return path.split(".").reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), obj);
}

function matches(obj: Obj, ns: string, q: URLSearchParams): boolean {
  if (ns !== "" && obj.metadata?.namespace !== ns) return false;
  for (const req of (q.get("labelSelector") ?? "").split(",").filter((r) => r !== "")) {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(req);
    const labels = obj.metadata?.labels ?? {};
    if (m === null) {
      if (!(req in labels)) return false;
    } else if ((m[2] === "!=") === (labels[m[1]!] === m[3])) return false;
  }
  for (const req of (q.get("fieldSelector") ?? "").split(",").filter((r) => r !== "")) {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(req)!;
    if ((m[2] === "!=") === (String(get(obj, m[1]!) ?? "") === m[3])) return false;
  }
  return true;
}

export class FakeKube {
  readonly server: ReturnType<typeof Bun.serve>;
  readonly requests: RecordedRequest[] = [];
  rv = 1000;
  /** resource (e.g. "pods") → `<ns>/<name>` → object. */
  readonly objects = new Map<string, Map<string, Obj>>();
  readonly events: Event[] = [];
  /** Watches from a resourceVersion below this get an ERROR 410 event. */
  compactedBelow = 0;
  /** Every request fails with 500. */
  broken = false;
  /** The next watch requests get an HTTP 410 (count). */
  watchHttp410 = 0;
  /** Bodies to answer the next list requests with, verbatim (e.g. malformed JSON). */
  readonly rawLists: string[] = [];
  /** Page size when the client sends no smaller limit. */
  pageSize = 500;
  readonly #watches = new Set<Watch>();

  constructor(tls?: { cert: string; key: string }) {
    this.server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      ...(tls ? { tls } : {}),
      fetch: (req) => this.#handle(req),
    });
  }

  get url(): string {
    return `${this.server.protocol}://127.0.0.1:${this.server.port}`;
  }

  /** Creates or replaces an object; watchers get ADDED or MODIFIED. */
  apply(resource: string, obj: Obj): void {
    const store = this.objects.get(resource) ?? new Map<string, Obj>();
    this.objects.set(resource, store);
    const key = `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
    const type = store.has(key) ? "MODIFIED" : "ADDED";
    const object = structuredClone(obj);
    object.metadata.resourceVersion = String(++this.rv);
    store.set(key, object);
    this.#event({ rv: this.rv, resource, type, object });
  }

  remove(resource: string, ns: string, name: string): void {
    const store = this.objects.get(resource);
    const obj = store?.get(`${ns}/${name}`);
    if (obj === undefined) return;
    store!.delete(`${ns}/${name}`);
    const object = structuredClone(obj);
    object.metadata.resourceVersion = String(++this.rv);
    this.#event({ rv: this.rv, resource, type: "DELETED", object });
  }

  list(resource: string): Obj[] {
    return [...(this.objects.get(resource)?.values() ?? [])];
  }

  /** A BOOKMARK at the current resourceVersion to every open watch. */
  bookmark(): void {
    for (const w of this.#watches) w.send(JSON.stringify({ type: "BOOKMARK", object: { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: String(this.rv) } } }));
  }

  /** Sends a raw line (e.g. malformed JSON) to every open watch. */
  sendRaw(line: string): void {
    for (const w of this.#watches) w.send(line);
  }

  /** Ends every open watch stream, as a dropped connection or server timeout would. */
  breakWatches(): void {
    for (const w of [...this.#watches]) w.close();
  }

  /** Forgets the event history: watches resuming from an older version get 410 Gone. */
  compact(): void {
    this.compactedBelow = this.rv;
  }

  get openWatches(): number {
    return this.#watches.size;
  }

  /** Requests for one path, in order, optionally only watches or only lists. */
  requestsFor(path: string, kind?: "list" | "watch"): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path && (kind === undefined || (r.query.watch === "true") === (kind === "watch")));
  }

  stop(): void {
    this.breakWatches();
    this.server.stop(true);
  }

  #event(e: Event): void {
    this.events.push(e);
    for (const w of this.#watches) {
      if (w.resource === e.resource && matches(e.object, w.ns, w.query)) w.send(JSON.stringify({ type: e.type, object: e.object }));
    }
  }

  #handle(req: Request): Response {
    const u = new URL(req.url);
    this.requests.push({ path: u.pathname, query: Object.fromEntries(u.searchParams), authorization: req.headers.get("authorization") });
    if (this.broken) return new Response("etcdserver: leader changed", { status: 500 });
    const m = ROUTE.exec(u.pathname);
    if (m === null) return Response.json({ kind: "Status", code: 404, message: "not found" }, { status: 404 });
    const ns = m[1] ?? "";
    const resource = m[2]!;
    const q = u.searchParams;
    if (q.get("watch") === "true") {
      if (this.watchHttp410 > 0) {
        this.watchHttp410--;
        return Response.json({ kind: "Status", status: "Failure", reason: "Expired", code: 410 }, { status: 410 });
      }
      return this.#watch(resource, ns, q);
    }
    const raw = this.rawLists.shift();
    if (raw !== undefined) return new Response(raw, { headers: { "Content-Type": "application/json" } });
    const items = this.list(resource)
      .filter((o) => matches(o, ns, q))
      .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
    const limit = Math.min(Number(q.get("limit") ?? Infinity), this.pageSize);
    const start = Number(q.get("continue") ?? 0);
    const page = items.slice(start, start + limit);
    const metadata: Obj = { resourceVersion: String(this.rv) };
    if (start + limit < items.length) metadata.continue = String(start + limit);
    return Response.json({ kind: "List", apiVersion: "v1", metadata, items: page });
  }

  #watch(resource: string, ns: string, q: URLSearchParams): Response {
    const since = Number(q.get("resourceVersion") ?? 0);
    const enc = new TextEncoder();
    let watch: Watch | undefined;
    const stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        if (since < this.compactedBelow) {
          const status = { kind: "Status", apiVersion: "v1", status: "Failure", message: `too old resource version: ${since} (${this.compactedBelow})`, reason: "Expired", code: 410 };
          c.enqueue(enc.encode(`${JSON.stringify({ type: "ERROR", object: status })}\n`));
          c.close();
          return;
        }
        const w: Watch = {
          resource,
          ns,
          query: q,
          send: (line) => {
            try {
              c.enqueue(enc.encode(`${line}\n`));
            } catch {
              this.#watches.delete(w);
            }
          },
          close: () => {
            this.#watches.delete(w);
            try {
              c.close();
            } catch {
              // already closed
            }
          },
        };
        watch = w;
        for (const e of this.events) if (e.rv > since && e.resource === resource && matches(e.object, ns, q)) w.send(JSON.stringify({ type: e.type, object: e.object }));
        this.#watches.add(w);
      },
      cancel: () => {
        if (watch) this.#watches.delete(watch);
      },
    });
    return new Response(stream, { headers: { "Content-Type": "application/json" } });
  }
}
