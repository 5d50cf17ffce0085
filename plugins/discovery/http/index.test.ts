import { describe, expect, test } from "bun:test";
import { createServer, type Server as NetServer } from "node:net";
import { parseConfig } from "../../../core/config/load.ts";
import { DEFAULT_USER_AGENT } from "../../../core/scrape/http/http-client.ts";
import { discoveryConformance, sdConfigLoader, Harness, testConfigContext } from "../../../test/conformance/discovery.case.ts";
import plugin, { parseHttpGroups } from "./index.ts";

interface Answer {
  status?: number;
  type?: string;
  body: string;
}

/** A loopback HTTP SD endpoint whose answer the test sets, recording every request. */
function fakeEndpoint(initial: Answer = { body: "[]" }) {
  let answer = initial;
  const requests: Array<{ method: string; url: string; headers: Headers }> = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      requests.push({ method: req.method, url: req.url, headers: new Headers(req.headers) });
      return new Response(answer.body, { status: answer.status ?? 200, headers: { "Content-Type": answer.type ?? "application/json" } });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/sd`,
    requests,
    set(a: Answer) {
      answer = a;
    },
    close: () => server.stop(true),
  };
}

const groupsBody = (groups: string[][]) => JSON.stringify(groups.map((targets) => ({ targets, labels: { env: "test" } })));

discoveryConformance({
  name: "http",
  plugin,
  async setup() {
    const ep = fakeEndpoint();
    let groups: string[][] = [];
    let broken = false;
    const publish = () => ep.set(broken ? { status: 500, body: "boom" } : { body: groupsBody(groups) });
    return {
      rawConfig: { url: ep.url, refresh_interval: "1m" },
      setTargets: async (g) => {
        groups = g;
        publish();
      },
      breakSource: async () => {
        broken = true;
        publish();
      },
      restoreSource: async () => {
        broken = false;
        publish();
      },
      close: async () => {
        await ep.close();
      },
    };
  },
  refreshMs: 60_000,
});

const config = (raw: Record<string, unknown>) => plugin.parseConfig(raw, testConfigContext());

describe("http_sd_configs", () => {
  test("the request is a GET with Accept, X-Prometheus-Refresh-Interval-Seconds and the client's User-Agent and auth", async () => {
    const ep = fakeEndpoint({ body: '[{"targets": ["a:1"], "labels": {"env": "prod"}}]' });
    const h = new Harness(plugin, config({ url: `${ep.url}?x=1`, refresh_interval: "1m30s", basic_auth: { username: "u", password: "p" } }));
    await h.until(() => h.emits > 0, 10);
    await h.stop();
    await ep.close();
    expect(ep.requests).toHaveLength(1);
    const req = ep.requests[0]!;
    expect(req.method).toBe("GET");
    expect(new URL(req.url).pathname + new URL(req.url).search).toBe("/sd?x=1");
    expect(req.headers.get("accept")).toBe("application/json");
    expect(req.headers.get("x-prometheus-refresh-interval-seconds")).toBe("90");
    expect(req.headers.get("user-agent")).toBe(DEFAULT_USER_AGENT);
    expect(req.headers.get("authorization")).toBe(`Basic ${btoa("u:p")}`);
    expect([...h.state.values()]).toEqual([
      { source: `${ep.url}?x=1:0`, targets: [{ __address__: "a:1" }], labels: { env: "prod", __meta_url: `${ep.url}?x=1` } },
    ]);
  });

  test("the refresh interval header has no trailing zeros", async () => {
    const ep = fakeEndpoint();
    for (const [interval, want] of [["1m", "60"], ["1500ms", "1.5"], ["2h", "7200"]] as const) {
      const h = new Harness(plugin, config({ url: ep.url, refresh_interval: interval }));
      await h.until(() => h.emits > 0, 10);
      await h.stop();
      expect(ep.requests.at(-1)!.headers.get("x-prometheus-refresh-interval-seconds")).toBe(want);
    }
    await ep.close();
  });

  test("Content-Type application/json is accepted with a quoted or bare utf-8 charset in any case, and nothing else", async () => {
    const ep = fakeEndpoint();
    const good = ["application/json", "Application/JSON", "application/json; charset=utf-8", 'application/json;charset="UTF-8"'];
    const bad = ["text/plain", "application/json; charset=latin1", "application/jsonx", "application/json; charset=utf-8; x=y"];
    for (const type of [...good, ...bad]) {
      ep.set({ type, body: '[{"targets": ["a:1"]}]' });
      const h = new Harness(plugin, config({ url: ep.url }));
      await h.until(() => h.emits > 0 || h.errors.length > 0, 10);
      await h.stop();
      expect({ type, ok: h.addresses().length === 1 }).toEqual({ type, ok: good.includes(type) });
      if (!good.includes(type)) expect(h.errors.join()).toContain(`${ep.url}: unsupported content type`);
    }
    await ep.close();
  });

  test("bad answers are errors naming the url; the last targets stay and the next good answer replaces them", async () => {
    const ep = fakeEndpoint({ body: '[{"targets": ["a:1"]}]' });
    const h = new Harness(plugin, config({ url: ep.url }));
    await h.until(() => h.addresses().length === 1, 10);
    const bad: Array<[Answer, string]> = [
      [{ body: "[{" }, `${ep.url}: response is not valid JSON`],
      [{ status: 500, body: "[]" }, `${ep.url}: server returned HTTP status 500`],
      [{ type: "text/html", body: "[]" }, `${ep.url}: unsupported content type "text/html"`],
      [{ body: '[{"targets": ["b:1"]}, null]' }, `${ep.url}: group 1 is null`],
      [{ body: '[{"targets": ["b:1"], "lables": {}}]' }, `${ep.url}: group 0: unknown field lables`],
      [{ body: '[{"targets": [1]}]' }, `${ep.url}: group 0.targets.0: `],
      [{ body: '{"targets": ["b:1"]}' }, `${ep.url}: expected a list of target groups, got object`],
    ];
    for (const [answer, message] of bad) {
      ep.set(answer);
      const errors = h.errors.length;
      await h.until(() => h.errors.length > errors, 60_000);
      expect(h.errors.at(-1)).toContain(message);
      expect(h.addresses()).toEqual(["a:1"]);
    }
    ep.set({ body: '[{"targets": ["c:1"]}]' });
    await h.until(() => h.addresses().join() === "c:1", 60_000);
    await h.stop();
    await ep.close();
  });

  test("a connection dropped mid-body is an error and keeps the last targets", async () => {
    let drop = false;
    const server: NetServer = createServer((sock) => {
      sock.once("data", () => {
        const body = '[{"targets": ["a:1"]}]';
        if (drop) {
          sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n[{"targets": [`);
          setTimeout(() => sock.destroy(), 10);
        } else {
          sock.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/sd`;
    const h = new Harness(plugin, config({ url }));
    await h.until(() => h.addresses().length === 1, 10);
    drop = true;
    await h.until(() => h.errors.length > 0, 60_000);
    expect(h.errors[0]).toContain(url);
    expect(h.addresses()).toEqual(["a:1"]);
    await h.stop();
    server.close();
  });

  test("[] means no targets, and a shorter list deletes the missing indices", async () => {
    const ep = fakeEndpoint({ body: groupsBody([["a:1"], ["b:1"], ["c:1"]]) });
    const h = new Harness(plugin, config({ url: ep.url }));
    await h.until(() => h.state.size === 3, 10);
    ep.set({ body: groupsBody([["a:1"]]) });
    await h.until(() => h.state.size === 1, 60_000);
    expect([...h.state.keys()]).toEqual([`${ep.url}:0`]);
    ep.set({ body: "[]" });
    await h.until(() => h.state.size === 0, 60_000);
    await h.stop();
    await ep.close();
  });

  test("parseHttpGroups() reads null labels as empty and keeps __meta_url over a served one", () => {
    expect(parseHttpGroups("http://x/sd", '[{"targets": ["a:1"], "labels": {"a": null, "__meta_url": "fake"}}, {}]')).toEqual([
      { source: "http://x/sd:0", targets: [{ __address__: "a:1" }], labels: { a: "", __meta_url: "http://x/sd" } },
      { source: "http://x/sd:1", targets: [], labels: { __meta_url: "http://x/sd" } },
    ]);
    expect(parseHttpGroups("http://x/sd", "null")).toEqual([]);
  });

  test("config: url is required, http(s) with a host; refresh_interval defaults to 60s; client fields are inlined; errors name the field", () => {
    const { load, loadError: fail } = sdConfigLoader(plugin);
    expect(fail("refresh_interval: 1m")).toContain("scrape_configs[0].http_sd_configs[0].url: URL is missing");
    expect(fail("url: ftp://x/sd")).toContain("scrape_configs[0].http_sd_configs[0].url: URL scheme must be 'http' or 'https'");
    expect(fail("url: 'http:///sd'")).toContain("scrape_configs[0].http_sd_configs[0].url: host is missing in URL http:///sd");
    expect(fail("url: not a url")).toContain("scrape_configs[0].http_sd_configs[0].url (not a url) is not a valid URL");
    expect(fail("{url: 'http://x/sd', refresh_interval: 5x}")).toContain("scrape_configs[0].http_sd_configs[0].refresh_interval");
    expect(fail("{url: 'http://x/sd', urll: y}")).toContain('scrape_configs[0].http_sd_configs[0].urll: unknown field (did you mean "url"?)');
    const ok = load("{url: 'https://sd.example/targets', basic_auth: {username: u, password: p}}");
    const sd = ok.scrape_configs[0]!.service_discovery[0]!;
    expect(sd.mechanism).toBe("http");
    const c = sd.config as ReturnType<typeof plugin.parseConfig>;
    expect(c.url).toBe("https://sd.example/targets");
    expect(c.refresh_interval).toBe(60_000);
    expect(c.http.basic_auth).toMatchObject({ username: "u" });
    expect(c.http.follow_redirects).toBe(true);
  });
});
