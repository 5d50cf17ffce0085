import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as tls from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TlsConfig } from "../../config/types.ts";
import { ScrapeClient, type ScrapeOptions } from "./client.ts";
import { httpConfig, startProxy } from "./test-servers.ts";
import { versionOptions } from "./tls.ts";
import { constants } from "node:crypto";

// Certificates are made fresh by openssl for each run (EC keys: a few milliseconds).
const openssl = Bun.which("openssl");
const opts: ScrapeOptions = { timeoutMs: 2_000, acceptHeader: "*/*", bodySizeLimit: 0, enableCompression: true };

let dir = "";
const file = (name: string) => join(dir, name);
const pem = (name: string) => readFileSync(file(name), "utf8");

function run(...args: string[]): void {
  execFileSync(openssl!, args, { cwd: dir, stdio: "ignore" });
}

function makeCa(name: string): void {
  run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "1", "-subj", `/CN=${name}`);
}

function makeLeaf(name: string, ca: string, san: string | null): void {
  run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
  const ext = [];
  if (san !== null) {
    writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\n`);
    ext.push("-extfile", `${name}.ext`);
  }
  run("x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.crt`, "-days", "1", ...ext);
}

function tlsConfig(over: Partial<TlsConfig> = {}): TlsConfig {
  return { insecure_skip_verify: false, min_version: "TLS12", ...over };
}

let server: ReturnType<typeof Bun.serve>;
let mtlsServer: ReturnType<typeof Bun.serve>;
/** node:tls servers speaking bare HTTP/1.1, to see SNI and the negotiated version. */
let rawTls: tls.Server;
let rawTls12: tls.Server;
let rawTlsPort = 0;
let rawTls12Port = 0;
const handshakes: Array<{ servername: string | false; protocol: string | null }> = [];

async function startRawTls(maxVersion: tls.SecureVersion): Promise<[tls.Server, number]> {
  const s = tls.createServer({ cert: pem("named.crt"), key: pem("named.key"), maxVersion }, (socket) => {
    handshakes.push({ servername: (socket as tls.TLSSocket & { servername: string | false }).servername, protocol: socket.getProtocol() });
    socket.on("error", () => {});
    socket.once("data", () => socket.end("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"));
  });
  s.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return [s, (s.address() as { port: number }).port];
}

describe.skipIf(openssl === null)("tls_config", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gleaner-tls-"));
    makeCa("ca");
    makeCa("other-ca");
    makeLeaf("server", "ca", "DNS:scrape.test,IP:127.0.0.1");
    makeLeaf("named", "ca", "DNS:scrape.test");
    makeLeaf("client", "ca", null);
    const handler = (req: Request) => new Response(`ok ${new URL(req.url).pathname}\n`, { headers: { "Content-Type": "text/plain" } });
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", tls: { cert: pem("server.crt"), key: pem("server.key") }, fetch: handler });
    mtlsServer = Bun.serve({
      port: 0, hostname: "127.0.0.1", fetch: handler,
      tls: { cert: pem("server.crt"), key: pem("server.key"), ca: pem("ca.crt"), requestCert: true, rejectUnauthorized: true },
    });
    [rawTls, rawTlsPort] = await startRawTls("TLSv1.3");
    [rawTls12, rawTls12Port] = await startRawTls("TLSv1.2");
  });
  afterAll(async () => {
    server?.stop(true);
    mtlsServer?.stop(true);
    for (const s of [rawTls, rawTls12]) await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const scrape = async (tlsCfg: TlsConfig, url: string) => {
    const client = new ScrapeClient(httpConfig({ tls_config: tlsCfg }));
    try {
      return await client.scrape(url, opts);
    } finally {
      client.close();
    }
  };
  const url = (s: { port?: number | undefined }) => `https://127.0.0.1:${s.port}/metrics`;

  test("a server certificate from the ca_file's CA is trusted", async () => {
    expect(await scrape(tlsConfig({ ca_file: file("ca.crt") }), url(server))).toMatchObject({ ok: true, bodySize: 12 });
    expect(await scrape(tlsConfig({ ca: pem("ca.crt") }), url(server))).toMatchObject({ ok: true });
  });

  test("a certificate from an unknown CA fails the scrape", async () => {
    const r = await scrape(tlsConfig(), url(server));
    expect(r).toMatchObject({ ok: false, failure: { kind: "transport" } });
    expect(!r.ok && r.error).toBe(`Get "${url(server)}": tls: failed to verify certificate: x509: certificate signed by unknown authority (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`);
    expect(await scrape(tlsConfig({ ca_file: file("other-ca.crt") }), url(server))).toMatchObject({ ok: false });
  });

  test("enable_http2: false still scrapes over TLS (pinned to HTTP/1.1)", async () => {
    const client = new ScrapeClient(httpConfig({ enable_http2: false, tls_config: tlsConfig({ ca_file: file("ca.crt") }) }));
    try {
      expect(await client.scrape(url(server), opts)).toMatchObject({ ok: true });
    } finally {
      client.close();
    }
  });

  test("insecure_skip_verify accepts any certificate", async () => {
    expect(await scrape(tlsConfig({ insecure_skip_verify: true }), url(server))).toMatchObject({ ok: true });
  });

  test("server_name is the name the certificate is checked against, and the SNI sent", async () => {
    const rawUrl = `https://127.0.0.1:${rawTlsPort}/metrics`;
    const wrongName = await scrape(tlsConfig({ ca_file: file("ca.crt") }), rawUrl);
    expect(!wrongName.ok && wrongName.error).toBe(`Get "${rawUrl}": tls: failed to verify certificate: x509: certificate is not valid for 127.0.0.1 (ERR_TLS_CERT_ALTNAME_INVALID)`);
    handshakes.length = 0;
    expect(await scrape(tlsConfig({ ca_file: file("ca.crt"), server_name: "scrape.test" }), rawUrl)).toMatchObject({ ok: true });
    expect(handshakes.at(-1)?.servername).toBe("scrape.test");
    expect(await scrape(tlsConfig({ ca_file: file("ca.crt"), server_name: "other.test" }), rawUrl)).toMatchObject({ ok: false });
  });

  test("a server that requires a client certificate gets the one from cert_file and key_file", async () => {
    const base = tlsConfig({ ca_file: file("ca.crt") });
    expect(await scrape(base, url(mtlsServer))).toMatchObject({ ok: false, failure: { kind: "transport" } });
    expect(await scrape({ ...base, cert_file: file("client.crt"), key_file: file("client.key") }, url(mtlsServer))).toMatchObject({ ok: true });
    expect(await scrape({ ...base, cert: pem("client.crt"), key: pem("client.key") }, url(mtlsServer))).toMatchObject({ ok: true });
  });

  test("min_version and max_version bound the negotiated protocol", async () => {
    const rawUrl = `https://127.0.0.1:${rawTlsPort}/metrics`;
    const named = { ca_file: file("ca.crt"), server_name: "scrape.test" };
    handshakes.length = 0;
    expect(await scrape(tlsConfig({ ...named, max_version: "TLS12" }), rawUrl)).toMatchObject({ ok: true });
    expect(await scrape(tlsConfig(named), rawUrl)).toMatchObject({ ok: true });
    expect(handshakes.map((h) => h.protocol)).toEqual(["TLSv1.2", "TLSv1.3"]);
    const only12 = `https://127.0.0.1:${rawTls12Port}/metrics`;
    expect(await scrape(tlsConfig({ ...named, min_version: "TLS13" }), only12)).toMatchObject({ ok: false, failure: { kind: "transport" } });
    expect(await scrape(tlsConfig(named), only12)).toMatchObject({ ok: true });
  });

  test("a rotated ca_file is picked up by the same client at the next scrape", async () => {
    const caFile = file("rotating-ca.crt");
    writeFileSync(caFile, pem("other-ca.crt"));
    const client = new ScrapeClient(httpConfig({ tls_config: tlsConfig({ ca_file: caFile }) }));
    try {
      expect(await client.scrape(url(server), opts)).toMatchObject({ ok: false });
      writeFileSync(caFile, pem("ca.crt"));
      expect(await client.scrape(url(server), opts)).toMatchObject({ ok: true });
    } finally {
      client.close();
    }
  });

  test("an https target behind proxy_url is reached through a CONNECT tunnel carrying proxy_connect_header", async () => {
    const proxy = await startProxy();
    const client = new ScrapeClient(httpConfig({
      proxy_url: proxy.url,
      proxy_connect_header: { "Proxy-Authorization": ["Basic cHJveHk6cHc="] },
      tls_config: tlsConfig({ ca_file: file("ca.crt") }),
    }));
    try {
      expect(await client.scrape(url(server), opts)).toMatchObject({ ok: true });
      const head = proxy.heads.at(-1)!;
      expect(head.split("\r\n")[0]).toBe(`CONNECT 127.0.0.1:${server.port} HTTP/1.1`);
      expect(head).toContain("\r\nProxy-Authorization: Basic cHJveHk6cHc=");
    } finally {
      client.close();
      await proxy.close();
    }
  });

  test("an unreadable ca_file fails the scrape and names the file", async () => {
    const r = await scrape(tlsConfig({ ca_file: file("missing.crt") }), url(server));
    expect(r).toMatchObject({ ok: false, failure: { kind: "setup" } });
    expect(!r.ok && r.error).toContain(`unable to read CA cert ${file("missing.crt")}`);
  });
});

test("versionOptions() switches off every TLS version outside [min, max]", () => {
  const { SSL_OP_NO_TLSv1: v10, SSL_OP_NO_TLSv1_1: v11, SSL_OP_NO_TLSv1_2: v12, SSL_OP_NO_TLSv1_3: v13 } = constants;
  expect(versionOptions("TLS12", undefined)).toBe(v10 | v11);
  expect(versionOptions("TLS10", undefined)).toBe(0);
  expect(versionOptions("TLS13", undefined)).toBe(v10 | v11 | v12);
  expect(versionOptions("TLS12", "TLS12")).toBe(v10 | v11 | v13);
  expect(() => versionOptions("TLS13", "TLS12")).toThrow(RangeError);
});
