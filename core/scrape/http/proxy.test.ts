import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ProxyConfig } from "../../config/types.ts";
import { ScrapeClient, type ScrapeOptions } from "./client.ts";
import { compileNoProxy, proxyFor } from "./proxy.ts";
import { httpConfig, reply, startProxy, startRawServer, type RawServer, type TestProxy } from "./test-servers.ts";

const opts: ScrapeOptions = { timeoutMs: 2_000, acceptHeader: "*/*", bodySizeLimit: 0, enableCompression: true };
const cfg = (over: Partial<ProxyConfig> = {}): ProxyConfig => ({ proxy_from_environment: false, proxy_connect_header: {}, ...over });

describe("proxyFor()", () => {
  const through = (noProxy: string, url: string) => {
    const c = cfg({ proxy_url: "http://proxy:3128", no_proxy: noProxy });
    return proxyFor(c, new URL(url), compileNoProxy(noProxy)) !== false;
  };

  test("without proxy_url the connection is direct, whatever the environment says", () => {
    expect(proxyFor(cfg(), new URL("http://a.example/metrics"), [])).toBe(false);
  });

  test("proxy_from_environment leaves the choice to HTTP_PROXY, HTTPS_PROXY and NO_PROXY", () => {
    expect(proxyFor(cfg({ proxy_from_environment: true }), new URL("http://a.example/"), [])).toBeUndefined();
  });

  test("proxy_url sends every target through the proxy, with proxy_connect_header", () => {
    const got = proxyFor(cfg({ proxy_url: "http://proxy:3128", proxy_connect_header: { "Proxy-Authorization": ["Basic eA=="] } }), new URL("http://127.0.0.1:9100/metrics"), []);
    expect(got).toMatchObject({ url: "http://proxy:3128", respectNoProxy: false });
    expect(typeof got === "object" && !(got instanceof URL) && new Headers(got.headers).get("Proxy-Authorization")).toBe("Basic eA==");
  });

  test("no_proxy matches domains with their subdomains, as Go's httpproxy does", () => {
    expect(through("example.com", "http://example.com/")).toBe(false);
    expect(through("example.com", "http://a.b.example.com/")).toBe(false);
    expect(through("example.com", "http://notexample.com/")).toBe(true);
    expect(through(".example.com", "http://example.com/")).toBe(true);
    expect(through(".example.com", "http://a.example.com/")).toBe(false);
    expect(through("*.example.com", "http://example.com/")).toBe(true);
    expect(through("*.example.com", "http://a.example.com/")).toBe(false);
    expect(through(" Foo.ORG , bar.org", "http://x.bar.org/")).toBe(false);
  });

  test("no_proxy entries with a port match only that port, defaulting by scheme", () => {
    expect(through("example.com:8080", "http://example.com:8080/")).toBe(false);
    expect(through("example.com:8080", "http://example.com/")).toBe(true);
    expect(through("example.com:443", "https://example.com/")).toBe(false);
    expect(through("10.1.2.3:80", "http://10.1.2.3/")).toBe(false);
  });

  test("no_proxy matches IP addresses and CIDR ranges, v4 and v6", () => {
    expect(through("10.0.0.0/8", "http://10.20.30.40:9100/")).toBe(false);
    expect(through("10.0.0.0/8", "http://11.0.0.1:9100/")).toBe(true);
    expect(through("10.1.2.3", "http://10.1.2.3:9100/")).toBe(false);
    expect(through("fd00::/8", "http://[fd12::1]:9100/")).toBe(false);
    expect(through("[fd12::1]:9100", "http://[fd12::1]:9100/")).toBe(false);
    // A CIDR never matches a name.
    expect(through("10.0.0.0/8", "http://example.com/")).toBe(true);
  });

  test("no_proxy * sends nothing through the proxy, and with any no_proxy loopback goes direct", () => {
    expect(through("*", "http://example.com/")).toBe(false);
    expect(through("example.org", "http://127.0.0.1:9100/")).toBe(false);
    expect(through("example.org", "http://localhost:9100/")).toBe(false);
    expect(through("example.org", "http://[::1]:9100/")).toBe(false);
    expect(through("example.org", "http://10.0.0.1:9100/")).toBe(true);
  });
});

describe("scraping through proxy_url", () => {
  let proxy: TestProxy;
  let target: RawServer;
  beforeAll(async () => {
    proxy = await startProxy();
    target = await startRawServer((_req, s) => reply(s, "200 OK", { "Content-Type": "text/plain" }, "via 1\n"));
  });
  afterAll(async () => {
    await proxy.close();
    await target.close();
  });

  test("an http target is requested from the proxy in absolute form, with the connect headers", async () => {
    const client = new ScrapeClient(httpConfig({ proxy_url: proxy.url, proxy_connect_header: { "X-Proxy-Tenant": ["t1"] } }));
    const r = await client.scrape(target.url("/metrics?x=1"), opts);
    client.close();
    expect(r).toMatchObject({ ok: true, bodySize: 6 });
    const head = proxy.heads.at(-1)!;
    expect(head.split("\r\n")[0]).toBe(`GET ${target.url("/metrics?x=1")} HTTP/1.1`);
    expect(head).toContain("\r\nX-Proxy-Tenant: t1");
    expect(target.requests.at(-1)!.get("Accept")).toBe("*/*");
  });

  test("a target matched by no_proxy is scraped directly", async () => {
    const before = proxy.heads.length;
    const client = new ScrapeClient(httpConfig({ proxy_url: proxy.url, no_proxy: "example.org" }));
    expect(await client.scrape(target.url(), opts)).toMatchObject({ ok: true });
    client.close();
    expect(proxy.heads.length).toBe(before);
  });

  test("a proxy that refuses the connection fails the scrape", async () => {
    const dead = await startProxy();
    const url = dead.url;
    await dead.close();
    const client = new ScrapeClient(httpConfig({ proxy_url: url }));
    expect(await client.scrape(target.url(), opts)).toMatchObject({ ok: false, failure: { kind: "transport" } });
    client.close();
  });
});
