import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../../core/config/load.ts";
import { discoveryConformance, sdConfigLoader, Harness, testConfigContext } from "../../../test/conformance/discovery.case.ts";
import plugin, { aggregatedStatus, serviceGroup } from "./index.ts";

interface Instance {
  node: string;
  address: string;
  port: number;
  serviceAddress?: string;
  tags?: string[];
  checks?: Array<{ CheckID?: string; Status: string }>;
}

interface Recorded {
  method: string;
  path: string;
  query: string;
  params: URLSearchParams;
  headers: Headers;
}

/**
 * A loopback Consul: /v1/agent/self, /v1/catalog/services and /v1/health/service/<name>,
 * with blocking queries (a request whose `index` is current is held until that index
 * moves or `wait` elapses) and X-Consul-Index on every answer. Each service keeps the
 * index of its last change; the catalog keeps the index of its last change.
 */
class FakeConsul {
  #index = 10;
  #catalogIndex = 10;
  #services = new Map<string, { index: number; instances: Instance[]; tags: string[] }>();
  #waiters = new Set<() => void>();
  readonly requests: Recorded[] = [];
  /** "500": every request fails; "json": bodies are cut off; "noindex": no X-Consul-Index; null: healthy. */
  broken: "500" | "json" | "noindex" | null = null;
  /** The longest a blocking query is held (a real Consul caps `wait` at 10 minutes). */
  maxWaitMs = 600_000;
  server: ReturnType<typeof Bun.serve>;

  constructor(port = 0) {
    this.server = this.#listen(port);
  }

  #listen(port: number) {
    return Bun.serve({ port, hostname: "127.0.0.1", idleTimeout: 0, fetch: (req) => this.#handle(req) });
  }

  get address(): string {
    return `127.0.0.1:${this.server.port}`;
  }

  /** Replaces the catalog: service name → instances (and the service's catalog tags). */
  set(services: Record<string, Instance[]>, tags: Record<string, string[]> = {}): void {
    this.#index++;
    const names = Object.keys(services);
    const changedList = names.length !== this.#services.size || names.some((n) => !this.#services.has(n) || JSON.stringify(this.#services.get(n)!.tags) !== JSON.stringify(tags[n] ?? []));
    const next = new Map<string, { index: number; instances: Instance[]; tags: string[] }>();
    for (const [name, instances] of Object.entries(services)) {
      const old = this.#services.get(name);
      const same = old !== undefined && JSON.stringify(old.instances) === JSON.stringify(instances) && JSON.stringify(old.tags) === JSON.stringify(tags[name] ?? []);
      next.set(name, { index: same ? old.index : this.#index, instances, tags: tags[name] ?? [] });
    }
    this.#services = next;
    if (changedList) this.#catalogIndex = this.#index;
    this.wake();
  }

  /** Releases every held blocking query. */
  wake(): void {
    for (const w of this.#waiters) w();
    this.#waiters.clear();
  }

  /** The server goes away (held queries see their connection close) and comes back on the same port. */
  async restart(): Promise<void> {
    const port = this.server.port!;
    this.server.stop(true);
    this.#waiters.clear();
    this.server = this.#listen(port);
  }

  paths(): string[] {
    return this.requests.map((r) => `${r.path}${r.query}`);
  }

  async #hold(current: () => number, params: URLSearchParams, signal: AbortSignal): Promise<void> {
    const index = Number(params.get("index") ?? "0");
    const wait = /^(\d+)ms$/.exec(params.get("wait") ?? "");
    if (index === 0 || index < current() || wait === null) return;
    const ms = Math.min(Number(wait[1]), this.maxWaitMs);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    this.requests.push({ method: req.method, path: url.pathname, query: url.search, params: url.searchParams, headers: req.headers });
    const answer = (body: unknown, index: number) => {
      if (this.broken === "500") return new Response("rpc error: No cluster leader", { status: 500 });
      const text = JSON.stringify(body);
      const headers: Record<string, string> = { "Content-Type": "application/json" };
      if (this.broken !== "noindex") headers["X-Consul-Index"] = String(index);
      return new Response(this.broken === "json" ? text.slice(0, Math.max(1, text.length - 3)) : text, { headers });
    };
    if (this.broken === "500") return answer(null, 0);
    if (url.pathname === "/v1/agent/self") return answer({ Config: { Datacenter: "dc1", NodeName: "agent-1" } }, 0);
    if (url.pathname === "/v1/catalog/services") {
      await this.#hold(() => this.#catalogIndex, url.searchParams, req.signal);
      return answer(Object.fromEntries([...this.#services].map(([n, s]) => [n, s.tags])), this.#catalogIndex);
    }
    const m = /^\/v1\/health\/service\/(.+)$/.exec(url.pathname);
    if (m !== null) {
      const name = decodeURIComponent(m[1]!);
      const current = () => this.#services.get(name)?.index ?? this.#catalogIndex;
      await this.#hold(current, url.searchParams, req.signal);
      const wanted = url.searchParams.getAll("tag");
      const entries = (this.#services.get(name)?.instances ?? [])
        .filter((i) => wanted.every((t) => (i.tags ?? []).includes(t)))
        .map((i) => ({
          Node: { ID: `id-${i.node}`, Node: i.node, Address: i.address, Datacenter: "dc1", TaggedAddresses: { lan: i.address, "wan-ipv4": "203.0.113.1" }, Meta: { rack: "r1", "consul-network-segment": "" } },
          Service: { ID: `${name}-${i.node}`, Service: name, Tags: i.tags ?? [], Address: i.serviceAddress ?? "", Meta: { version: "1.2" }, Port: i.port, Namespace: "default", Partition: "default" },
          Checks: i.checks ?? [{ CheckID: "serfHealth", Status: "passing" }],
        }));
      return answer(entries, current());
    }
    return new Response("not found", { status: 404 });
  }

  stop(): void {
    this.wake();
    this.server.stop(true);
  }
}

/** One instance per address "host:port". */
const instances = (addresses: string[]): Instance[] => addresses.map((a) => ({ node: `node-${a}`, address: a.split(":")[0]!, port: Number(a.split(":")[1]) }));

discoveryConformance({
  name: "consul",
  plugin,
  async setup() {
    const fake = new FakeConsul();
    let groups: string[][] = [];
    const apply = () => fake.set(Object.fromEntries(groups.map((g, i) => [`svc${i}`, instances(g)])));
    return {
      rawConfig: { server: fake.address, refresh_interval: "30s" },
      setTargets: async (g) => {
        groups = g;
        apply();
      },
      breakSource: async () => {
        fake.broken = "500";
        fake.wake();
      },
      restoreSource: async () => {
        fake.broken = null;
        fake.wake();
      },
      close: async () => fake.stop(),
    };
  },
  refreshMs: 30_000,
});

const { load, loadError } = sdConfigLoader(plugin);

describe("consul_sd_configs", () => {
  test("config defaults are Prometheus's", () => {
    const c = load("services: []").scrape_configs[0]!.service_discovery[0]!.config;
    expect(c).toMatchObject({ server: "localhost:8500", path_prefix: "", token: "", datacenter: "", namespace: "", partition: "", tag_separator: ",", scheme: "http", allow_stale: true, refresh_interval: 30_000, services: [], tags: [], node_meta: {}, filter: "", health_filter: "" });
    expect((c as { http: { follow_redirects: boolean } }).http.follow_redirects).toBe(true);
  });

  test("username and password become basic_auth; with basic_auth they are an error naming the field", () => {
    const c = load("server: c:8500\nusername: u\npassword: p").scrape_configs[0]!.service_discovery[0]!.config as { http: { basic_auth?: unknown } };
    expect(c.http.basic_auth).toEqual({ username: "u", password: "p" });
    expect(loadError("username: u\nbasic_auth: {username: x, password: y}")).toContain("scrape_configs[0].consul_sd_configs[0].username: at most one of consul SD configuration username and password and basic auth can be configured");
  });

  test("token cannot be combined with authorization or oauth2; empty server, unknown fields and bad values are errors", () => {
    expect(loadError("token: t\nauthorization: {credentials: c}")).toContain("consul_sd_configs[0].token: at most one of consul SD token, authorization, or oauth2 can be configured");
    expect(loadError("token: t\noauth2: {client_id: a, client_secret: b, token_url: 'http://x/t'}")).toContain("at most one of consul SD token, authorization, or oauth2");
    expect(loadError("token: t\nbearer_token: b")).toContain("at most one of consul SD token, authorization, or oauth2");
    expect(loadError("server: ' '")).toContain("consul_sd_configs[0].server: consul SD configuration requires a server address");
    expect(loadError("servr: c:8500")).toContain('consul_sd_configs[0].servr: unknown field (did you mean "server"?)');
    expect(loadError("allow_stale: maybe")).toContain("consul_sd_configs[0].allow_stale");
    expect(loadError("refresh_interval: soon")).toContain("consul_sd_configs[0].refresh_interval");
    expect(loadError("scheme: ftp")).toContain('consul_sd_configs[0].scheme: unknown scheme "ftp"');
    expect(loadError("server: unix:///tmp/consul.sock")).toContain('consul_sd_configs[0].server: unknown protocol scheme "unix"');
    expect(load("server: https://c.example:8501").scrape_configs[0]!.service_discovery[0]!.config).toMatchObject({ server: "c.example:8501", scheme: "https" });
  });

  test("every __meta_consul_* label: tags joined with the separator and one at both ends, metadata keys sanitised", () => {
    const g = serviceGroup("web", "dc1", [
      {
        Node: { Node: "n1", Address: "10.0.0.1", Meta: { "rack-id": "r1" }, TaggedAddresses: { lan: "10.0.0.1", "wan.ipv4": "1.2.3.4" } },
        Service: { ID: "web-1", Tags: ["a", "b"], Address: "", Port: 80, Meta: { "ver.sion": "2" }, Namespace: "ns1", Partition: "p1" },
        Checks: [{ CheckID: "serfHealth", Status: "passing" }, { CheckID: "web", Status: "warning" }],
      },
      { Node: { Node: "n2", Address: "10.0.0.2" }, Service: { ID: "web-2", Tags: [], Address: "::1", Port: 81 }, Checks: [] },
    ], "|");
    expect(g).toEqual({
      source: "web",
      labels: { __meta_consul_service: "web", __meta_consul_dc: "dc1" },
      targets: [
        {
          __address__: "10.0.0.1:80",
          __meta_consul_address: "10.0.0.1",
          __meta_consul_node: "n1",
          __meta_consul_namespace: "ns1",
          __meta_consul_partition: "p1",
          __meta_consul_tags: "|a|b|",
          __meta_consul_service_address: "",
          __meta_consul_service_port: "80",
          __meta_consul_service_id: "web-1",
          __meta_consul_health: "warning",
          __meta_consul_metadata_rack_id: "r1",
          __meta_consul_service_metadata_ver_sion: "2",
          __meta_consul_tagged_address_lan: "10.0.0.1",
          __meta_consul_tagged_address_wan_ipv4: "1.2.3.4",
        },
        {
          __address__: "[::1]:81",
          __meta_consul_address: "10.0.0.2",
          __meta_consul_node: "n2",
          __meta_consul_namespace: "",
          __meta_consul_partition: "",
          __meta_consul_tags: "||",
          __meta_consul_service_address: "::1",
          __meta_consul_service_port: "81",
          __meta_consul_service_id: "web-2",
          __meta_consul_health: "passing",
        },
      ],
    });
  });

  test("the health status aggregates as Consul's client does: maintenance, then critical, warning, passing", () => {
    expect(aggregatedStatus([{ Status: "passing" }, { CheckID: "_node_maintenance", Status: "critical" }])).toBe("maintenance");
    expect(aggregatedStatus([{ CheckID: "_service_maintenance:web", Status: "passing" }])).toBe("maintenance");
    expect(aggregatedStatus([{ Status: "passing" }, { Status: "critical" }, { Status: "warning" }])).toBe("critical");
    expect(aggregatedStatus([{ Status: "bogus" }, { Status: "critical" }])).toBe("");
    expect(aggregatedStatus([])).toBe("passing");
  });

  test("the catalog and each service are watched with blocking queries carrying Prometheus's exact parameters and the token header", async () => {
    const fake = new FakeConsul();
    fake.set({ web: [{ node: "n1", address: "10.0.0.1", port: 80, tags: ["prod", "v1"] }], db: [{ node: "n9", address: "10.0.0.9", port: 5432, tags: ["prod"] }], other: instances(["10.0.0.7:1"]) }, { web: ["prod", "v1"], db: ["prod"], other: [] });
    const config = plugin.parseConfig({ server: fake.address, path_prefix: "/consul", token: "s3cr3t", datacenter: "dc9", namespace: "team", partition: "part", tags: ["prod"], node_meta: { rack: "r1" }, filter: 'ServiceTags contains "prod"', health_filter: 'Service.Port > 0', allow_stale: "true", refresh_interval: "10s" }, testConfigContext());
    // The fake serves no prefix: serve it through a prefix-stripping view.
    const inner = fake.server;
    const proxy = Bun.serve({ port: 0, hostname: "127.0.0.1", idleTimeout: 0, fetch: (req) => {
      const u = new URL(req.url);
      expect(u.pathname.startsWith("/consul/")).toBe(true);
      return fetch(`http://127.0.0.1:${inner.port}${u.pathname.slice("/consul".length)}${u.search}`, { headers: req.headers, signal: req.signal });
    } });
    const h = new Harness(plugin, { ...config, server: `127.0.0.1:${proxy.port}` });
    try {
      await h.until(() => h.addresses().length === 2, 10);
      expect(h.addresses()).toEqual(["10.0.0.1:80", "10.0.0.9:5432"]);
      expect(h.state.get("web")!.labels).toEqual({ __meta_consul_service: "web", __meta_consul_dc: "dc9" });
      const tail = "&node-meta=rack%3Ar1&ns=team&partition=part&stale=&tag=prod&wait=120000ms";
      // No agent/self: the datacenter is configured.
      expect(fake.paths().slice(0, 3).sort()).toEqual([
        "/v1/catalog/services?dc=dc9&filter=ServiceTags+contains+%22prod%22&node-meta=rack%3Ar1&ns=team&partition=part&stale=&wait=120000ms",
        `/v1/health/service/db?dc=dc9&filter=Service.Port+%3E+0${tail}`,
        `/v1/health/service/web?dc=dc9&filter=Service.Port+%3E+0${tail}`,
      ]);
      for (const r of fake.requests) expect(r.headers.get("X-Consul-Token")).toBe("s3cr3t");
      // The next round is a blocking query at the index each answer carried.
      await h.clock.advance(10_000);
      await h.until(() => fake.requests.length >= 6, 10);
      const second = fake.requests.slice(3).map((r) => `${r.path} index=${r.params.get("index")}`).sort();
      expect(second).toEqual(["/v1/catalog/services index=11", "/v1/health/service/db index=11", "/v1/health/service/web index=11"]);
      // A change to one service answers its held query at once.
      fake.set({ web: [{ node: "n1", address: "10.0.0.1", port: 80, tags: ["prod"] }, { node: "n2", address: "10.0.0.2", port: 80, tags: ["prod"] }], db: [{ node: "n9", address: "10.0.0.9", port: 5432, tags: ["prod"] }], other: instances(["10.0.0.7:1"]) }, { web: ["prod", "v1"], db: ["prod"], other: [] });
      await h.until(() => h.addresses().length === 3, 10);
      // A service that leaves the catalog deletes its group, and its watch stops.
      fake.set({ web: [{ node: "n1", address: "10.0.0.1", port: 80, tags: ["prod"] }], other: instances(["10.0.0.7:1"]) }, { web: ["prod"], other: [] });
      await h.until(() => !h.state.has("db"), 1_000);
      expect(h.addresses()).toEqual(["10.0.0.1:80"]);
      expect(h.errors).toEqual([]);
    } finally {
      await h.stop();
      proxy.stop(true);
      fake.stop();
    }
  });

  test("without a datacenter the agent is asked once; a fixed service list skips the catalog", async () => {
    const fake = new FakeConsul();
    fake.set({ a: instances(["10.1.0.1:9100"]), b: instances(["10.1.0.2:9100"]), c: instances(["10.1.0.3:9100"]) });
    const h = new Harness(plugin, plugin.parseConfig({ server: fake.address, services: ["a", "b"], allow_stale: "false" }, testConfigContext()));
    try {
      await h.until(() => h.emits > 0, 10);
      expect(h.emits).toBe(1);
      expect(h.addresses()).toEqual(["10.1.0.1:9100", "10.1.0.2:9100"]);
      expect(h.state.get("a")!.labels.__meta_consul_dc).toBe("dc1");
      expect(fake.paths()[0]).toBe("/v1/agent/self");
      expect(fake.paths().slice(1, 3).sort()).toEqual(["/v1/health/service/a?wait=120000ms", "/v1/health/service/b?wait=120000ms"]);
      expect(fake.requests.some((r) => r.path === "/v1/catalog/services")).toBe(false);
      expect(fake.requests[0]!.headers.has("X-Consul-Token")).toBe(false);
      await h.clock.advance(30_000);
      await h.until(() => fake.requests.length >= 5, 10);
      expect(fake.paths().filter((p) => p === "/v1/agent/self").length).toBe(1);
    } finally {
      await h.stop();
      fake.stop();
    }
  });

  test("an agent that cannot tell its datacenter is asked again after 15s; nothing is sent meanwhile", async () => {
    const fake = new FakeConsul();
    fake.set({ a: instances(["10.1.0.1:9100"]) });
    fake.broken = "500";
    const h = new Harness(plugin, plugin.parseConfig({ server: fake.address }, testConfigContext()));
    try {
      await h.until(() => h.errors.length > 0, 10);
      expect(h.errors[0]).toContain("Error retrieving datacenter name from Consul");
      expect(h.errors[0]).toContain("/v1/agent/self: unexpected response code 500");
      fake.broken = null;
      await h.clock.advance(14_000);
      await Bun.sleep(20);
      expect(fake.paths()).toEqual(["/v1/agent/self"]);
      expect(h.emits).toBe(0);
      await h.until(() => h.addresses().length === 1, 1_000);
      expect(fake.paths().slice(0, 3)).toEqual(["/v1/agent/self", "/v1/agent/self", "/v1/catalog/services?stale=&wait=120000ms"]);
    } finally {
      await h.stop();
      fake.stop();
    }
  });

  test("filter goes to the catalog only (and forces the catalog watch); health_filter goes to the health endpoint only", async () => {
    const fake = new FakeConsul();
    fake.set({ a: instances(["10.1.0.1:9100"]), b: instances(["10.1.0.2:9100"]) });
    const withFilter = new Harness(plugin, plugin.parseConfig({ server: fake.address, datacenter: "dc1", services: ["a"], filter: "ServiceName == a" }, testConfigContext()));
    try {
      await withFilter.until(() => withFilter.addresses().length === 1, 10);
      expect(fake.paths().slice(0, 2)).toEqual(["/v1/catalog/services?dc=dc1&filter=ServiceName+%3D%3D+a&stale=&wait=120000ms", "/v1/health/service/a?dc=dc1&stale=&wait=120000ms"]);
    } finally {
      await withFilter.stop();
    }
    fake.requests.length = 0;
    const withHealthFilter = new Harness(plugin, plugin.parseConfig({ server: fake.address, datacenter: "dc1", services: ["a"], health_filter: 'Checks.Status == "passing"' }, testConfigContext()));
    try {
      await withHealthFilter.until(() => withHealthFilter.addresses().length === 1, 10);
      expect(fake.paths()).toEqual(["/v1/health/service/a?dc=dc1&filter=Checks.Status+%3D%3D+%22passing%22&stale=&wait=120000ms"]);
    } finally {
      await withHealthFilter.stop();
      fake.stop();
    }
  });

  test("no matching service sends an empty group with an empty source", async () => {
    const fake = new FakeConsul();
    fake.set({ web: instances(["10.0.0.1:80"]) }, { web: ["dev"] });
    const h = new Harness(plugin, plugin.parseConfig({ server: fake.address, datacenter: "dc1", tags: ["prod"] }, testConfigContext()));
    try {
      await h.until(() => h.emits > 0, 10);
      expect(h.addresses()).toEqual([]);
      expect(fake.requests.filter((r) => r.path.startsWith("/v1/health/")).length).toBe(0);
    } finally {
      await h.stop();
      fake.stop();
    }
  });

  test("a 500, bad JSON and the server going away mid-query keep the targets, log the error and recover", async () => {
    const fake = new FakeConsul();
    fake.set({ web: instances(["10.0.0.1:80"]) });
    const h = new Harness(plugin, plugin.parseConfig({ server: fake.address, datacenter: "dc1", refresh_interval: "30s" }, testConfigContext()));
    try {
      await h.until(() => h.addresses().length === 1, 10);
      // Both watches are now held in blocking queries; the server goes away under them.
      await h.clock.advance(30_000);
      await h.until(() => fake.requests.length >= 4, 10);
      await fake.restart();
      await h.until(() => h.errors.length >= 1, 10);
      expect(h.errors.join("\n")).toMatch(/Error refreshing Consul service.*server=127\.0\.0\.1:/);
      expect(h.addresses()).toEqual(["10.0.0.1:80"]);
      // Bad JSON.
      fake.broken = "json";
      fake.set({ web: instances(["10.0.0.2:80"]) });
      const errs = h.errors.length;
      await h.until(() => h.errors.length > errs, 5_000);
      expect(h.errors.join("\n")).toContain("invalid JSON");
      expect(h.addresses()).toEqual(["10.0.0.1:80"]);
      // A 500.
      fake.broken = "500";
      const errs2 = h.errors.length;
      await h.until(() => h.errors.length > errs2, 5_000);
      expect(h.errors.join("\n")).toContain("unexpected response code 500 (rpc error: No cluster leader)");
      expect(h.addresses()).toEqual(["10.0.0.1:80"]);
      // An answer without its index.
      fake.broken = "noindex";
      fake.wake();
      const errs3 = h.errors.length;
      await h.until(() => h.errors.length > errs3, 5_000);
      expect(h.errors.join("\n")).toContain("the response has no X-Consul-Index header");
      expect(h.addresses()).toEqual(["10.0.0.1:80"]);
      // Recovery.
      fake.broken = null;
      await h.until(() => h.addresses().join() === "10.0.0.2:80", 5_000);
    } finally {
      await h.stop();
      fake.stop();
    }
  });

  test("a blocking query that times out with the same index sends nothing", async () => {
    const fake = new FakeConsul();
    fake.maxWaitMs = 50;
    fake.set({ web: instances(["10.0.0.1:80"]) });
    const h = new Harness(plugin, plugin.parseConfig({ server: fake.address, datacenter: "dc1", services: ["web"], refresh_interval: "1s" }, testConfigContext()));
    try {
      await h.until(() => h.emits === 1, 10);
      await h.until(() => fake.requests.length >= 4, 1_000);
      expect(h.emits).toBe(1);
      expect(fake.requests.slice(1).every((r) => r.params.get("index") === "11")).toBe(true);
    } finally {
      await h.stop();
      fake.stop();
    }
  });
});
