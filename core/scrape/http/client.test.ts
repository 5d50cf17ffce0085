import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { VERSION } from "../../version.ts";
import { BodyBuffer } from "./body.ts";
import { ScrapeClient, type ScrapeOptions, type ScrapeResult } from "./client.ts";
import { httpConfig, reply, replyChunked, startRawServer, type RawServer, type Responder } from "./test-servers.ts";

const ACCEPT = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,*/*;q=0.5";
const opts = (over: Partial<ScrapeOptions> = {}): ScrapeOptions => ({
  timeoutMs: 1_500, acceptHeader: ACCEPT, bodySizeLimit: 0, enableCompression: true, ...over,
});
const text = (r: ScrapeResult) => (r.ok ? new TextDecoder().decode(r.body) : `error: ${r.error}`);

let dir: string;
let respond: Responder;
let server: RawServer;
const clients: ScrapeClient[] = [];
const client = (cfg = httpConfig()) => {
  const c = new ScrapeClient(cfg);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gleaner-http-"));
  server = await startRawServer((req, socket) => respond(req, socket));
});
afterEach(() => {
  server.requests.length = 0;
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the request", () => {
  test("a scrape sends a GET with exactly Prometheus's headers", async () => {
    respond = (_req, s) => reply(s, "200 OK", { "Content-Type": "text/plain; version=0.0.4" }, "up 1\n");
    const r = await client().scrape(server.url("/metrics?module=http_2xx&target=a%20b"), opts());
    expect(text(r)).toBe("up 1\n");
    const req = server.requests[0]!;
    expect(req.method).toBe("GET");
    expect(req.target).toBe("/metrics?module=http_2xx&target=a%20b");
    expect(req.lines.map(([k]) => k.toLowerCase()).sort()).toEqual(
      ["accept", "accept-encoding", "connection", "host", "user-agent", "x-prometheus-scrape-timeout-seconds"],
    );
    expect(req.get("Accept")).toBe(ACCEPT);
    expect(req.all("Accept-Encoding")).toEqual(["gzip"]);
    expect(req.get("User-Agent")).toBe(`gleaner/${VERSION}`);
    expect(req.get("X-Prometheus-Scrape-Timeout-Seconds")).toBe("1.5");
    expect(req.get("Host")).toBe(`127.0.0.1:${server.port}`);
    expect(req.body.length).toBe(0);
  });

  test("with compression off Accept-Encoding is identity and Bun adds none of its own", async () => {
    respond = (_req, s) => reply(s, "200 OK", { "Content-Type": "text/plain" }, "up 1\n");
    await client().scrape(server.url(), opts({ enableCompression: false, timeoutMs: 10_000 }));
    expect(server.requests[0]!.all("Accept-Encoding")).toEqual(["identity"]);
    expect(server.requests[0]!.get("X-Prometheus-Scrape-Timeout-Seconds")).toBe("10");
  });

  test("the User-Agent can be overridden for targets that key on it", async () => {
    respond = (_req, s) => reply(s, "200 OK", {}, "");
    const c = new ScrapeClient(httpConfig(), { userAgent: "Prometheus/3.5.0" });
    clients.push(c);
    await c.scrape(server.url(), opts());
    expect(server.requests[0]!.get("User-Agent")).toBe("Prometheus/3.5.0");
  });

  test("successive scrapes reuse one keep-alive connection", async () => {
    const sockets = new Set<unknown>();
    respond = (_req, s) => {
      sockets.add(s);
      reply(s, "200 OK", {}, "a 1\n");
    };
    const c = client();
    for (let i = 0; i < 3; i++) expect(text(await c.scrape(server.url(), opts()))).toBe("a 1\n");
    expect(sockets.size).toBe(1);
  });
});

describe("the response", () => {
  test("the body stays bytes, with the Content-Type as received and the body size", async () => {
    respond = (_req, s) => reply(s, "200 OK", { "Content-Type": "application/openmetrics-text; version=1.0.0; charset=utf-8" }, "# EOF\n");
    const r = await client().scrape(server.url(), opts());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.body).toBeInstanceOf(Uint8Array);
    expect(r.contentType).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
    expect(r.bodySize).toBe(6);
  });

  test("an empty 200 body is a success, with a blank Content-Type passed on as blank", async () => {
    respond = (_req, s) => reply(s, "200 OK", {}, "");
    const r = await client().scrape(server.url(), opts());
    expect(r).toMatchObject({ ok: true, contentType: "", bodySize: 0 });
  });

  test("any status other than 200 fails the scrape, other 2xx included", async () => {
    const c = client();
    for (const [status, message] of [
      ["503 Service Unavailable", "server returned HTTP status 503 Service Unavailable"],
      ["204 No Content", "server returned HTTP status 204 No Content"],
      ["201 Created", "server returned HTTP status 201 Created"],
      ["404 Not Found", "server returned HTTP status 404 Not Found"],
      ["500 Custom Reason", "server returned HTTP status 500 Custom Reason"],
    ] as const) {
      respond = (_req, s) => reply(s, status, { "Content-Type": "text/plain" }, status.startsWith("204") ? "" : "oops\n");
      const r = await c.scrape(server.url(), opts());
      expect(r).toMatchObject({ ok: false, error: message, bodySize: 0 });
      if (!r.ok) {
        expect(r.failure.kind).toBe("status");
        expect(r.failure.status).toBe(Number(status.slice(0, 3)));
        expect(r.failure.url).toBe(server.url());
      }
    }
  });

  test("a chunked body arrives whole", async () => {
    const body = Buffer.from("metric_a 1\n".repeat(10_000));
    respond = (_req, s) => replyChunked(s, { "Content-Type": "text/plain" }, body, 7_777);
    const r = await client().scrape(server.url(), opts());
    expect(r.ok && Buffer.from(r.body).equals(body)).toBe(true);
  });

  test("a gzip body is inflated, and its size is the decompressed size", async () => {
    const body = Buffer.from("metric_b{x=\"1\"} 2\n".repeat(5_000));
    respond = (_req, s) => reply(s, "200 OK", { "Content-Type": "text/plain", "Content-Encoding": "gzip" }, gzipSync(body));
    const r = await client().scrape(server.url(), opts());
    expect(r.ok && Buffer.from(r.body).equals(body)).toBe(true);
    expect(r.ok && r.bodySize).toBe(body.length);
  });

  test("only a Content-Encoding of exactly gzip is inflated; anything else is read raw", async () => {
    const gz = gzipSync("up 1\n");
    const c = client();
    for (const encoding of ["GZIP", "x-gzip", "br", "gzip, identity"]) {
      respond = (_req, s) => reply(s, "200 OK", { "Content-Encoding": encoding }, gz);
      const r = await c.scrape(server.url(), opts());
      expect(r.ok && Buffer.from(r.body).equals(gz)).toBe(true);
    }
  });

  test("a corrupt gzip body fails the scrape", async () => {
    const c = client();
    respond = (_req, s) => reply(s, "200 OK", { "Content-Encoding": "gzip" }, "this is not gzip");
    expect(await c.scrape(server.url(), opts())).toMatchObject({ ok: false, error: "gzip: inflate failed", failure: { kind: "gzip" } });
    const truncated = gzipSync("up 1\n".repeat(100)).subarray(0, 30);
    respond = (_req, s) => reply(s, "200 OK", { "Content-Encoding": "gzip" }, truncated);
    expect(await c.scrape(server.url(), opts())).toMatchObject({ ok: false, error: "gzip: unexpected end of file" });
  });

  test("an empty body marked gzip fails, as Go's gzip reader does on EOF", async () => {
    respond = (_req, s) => reply(s, "200 OK", { "Content-Encoding": "gzip" }, "");
    expect(await client().scrape(server.url(), opts())).toMatchObject({ ok: false, failure: { kind: "gzip" } });
  });

  test("a reused BodyBuffer keeps its memory from scrape to scrape", async () => {
    respond = (_req, s) => reply(s, "200 OK", {}, "x".repeat(10_000));
    const c = client();
    const buffer = new BodyBuffer();
    const first = await c.scrape(server.url(), opts({ buffer }));
    const second = await c.scrape(server.url(), opts({ buffer }));
    expect(first.ok && second.ok).toBe(true);
    if (first.ok && second.ok) expect(second.body.buffer).toBe(first.body.buffer);
    expect(buffer.capacity).toBe(10_000);
  });
});

describe("body_size_limit", () => {
  const body = "y".repeat(1_000);

  test("a body of exactly body_size_limit bytes fails the scrape", async () => {
    const c = client();
    respond = (_req, s) => reply(s, "200 OK", {}, body);
    expect(await c.scrape(server.url(), opts({ bodySizeLimit: 1_000 }))).toMatchObject({
      ok: false, error: "body size limit exceeded", bodySize: -1, bodyLimit: true, failure: { kind: "body_size_limit" },
    });
    respond = (_req, s) => replyChunked(s, {}, Buffer.from(body), 100);
    expect(await c.scrape(server.url(), opts({ bodySizeLimit: 1_000 }))).toMatchObject({ ok: false, bodySize: -1, bodyLimit: true });
  });

  test("a body one byte under the limit succeeds", async () => {
    const c = client();
    respond = (_req, s) => replyChunked(s, {}, Buffer.from(body), 100);
    expect(await c.scrape(server.url(), opts({ bodySizeLimit: 1_001 }))).toMatchObject({ ok: true, bodySize: 1_000 });
    respond = (_req, s) => reply(s, "200 OK", {}, body);
    expect(await c.scrape(server.url(), opts({ bodySizeLimit: 1_001 }))).toMatchObject({ ok: true, bodySize: 1_000 });
  });

  test("the limit applies to the decompressed size", async () => {
    const gz = gzipSync(body);
    expect(gz.length).toBeLessThan(100);
    respond = (_req, s) => reply(s, "200 OK", { "Content-Encoding": "gzip" }, gz);
    expect(await client().scrape(server.url(), opts({ bodySizeLimit: 1_000 }))).toMatchObject({ ok: false, error: "body size limit exceeded" });
  });

  test("a gzip bomb is read only up to the limit", async () => {
    const bomb = Bun.gzipSync(new Uint8Array(64 * 1024 * 1024));
    respond = (_req, s) => reply(s, "200 OK", { "Content-Encoding": "gzip" }, bomb);
    const started = performance.now();
    const r = await client().scrape(server.url(), opts({ bodySizeLimit: 1024 * 1024 }));
    expect(r).toMatchObject({ ok: false, error: "body size limit exceeded", bodySize: -1 });
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe("the scrape timeout", () => {
  test("a server that never answers fails at the timeout with a deadline error naming it", async () => {
    respond = () => {};
    const started = performance.now();
    const r = await client().scrape(server.url(), opts({ timeoutMs: 150 }));
    const took = performance.now() - started;
    expect(r).toMatchObject({ ok: false, error: `Get "${server.url()}": context deadline exceeded (scrape timeout 150ms)`, failure: { kind: "timeout" } });
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(600);
  });

  test("a server that sends headers and then stalls mid-body fails at the timeout", async () => {
    respond = (_req, s) => s.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nmetric_a 1\nmetr");
    const started = performance.now();
    const r = await client().scrape(server.url(), opts({ timeoutMs: 200 }));
    expect(r).toMatchObject({ ok: false, failure: { kind: "timeout" } });
    expect(performance.now() - started).toBeLessThan(700);
  });

  test("a gzip body that stalls mid-stream fails at the timeout too", async () => {
    const gz = gzipSync("metric_a 1\n".repeat(1_000));
    respond = (_req, s) => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`);
      s.write(gz.subarray(0, gz.length >> 1));
    };
    expect(await client().scrape(server.url(), opts({ timeoutMs: 150 }))).toMatchObject({ ok: false, failure: { kind: "timeout" } });
  });

  test("the caller's signal cancels a scrape in flight", async () => {
    respond = () => {};
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    const r = await client().scrape(server.url(), opts({ signal: ctl.signal }));
    expect(r).toMatchObject({ ok: false, error: `Get "${server.url()}": context canceled`, failure: { kind: "canceled" } });
  });

  test("a refused connection fails at once, naming the URL", async () => {
    const closed = await startRawServer(() => {});
    const url = closed.url();
    await closed.close();
    const r = await client().scrape(url, opts());
    expect(r).toMatchObject({ ok: false, error: `Get "${url}": dial tcp 127.0.0.1:${closed.port}: connect: connection refused`, failure: { kind: "transport", url } });
  });
});

test("a connection dropped mid-body fails the scrape as a transport error, gzip or not", async () => {
  const c = client();
  for (const headers of ["", "Content-Encoding: gzip\r\n"]) {
    respond = (_req, s) => {
      s.write(`HTTP/1.1 200 OK\r\n${headers}Content-Length: 5000\r\n\r\n`);
      s.write(headers === "" ? "metric_a 1\n" : gzipSync("metric_a 1\n".repeat(500)).subarray(0, 20));
      setTimeout(() => s.destroy(), 20);
    };
    const r = await c.scrape(server.url(), opts());
    expect(r).toMatchObject({ ok: false, failure: { kind: "transport" } });
  }
});

describe("redirects", () => {
  const chain: Responder = (req, s) => {
    const n = Number(/\/r\/(\d+)/.exec(req.target)?.[1] ?? 0);
    if (n > 0) reply(s, "302 Found", { Location: `/r/${n - 1}` });
    else reply(s, "200 OK", { "Content-Type": "text/plain" }, "landed 1\n");
  };

  test("are followed up to Go's limit of 10 requests", async () => {
    respond = chain;
    const r = await client().scrape(server.url("/r/9"), opts());
    expect(text(r)).toBe("landed 1\n");
    expect(server.requests.length).toBe(10);
    // The headers go along to the redirected request.
    expect(server.requests.at(-1)!.get("X-Prometheus-Scrape-Timeout-Seconds")).toBe("1.5");
  });

  test("the 10th redirect fails the scrape", async () => {
    respond = chain;
    const r = await client().scrape(server.url("/r/10"), opts());
    expect(r).toMatchObject({ ok: false, error: `Get "${server.url("/r/10")}": stopped after 10 redirects`, failure: { kind: "transport" } });
  });

  test("with follow_redirects off a redirect fails as a non-200 status", async () => {
    respond = chain;
    const r = await client(httpConfig({ follow_redirects: false })).scrape(server.url("/r/1"), opts());
    expect(r).toMatchObject({ ok: false, error: "server returned HTTP status 302 Found", failure: { kind: "status", status: 302 } });
    expect(server.requests.length).toBe(1);
  });
});

describe("credentials and custom headers", () => {
  beforeAll(() => {
    respond = (_req, s) => reply(s, "200 OK", {}, "");
  });
  const ok = (_req: unknown, s: Parameters<Responder>[1]) => reply(s, "200 OK", {}, "");

  test("basic_auth sends Go's SetBasicAuth value", async () => {
    respond = ok;
    await client(httpConfig({ basic_auth: { username: "user", password: "pä:ss" } })).scrape(server.url(), opts());
    expect(server.requests[0]!.all("Authorization")).toEqual([`Basic ${Buffer.from("user:pä:ss").toString("base64")}`]);
  });

  test("basic_auth files are read on every scrape and trimmed of surrounding whitespace", async () => {
    respond = ok;
    const user = join(dir, "user");
    const pass = join(dir, "pass");
    writeFileSync(user, "alice\n");
    writeFileSync(pass, "  first secret \n");
    const c = client(httpConfig({ basic_auth: { username_file: user, password_file: pass } }));
    await c.scrape(server.url(), opts());
    writeFileSync(pass, "second\r\n");
    await c.scrape(server.url(), opts());
    expect(server.requests.map((r) => r.get("Authorization"))).toEqual([
      `Basic ${Buffer.from("alice:first secret").toString("base64")}`,
      `Basic ${Buffer.from("alice:second").toString("base64")}`,
    ]);
  });

  test("basic_auth with a password file and an inline username", async () => {
    respond = ok;
    const pass = join(dir, "pass-only");
    writeFileSync(pass, "pw\n");
    await client(httpConfig({ basic_auth: { username: "bob", password_file: pass } })).scrape(server.url(), opts());
    expect(server.requests[0]!.get("Authorization")).toBe(`Basic ${Buffer.from("bob:pw").toString("base64")}`);
  });

  test("authorization sends the type and credentials, from the file as it is at each scrape", async () => {
    respond = ok;
    await client(httpConfig({ authorization: { type: "Bearer", credentials: "abc" } })).scrape(server.url(), opts());
    const file = join(dir, "token");
    writeFileSync(file, "tok-1\n");
    const c = client(httpConfig({ authorization: { type: "Custom", credentials_file: file } }));
    await c.scrape(server.url(), opts());
    writeFileSync(file, "tok-2");
    await c.scrape(server.url(), opts());
    expect(server.requests.map((r) => r.all("Authorization"))).toEqual([["Bearer abc"], ["Custom tok-1"], ["Custom tok-2"]]);
  });

  test("http_headers sends values, secrets and trimmed file contents, in that order", async () => {
    respond = ok;
    const file = join(dir, "header");
    writeFileSync(file, "from-file\n");
    const cfg = httpConfig({
      http_headers: {
        "X-Scope-OrgID": { values: ["tenant-a"], secrets: [], files: [] },
        "X-Multi": { values: ["v1", "v2"], secrets: ["s1"], files: [file] },
      },
    });
    await client(cfg).scrape(server.url(), opts());
    const req = server.requests[0]!;
    expect(req.all("X-Scope-OrgID")).toEqual(["tenant-a"]);
    // Bun folds repeated names into one comma-separated line (equivalent under RFC 9110).
    expect(req.all("X-Multi").join(", ")).toBe("v1, v2, s1, from-file");
  });

  test("a missing credentials file fails the scrape and names the file", async () => {
    respond = ok;
    const missing = join(dir, "nope");
    const r = await client(httpConfig({ authorization: { type: "Bearer", credentials_file: missing } })).scrape(server.url(), opts());
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.failure.kind).toBe("setup");
      expect(r.error).toStartWith(`Get "${server.url()}": unable to read authorization credentials: unable to read file ${missing}`);
    }
    expect(server.requests.length).toBe(0);
  });
});

test("pooled body buffers go back to the pool on release and after a failure, and are reused", async () => {
  const { BodyBufferPool } = await import("./body.ts");
  const pool = new BodyBufferPool(2);
  const srv = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => (new URL(req.url).pathname === "/fail" ? new Response("no", { status: 500 }) : new Response("a 1\n")) });
  try {
    const client = new ScrapeClient(httpConfig());
    const opts = { timeoutMs: 2000, acceptHeader: "text/plain", bodySizeLimit: 0, enableCompression: false, pool };
    const a = await client.scrape(`http://127.0.0.1:${srv.port}/metrics`, opts);
    expect(a.ok && new TextDecoder().decode(a.body)).toBe("a 1\n");
    expect(pool.idle).toBe(0);
    if (a.ok) a.release!();
    if (a.ok) a.release!();
    expect(pool.idle).toBe(1);
    const b = await client.scrape(`http://127.0.0.1:${srv.port}/fail`, opts);
    expect(b.ok).toBe(false);
    expect(pool.idle).toBe(1);
    client.close();
  } finally {
    srv.stop(true);
  }
});
