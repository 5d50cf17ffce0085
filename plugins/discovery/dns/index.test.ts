/**
 * Runs against a real DNS server: Debian's dnsmasq, started on a loopback port with the
 * records each test writes (a record change restarts it). Without dnsmasq the tests skip
 * and say what to install, except under CI=true, where that is a failure.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Resolver } from "node:dns/promises";
import { parseConfig } from "../../../core/config/load.ts";
import { discoveryConformance, sdConfigLoader, Harness, testConfigContext, type ConformanceTest } from "../../../test/conformance/discovery.case.ts";
import { freePort, missingPeers } from "../../../test/support/peers.ts";
import defaultPlugin, { createDnsPlugin, nameList, parseResolvConf } from "./index.ts";

const DNSMASQ = { binary: "/usr/sbin/dnsmasq", pkg: "dnsmasq" };
const missing = await missingPeers(DNSMASQ);

/** dnsmasq options for one zone state: `--local` domains answer NXDOMAIN for unknown names. */
const rr = {
  local: (domain: string) => `--local=/${domain}/`,
  srv: (name: string, target: string, port: number, priority = 1) => `--srv-host=${name},${target},${port},${priority},1`,
  /** At most one IPv4 and one IPv6 address per record; repeat it for more. */
  host: (name: string, ...ips: string[]) => `--host-record=${name},${ips.join(",")}`,
  mx: (name: string, target: string) => `--mx-host=${name},${target},10`,
  cname: (name: string, target: string) => `--cname=${name},${target}`,
  /** NS has no dnsmasq shorthand: a raw record (type 2) with the wire-format name. */
  ns: (name: string, target: string) => {
    const wire = [...target.replace(/\.$/, "").split(".").flatMap((l) => [l.length, ...Buffer.from(l)]), 0];
    return `--dns-rr=${name},2,${Buffer.from(wire).toString("hex")}`;
  },
};

/** A dnsmasq on 127.0.0.1:port serving exactly the given records. */
class Dnsmasq {
  #proc: ReturnType<typeof Bun.spawn> | null = null;
  private constructor(readonly port: number) {}

  static async start(records: string[]): Promise<Dnsmasq> {
    const d = new Dnsmasq(await freePort());
    await d.serve(records);
    return d;
  }

  get server(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Replaces the records (a restart on the same port), returning once it answers. */
  async serve(records: string[]): Promise<void> {
    await this.stop();
    const args = ["--no-daemon", `--port=${this.port}`, "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--cache-size=0"];
    const proc = Bun.spawn([DNSMASQ.binary, ...args, rr.host("ready.gleaner.invalid", "127.0.0.1"), ...records], { stdout: "ignore", stderr: "pipe" });
    this.#proc = proc;
    // dnsmasq logs "started" once its sockets are bound: waiting for that beats polling
    // (a query sent too early costs c-ares's minimum timeout, about 250 ms).
    const reader = proc.stderr.getReader();
    let log = "";
    while (!log.includes("started")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`dnsmasq exited before starting: ${log}`);
      log += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    const r = new Resolver({ timeout: 100, tries: 3 });
    r.setServers([this.server]);
    await r.resolve4("ready.gleaner.invalid");
  }

  async stop(): Promise<void> {
    const p = this.#proc;
    this.#proc = null;
    if (p === null) return;
    p.kill("SIGTERM");
    await p.exited;
  }
}

const skipAll = missing === null ? undefined : Object.fromEntries((["full set first", "changes", "deletions", "errors keep targets", "recovery", "abort"] as ConformanceTest[]).map((t) => [t, missing]));

/** Conformance: one SRV name per group; names beyond the groups answer NXDOMAIN (an empty group). */
discoveryConformance({
  name: "dns",
  plugin: createDnsPlugin({ search: [], timeoutMs: 300, attempts: 1 }),
  async setup() {
    const names = [0, 1, 2].map((i) => `_g${i}._tcp.example.test`);
    let groups: string[][] = [];
    const records = () => [
      rr.local("example.test"),
      ...groups.flatMap((targets, i) => targets.map((t) => {
        const [host, port] = t.split(":");
        return rr.srv(names[i]!, host!, Number(port));
      })),
    ];
    const dns = await Dnsmasq.start(records());
    // The seam the conformance harness cannot pass: point this case's plugin at dnsmasq.
    process.env.GLEANER_DNS_SERVERS = dns.server;
    return {
      rawConfig: { names, refresh_interval: "30s" },
      setTargets: async (g) => {
        groups = g;
        await dns.serve(records());
      },
      // No --local domain and no upstream: dnsmasq answers REFUSED, a lookup failure.
      breakSource: () => dns.serve([]),
      restoreSource: () => dns.serve(records()),
      close: async () => {
        delete process.env.GLEANER_DNS_SERVERS;
        await dns.stop();
      },
    };
  },
  refreshMs: 30_000,
  ...(skipAll === undefined ? {} : { skip: skipAll }),
});

const config = (raw: Record<string, unknown>) => defaultPlugin.parseConfig(raw, testConfigContext());

describe.skipIf(missing !== null)("dns_sd_configs against dnsmasq", () => {
  const running: Dnsmasq[] = [];
  const start = async (records: string[]) => {
    const d = await Dnsmasq.start(records);
    running.push(d);
    return { dns: d, plugin: createDnsPlugin({ servers: [d.server], search: [], timeoutMs: 300, attempts: 1 }) };
  };
  afterAll(async () => {
    for (const d of running) await d.stop();
  });

  test("SRV targets are target:port without the trailing dot; the meta labels keep it; the source is the name", async () => {
    const { plugin } = await start([rr.local("example.test"), rr.srv("_node._tcp.example.test", "a.example.test", 9100), rr.srv("_node._tcp.example.test", "b.example.test", 9200, 2)]);
    const h = new Harness(plugin, config({ names: ["_node._tcp.example.test"] }));
    await h.until(() => h.emits > 0, 10);
    await h.stop();
    const g = h.state.get("_node._tcp.example.test")!;
    expect(g.labels).toEqual({});
    expect(g.targets.sort((a, b) => a.__address__!.localeCompare(b.__address__!))).toEqual([
      { __address__: "a.example.test:9100", __meta_dns_name: "_node._tcp.example.test", __meta_dns_srv_record_target: "a.example.test.", __meta_dns_srv_record_port: "9100" },
      { __address__: "b.example.test:9200", __meta_dns_name: "_node._tcp.example.test", __meta_dns_srv_record_target: "b.example.test.", __meta_dns_srv_record_port: "9200" },
    ]);
  });

  test("A and AAAA targets are the address plus the configured port, IPv6 bracketed; a CNAME gives its target's addresses; type is case-insensitive", async () => {
    const { plugin } = await start([rr.local("example.test"), rr.host("h.example.test", "10.0.0.1", "fd00::1"), rr.host("h.example.test", "10.0.0.2"), rr.cname("alias.example.test", "h.example.test")]);
    const a = new Harness(plugin, config({ names: ["h.example.test", "alias.example.test"], type: "a", port: "9100" }));
    await a.until(() => a.state.size === 2, 10);
    await a.stop();
    expect(a.state.get("h.example.test")!.targets).toEqual(
      expect.arrayContaining([{ __address__: "10.0.0.1:9100", __meta_dns_name: "h.example.test" }, { __address__: "10.0.0.2:9100", __meta_dns_name: "h.example.test" }]),
    );
    expect(a.state.get("alias.example.test")!.targets.map((t) => t.__address__).sort()).toEqual(["10.0.0.1:9100", "10.0.0.2:9100"]);
    const aaaa = new Harness(plugin, config({ names: ["h.example.test"], type: "AAAA", port: "9100" }));
    await aaaa.until(() => aaaa.emits > 0, 10);
    await aaaa.stop();
    expect(aaaa.state.get("h.example.test")!.targets).toEqual([{ __address__: "[fd00::1]:9100", __meta_dns_name: "h.example.test" }]);
  });

  test("MX and NS targets are the host plus the configured port; the record target labels keep the trailing dot", async () => {
    const { plugin } = await start([rr.local("example.test"), rr.mx("example.test", "mail.example.test"), rr.ns("example.test", "ns1.example.test")]);
    const mx = new Harness(plugin, config({ names: ["example.test"], type: "MX", port: "25" }));
    const ns = new Harness(plugin, config({ names: ["example.test"], type: "ns", port: "53" }));
    await mx.until(() => mx.emits > 0, 10);
    await ns.until(() => ns.emits > 0, 10);
    await mx.stop();
    await ns.stop();
    expect(mx.state.get("example.test")!.targets).toEqual([{ __address__: "mail.example.test:25", __meta_dns_name: "example.test", __meta_dns_mx_record_target: "mail.example.test." }]);
    expect(ns.state.get("example.test")!.targets).toEqual([{ __address__: "ns1.example.test:53", __meta_dns_name: "example.test", __meta_dns_ns_record_target: "ns1.example.test." }]);
  });

  test("NXDOMAIN empties a name's group; a name that fails otherwise keeps its previous group, logged with the name", async () => {
    const both = [rr.local("example.test"), rr.local("other.test"), rr.srv("_a._tcp.example.test", "a", 1), rr.srv("_b._tcp.other.test", "b", 1)];
    const { dns, plugin } = await start(both);
    const h = new Harness(plugin, config({ names: ["_a._tcp.example.test", "_b._tcp.other.test"] }));
    await h.until(() => h.addresses().join() === "a:1,b:1", 10);
    // other.test is no longer local and there is no upstream: REFUSED for _b; _a changes.
    await dns.serve([rr.local("example.test"), rr.srv("_a._tcp.example.test", "a2", 1)]);
    await h.until(() => h.addresses().join() === "a2:1,b:1", 30_000);
    expect(h.errors.join("\n")).toContain('could not resolve \\"_b._tcp.other.test\\" (SRV)');
    // _a gone from its zone (NXDOMAIN): its group empties; _b is back.
    await dns.serve([rr.local("example.test"), rr.local("other.test"), rr.srv("_b._tcp.other.test", "b2", 1)]);
    await h.until(() => h.addresses().join() === "b2:1", 30_000);
    expect([...h.state.keys()]).toEqual(["_b._tcp.other.test"]);
    await h.stop();
  });

  test("a server that does not answer is a refresh error naming the names; the targets stay until it answers again", async () => {
    const records = [rr.local("example.test"), rr.srv("_a._tcp.example.test", "a", 1)];
    const { dns, plugin } = await start(records);
    const h = new Harness(plugin, config({ names: ["_a._tcp.example.test"] }));
    await h.until(() => h.addresses().length === 1, 10);
    await dns.stop();
    await h.until(() => h.errors.length > 0, 30_000);
    expect(h.errors[0]).toContain('DNS-SD lookups failed: could not resolve "_a._tcp.example.test" (SRV)');
    expect(h.addresses()).toEqual(["a:1"]);
    await dns.serve([rr.local("example.test"), rr.srv("_a._tcp.example.test", "z", 1)]);
    await h.until(() => h.addresses().join() === "z:1", 30_000);
    await h.stop();
  });

  test("an answer too big for UDP arrives whole (the resolver retries over TCP)", async () => {
    const targets = Array.from({ length: 80 }, (_, i) => `target-with-a-long-name-${i}.example.test`);
    const { plugin } = await start([rr.local("example.test"), ...targets.map((t) => rr.srv("_big._tcp.example.test", t, 9100))]);
    const h = new Harness(plugin, config({ names: ["_big._tcp.example.test"] }));
    await h.until(() => h.emits > 0, 10);
    await h.stop();
    expect(h.addresses()).toEqual(targets.map((t) => `${t}:9100`).sort());
  });

  test("names are tried through the search list; __meta_dns_name and the source stay the configured name", async () => {
    const d = await Dnsmasq.start([rr.local("example.test"), rr.local("svc.test"), rr.srv("_x._tcp.svc.test", "x", 1)]);
    running.push(d);
    const plugin = createDnsPlugin({ servers: [d.server], search: ["example.test", "svc.test"], ndots: 5, timeoutMs: 300, attempts: 1 });
    const h = new Harness(plugin, config({ names: ["_x._tcp"] }));
    await h.until(() => h.emits > 0, 10);
    await h.stop();
    expect([...h.state.values()]).toEqual([
      { source: "_x._tcp", labels: {}, targets: [{ __address__: "x:1", __meta_dns_name: "_x._tcp", __meta_dns_srv_record_target: "x.", __meta_dns_srv_record_port: "1" }] },
    ]);
  });

  test("GLEANER_DNS_SERVERS points the default plugin at other servers", async () => {
    const { dns } = await start([rr.local("example.test"), rr.srv("_e._tcp.example.test", "e", 1)]);
    process.env.GLEANER_DNS_SERVERS = dns.server;
    try {
      const h = new Harness(defaultPlugin, config({ names: ["_e._tcp.example.test."] }));
      await h.until(() => h.addresses().length === 1, 10);
      await h.stop();
      expect(h.addresses()).toEqual(["e:1"]);
    } finally {
      delete process.env.GLEANER_DNS_SERVERS;
    }
  });
});

describe("dns_sd_configs", () => {
  test("nameList() tries the name first when it has more than ndots dots, after the search domains otherwise", () => {
    expect(nameList("a.b.c", ["x.org", "y.org."], 1)).toEqual(["a.b.c.", "a.b.c.x.org.", "a.b.c.y.org."]);
    expect(nameList("host", ["x.org"], 1)).toEqual(["host.x.org.", "host."]);
    expect(nameList("a.b.c.", ["x.org"], 1)).toEqual(["a.b.c."]);
  });

  test("parseResolvConf() reads nameservers, search (or domain), ndots, timeout and attempts", () => {
    expect(parseResolvConf("# c\nnameserver 10.0.0.1\nnameserver ::1\ndomain d.org\nsearch a.org b.org\noptions ndots:3 timeout:2 attempts:4 rotate\n")).toEqual({
      servers: ["10.0.0.1", "::1"], search: ["a.org", "b.org"], ndots: 3, timeoutMs: 2_000, attempts: 4,
    });
    expect(parseResolvConf("")).toEqual({ servers: [], search: [], ndots: 1, timeoutMs: 5_000, attempts: 2 });
  });

  test("config: names required; type SRV by default, case-insensitive, one of five; port required except for SRV; refresh_interval 30s", () => {
    const { load, loadError: fail } = sdConfigLoader(defaultPlugin);
    expect(fail("names: []")).toContain("scrape_configs[0].dns_sd_configs[0].names: DNS-SD config must contain at least one SRV record name");
    expect(fail("{names: [a], type: TXT}")).toContain("scrape_configs[0].dns_sd_configs[0].type: invalid DNS-SD records type TXT");
    expect(fail("{names: [a], type: A}")).toContain("scrape_configs[0].dns_sd_configs[0].port: a port is required in DNS-SD configs for all record types except SRV");
    expect(fail("{names: [a], type: mx, port: 70000}")).toContain("scrape_configs[0].dns_sd_configs[0].port: port 70000 is out of range");
    expect(fail("{names: [a], port: x}")).toContain("scrape_configs[0].dns_sd_configs[0].port");
    expect(fail("{names: [a], nmes: [b]}")).toContain("scrape_configs[0].dns_sd_configs[0].nmes: unknown field");
    const sd = (entry: string) => load(entry).scrape_configs[0]!.service_discovery[0]!.config;
    expect(sd("names: [_x._tcp.example.org]")).toEqual({ names: ["_x._tcp.example.org"], type: "SRV", port: 0, refresh_interval: 30_000 });
    expect(sd("{names: [a, b], type: aaaa, port: 9100, refresh_interval: 1m}")).toEqual({ names: ["a", "b"], type: "AAAA", port: 9100, refresh_interval: 60_000 });
  });
});
