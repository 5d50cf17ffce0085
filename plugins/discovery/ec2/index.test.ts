import { afterEach, describe, expect, test } from "bun:test";
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../../core/config/load.ts";
import { discoveryConformance, sdConfigLoader, Harness, testConfigContext } from "../../../test/conformance/discovery.case.ts";
import { baseCredentials, credentialsFromIni, defaultRegion } from "./aws.ts";
import plugin from "./index.ts";
import { parseXml, textAt } from "./xml.ts";

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const hmac = (k: string | Buffer, s: string) => createHmac("sha256", k).update(s, "utf8").digest();
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

interface FakeInstance {
  id: string;
  privateIp?: string;
  ipv6?: string;
  xml?: string;
}

interface Recorded {
  method: string;
  path: string;
  search: string;
  body: string;
  params: Array<[string, string]>;
  headers: Headers;
}

/**
 * A loopback EC2 (and STS) query API. Every request's SigV4 Authorization header is checked
 * by recomputing the signature here from what arrived (method, path, query, the signed
 * headers, the body's hash) with the secret of the access key it names: an unknown key is
 * AuthFailure (401), a wrong signature SignatureDoesNotMatch (403), as EC2 answers.
 */
class FakeEC2 {
  /** access key → secret (and the session token temporary keys need). */
  readonly keys = new Map<string, { secret: string; token?: string }>([["AKIDTEST", { secret: "test-secret/K7MDENG" }]]);
  /** Reservations per page; each page's XML is built from its instances. */
  pages: Array<Array<{ owner: string; instances: FakeInstance[] }>> = [[]];
  readonly requests: Recorded[] = [];
  broken: "500" | "xml" | "loop" | null = null;
  region = "us-east-1";
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => this.#handle(req) });

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  #error(status: number, code: string, message: string, sts = false): Response {
    const body = sts
      ? `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${esc(message)}</Message></Error><RequestId>r</RequestId></ErrorResponse>`
      : `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>r</RequestID></Response>`;
    return new Response(body, { status, headers: { "Content-Type": "text/xml;charset=UTF-8" } });
  }

  /** null when the request is signed right for `service`, else the error answer. */
  #verify(req: Request, url: URL, body: string, service: string): Response | null {
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(req.headers.get("authorization") ?? "");
    if (m === null) return this.#error(400, "IncompleteSignature", "Authorization header is malformed");
    const [, id, day, region, svc, signed, signature] = m as unknown as [string, string, string, string, string, string, string];
    const key = this.keys.get(id);
    if (key === undefined) return this.#error(401, "AuthFailure", "AWS was not able to validate the provided access credentials");
    const names = signed.split(";");
    const date = req.headers.get("x-amz-date") ?? "";
    if (!names.includes("host") || !names.includes("x-amz-date") || !date.startsWith(day) || region !== this.region || svc !== service) return this.#error(403, "SignatureDoesNotMatch", "bad scope");
    if (key.token !== undefined && (req.headers.get("x-amz-security-token") !== key.token || !names.includes("x-amz-security-token"))) return this.#error(401, "AuthFailure", "session token missing");
    const query = [...url.searchParams].map(([k, v]) => `${enc(k)}=${enc(v)}`).sort().join("&");
    const canonical = [req.method, url.pathname, query, names.map((n) => `${n}:${(req.headers.get(n) ?? "").trim()}\n`).join(""), signed, sha256(body)].join("\n");
    const toSign = ["AWS4-HMAC-SHA256", date, `${day}/${region}/${svc}/aws4_request`, sha256(canonical)].join("\n");
    const k = hmac(hmac(hmac(hmac(`AWS4${key.secret}`, day), region), svc), "aws4_request");
    if (hmac(k, toSign).toString("hex") !== signature) return this.#error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.");
    return null;
  }

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const body = await req.text();
    const params = [...new URLSearchParams(body)];
    this.requests.push({ method: req.method, path: url.pathname, search: url.search, body, params, headers: req.headers });
    if (this.broken === "500") return new Response("We encountered an internal error. Please try again.", { status: 500 });
    const action = new URLSearchParams(body).get("Action");
    if (req.method !== "POST" || req.headers.get("content-type") !== "application/x-www-form-urlencoded; charset=utf-8") return this.#error(400, "InvalidRequest", "expected a form POST");
    if (action === "AssumeRole") {
      const bad = this.#verify(req, url, body, "sts");
      if (bad !== null) return bad;
      this.keys.set("ASIATEMP", { secret: "temp-secret", token: "TEMP-TOKEN" });
      return new Response(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>ASIATEMP</AccessKeyId><SecretAccessKey>temp-secret</SecretAccessKey><SessionToken>TEMP-TOKEN</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`);
    }
    const bad = this.#verify(req, url, body, "ec2");
    if (bad !== null) return bad;
    if (action === "DescribeAvailabilityZones") {
      return new Response(`<DescribeAvailabilityZonesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><availabilityZoneInfo><item><zoneName>us-east-1a</zoneName><zoneId>use1-az6</zoneId><zoneState>available</zoneState></item><item><zoneName>us-east-1b</zoneName><zoneId>use1-az1</zoneId></item></availabilityZoneInfo></DescribeAvailabilityZonesResponse>`);
    }
    if (action !== "DescribeInstances") return this.#error(400, "InvalidAction", `unknown action ${action}`);
    const token = new URLSearchParams(body).get("NextToken");
    const page = token === null ? 0 : Number(token.replace("page-", ""));
    const reservations = this.pages[page] ?? [];
    let next = page + 1 < this.pages.length ? `page-${page + 1}` : "";
    if (this.broken === "loop" && next === "") next = "page-1";
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>8f7724cf-496f-496e-8fe3-example</requestId>
    <reservationSet>${reservations.map((r, i) => `
        <item>
            <reservationId>r-${page}${i}</reservationId>
            <ownerId>${r.owner}</ownerId>
            <groupSet/>
            <instancesSet>${r.instances.map((inst) => `
                <item>
                    <instanceId>${inst.id}</instanceId>
                    <imageId>ami-0abcdef</imageId>
                    <instanceState><code>16</code><name>running</name></instanceState>
                    <instanceType>t3.micro</instanceType>
                    <placement><availabilityZone>us-east-1a</availabilityZone><tenancy>default</tenancy></placement>
                    ${inst.privateIp === undefined ? "" : `<privateIpAddress>${inst.privateIp}</privateIpAddress>`}
                    ${inst.ipv6 === undefined ? "" : `<ipv6Address>${inst.ipv6}</ipv6Address>`}
                    ${inst.xml ?? ""}
                </item>`).join("")}
            </instancesSet>
        </item>`).join("")}
    </reservationSet>${next === "" ? "" : `
    <nextToken>${next}</nextToken>`}
</DescribeInstancesResponse>`;
    return new Response(this.broken === "xml" ? xml.slice(0, xml.length / 2) : xml, { headers: { "Content-Type": "text/xml;charset=UTF-8" } });
  }

  describeInstances(): Recorded[] {
    return this.requests.filter((r) => r.params.some(([k, v]) => k === "Action" && v === "DescribeInstances"));
  }

  stop(): void {
    this.server.stop(true);
  }
}

const baseConfig = (fake: FakeEC2, extra: Record<string, unknown> = {}) => ({ region: "us-east-1", endpoint: fake.url, access_key: "AKIDTEST", secret_key: "test-secret/K7MDENG", ...extra });

discoveryConformance({
  name: "ec2",
  plugin,
  async setup() {
    const fake = new FakeEC2();
    return {
      // The conformance addresses all use port 1; the private IP is the host part.
      rawConfig: baseConfig(fake, { port: "1", refresh_interval: "1m" }),
      // One page per group, so pagination is exercised too.
      setTargets: async (groups) => {
        fake.pages = groups.length === 0 ? [[]] : groups.map((g, p) => [{ owner: "1", instances: g.map((a, i) => ({ id: `i-${p}${i}`, privateIp: a.split(":")[0]! })) }]);
      },
      breakSource: async () => {
        fake.broken = "500";
      },
      restoreSource: async () => {
        fake.broken = null;
      },
      close: async () => fake.stop(),
    };
  },
  refreshMs: 60_000,
});

const { load, loadError } = sdConfigLoader(plugin);

const savedEnv = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

const RICH = `
  <privateDnsName>ip-10-0-0-1.ec2.internal</privateDnsName>
  <dnsName>ec2-54-1-2-3.compute-1.amazonaws.com</dnsName>
  <ipAddress>54.1.2.3</ipAddress>
  <platform>windows</platform>
  <architecture>x86_64</architecture>
  <instanceLifecycle>spot</instanceLifecycle>
  <vpcId>vpc-1</vpcId>
  <subnetId>subnet-a</subnetId>
  <networkInterfaceSet>
    <item><subnetId>subnet-a</subnetId><attachment><deviceIndex>0</deviceIndex></attachment>
      <ipv6AddressesSet><item><ipv6Address>2001:db8::1</ipv6Address><isPrimaryIpv6>true</isPrimaryIpv6></item><item><ipv6Address>2001:db8::2</ipv6Address><isPrimaryIpv6>false</isPrimaryIpv6></item></ipv6AddressesSet></item>
    <item><subnetId>subnet-b</subnetId><attachment><deviceIndex>2</deviceIndex></attachment>
      <ipv6AddressesSet><item><ipv6Address>2001:db8::3</ipv6Address><isPrimaryIpv6>true</isPrimaryIpv6></item></ipv6AddressesSet></item>
    <item><subnetId>subnet-a</subnetId><attachment><deviceIndex>1</deviceIndex></attachment></item>
  </networkInterfaceSet>
  <tagSet><item><key>Name</key><value>web &amp; api</value></item><item><key>aws:autoscaling:groupName</key><value>asg-1</value></item></tagSet>`;

describe("ec2_sd_configs", () => {
  test("config defaults are Prometheus's; the HTTP client fields are taken", () => {
    const c = load("region: eu-west-1\nfollow_redirects: false").scrape_configs[0]!.service_discovery[0]!.config as Record<string, unknown>;
    expect(c).toMatchObject({ endpoint: "", region: "eu-west-1", access_key: "", secret_key: "", profile: "", role_arn: "", external_id: "", refresh_interval: 60_000, port: 80, filters: [] });
    expect((c.http as { follow_redirects: boolean }).follow_redirects).toBe(false);
  });

  test("config errors name the field: empty filter values, a lone access key, a bad port, an unknown field", () => {
    expect(loadError("filters: [{name: instance-state-name, values: []}]")).toContain("scrape_configs[0].ec2_sd_configs[0].filters[0].values: EC2 SD configuration filter values cannot be empty");
    expect(loadError("filters: [{name: a}]")).toContain("filters[0].values: EC2 SD configuration filter values cannot be empty");
    expect(loadError("filters: [{values: [x]}]")).toContain("filters[0].name: EC2 SD configuration filter name cannot be empty");
    expect(loadError("access_key: AK")).toContain("ec2_sd_configs[0].secret_key: access_key and secret_key must be set together");
    expect(loadError("port: 70000")).toContain("ec2_sd_configs[0].port: port 70000 is out of range");
    expect(loadError("port: x")).toContain("ec2_sd_configs[0].port");
    expect(loadError("regoin: us-east-1")).toContain('ec2_sd_configs[0].regoin: unknown field (did you mean "region"?)');
    expect(loadError("filters: [{name: a, values: [b], vals: [c]}]")).toContain("vals");
  });

  test("DescribeInstances is a signed form POST with the filters as Filter.N.Name/Value.M, and every NextToken page's instances arrive", async () => {
    const fake = new FakeEC2();
    fake.pages = [
      [{ owner: "111", instances: [{ id: "i-1", privateIp: "10.0.0.1" }] }, { owner: "222", instances: [{ id: "i-2", privateIp: "10.0.0.2" }] }],
      [{ owner: "111", instances: [{ id: "i-3", privateIp: "10.0.0.3" }, { id: "i-gone" }] }],
    ];
    const h = new Harness(plugin, plugin.parseConfig(baseConfig(fake, { port: "9100", filters: [{ name: "tag:Env", values: ["prod", "pre prod"] }, { name: "instance-state-name", values: ["running"] }] }), testConfigContext()));
    try {
      await h.until(() => h.emits > 0, 10);
      expect(h.addresses()).toEqual(["10.0.0.1:9100", "10.0.0.2:9100", "10.0.0.3:9100"]);
      expect([...h.state.keys()]).toEqual(["us-east-1"]);
      const filters = "Filter.1.Name=tag%3AEnv&Filter.1.Value.1=prod&Filter.1.Value.2=pre%20prod&Filter.2.Name=instance-state-name&Filter.2.Value.1=running";
      expect(fake.requests.map((r) => `${r.method} ${r.path}${r.search} ${r.body}`)).toEqual([
        "POST / Action=DescribeAvailabilityZones&Version=2016-11-15",
        `POST / Action=DescribeInstances&Version=2016-11-15&${filters}`,
        `POST / Action=DescribeInstances&Version=2016-11-15&${filters}&NextToken=page-1`,
      ]);
      for (const r of fake.requests) {
        expect(r.headers.get("authorization")).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/20270115\/us-east-1\/ec2\/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$/);
        expect(r.headers.get("x-amz-date")).toBe("20270115T080000Z");
        expect(r.headers.has("x-amz-security-token")).toBe(false);
      }
      // The AZ IDs are read once; each refresh lists the instances again.
      await h.clock.advance(60_000);
      await h.until(() => fake.requests.length === 5, 10);
      expect(fake.requests.filter((r) => r.body.startsWith("Action=DescribeAvailabilityZones")).length).toBe(1);
      expect(h.errors).toEqual([]);
    } finally {
      await h.stop();
      fake.stop();
    }
  });

  test("every __meta_ec2_* label, with the list labels comma-joined and a comma at both ends", async () => {
    const fake = new FakeEC2();
    fake.pages = [[{ owner: "123456789012", instances: [{ id: "i-rich", privateIp: "10.0.0.1", ipv6: "2001:db8::1", xml: RICH }, { id: "i-v6only", ipv6: "2001:db8::9" }, { id: "i-plain", privateIp: "10.0.0.5" }] }]];
    const h = new Harness(plugin, plugin.parseConfig(baseConfig(fake), testConfigContext()));
    try {
      await h.until(() => h.emits > 0, 10);
      const [rich, v6, plain] = h.state.get("us-east-1")!.targets;
      expect(rich).toEqual({
        __address__: "10.0.0.1:80",
        __meta_ec2_instance_id: "i-rich",
        __meta_ec2_region: "us-east-1",
        __meta_ec2_owner_id: "123456789012",
        __meta_ec2_private_ip: "10.0.0.1",
        __meta_ec2_default_ipv6_address: "2001:db8::1",
        __meta_ec2_private_dns_name: "ip-10-0-0-1.ec2.internal",
        __meta_ec2_platform: "windows",
        __meta_ec2_public_ip: "54.1.2.3",
        __meta_ec2_public_dns_name: "ec2-54-1-2-3.compute-1.amazonaws.com",
        __meta_ec2_ami: "ami-0abcdef",
        __meta_ec2_availability_zone: "us-east-1a",
        __meta_ec2_availability_zone_id: "use1-az6",
        __meta_ec2_instance_state: "running",
        __meta_ec2_instance_type: "t3.micro",
        __meta_ec2_instance_lifecycle: "spot",
        __meta_ec2_architecture: "x86_64",
        __meta_ec2_vpc_id: "vpc-1",
        __meta_ec2_primary_subnet_id: "subnet-a",
        __meta_ec2_subnet_id: ",subnet-a,subnet-b,",
        __meta_ec2_ipv6_addresses: ",2001:db8::1,2001:db8::2,2001:db8::3,",
        __meta_ec2_primary_ipv6_addresses: ",2001:db8::1,,2001:db8::3,",
        __meta_ec2_tag_Name: "web & api",
        __meta_ec2_tag_aws_autoscaling_groupName: "asg-1",
      });
      // No private IPv4: the default IPv6 address, bracketed.
      expect(v6!.__address__).toBe("[2001:db8::9]:80");
      expect(v6!.__meta_ec2_private_ip).toBeUndefined();
      expect(plain).toEqual({
        __address__: "10.0.0.5:80",
        __meta_ec2_instance_id: "i-plain",
        __meta_ec2_region: "us-east-1",
        __meta_ec2_owner_id: "123456789012",
        __meta_ec2_private_ip: "10.0.0.5",
        __meta_ec2_ami: "ami-0abcdef",
        __meta_ec2_availability_zone: "us-east-1a",
        __meta_ec2_availability_zone_id: "use1-az6",
        __meta_ec2_instance_state: "running",
        __meta_ec2_instance_type: "t3.micro",
      });
    } finally {
      await h.stop();
      fake.stop();
    }
  });

  test("a bad signature (403), malformed XML and a pagination token loop keep the targets with an error naming the region; the next good answer recovers", async () => {
    const fake = new FakeEC2();
    fake.pages = [[{ owner: "1", instances: [{ id: "i-1", privateIp: "10.0.0.1" }] }], [{ owner: "1", instances: [{ id: "i-2", privateIp: "10.0.0.2" }] }]];
    const h = new Harness(plugin, plugin.parseConfig(baseConfig(fake), testConfigContext()));
    try {
      await h.until(() => h.addresses().length === 2, 10);
      const step = async (expected: string) => {
        const before = h.errors.length;
        await h.clock.advance(60_000);
        await h.until(() => h.errors.length > before, 10);
        expect(h.errors[h.errors.length - 1]).toContain(expected);
        expect(h.addresses()).toEqual(["10.0.0.1:80", "10.0.0.2:80"]);
      };
      fake.keys.set("AKIDTEST", { secret: "rotated" });
      await step(`could not describe instances in us-east-1 at ${fake.url}: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. (HTTP 403)`);
      fake.keys.set("AKIDTEST", { secret: "test-secret/K7MDENG" });
      fake.broken = "xml";
      await step("cannot parse the answer from");
      fake.broken = "loop";
      await step('the pagination token "page-1" came back a second time');
      fake.broken = "500";
      await step("unexpected HTTP status 500");
      fake.broken = null;
      fake.pages = [[{ owner: "1", instances: [{ id: "i-9", privateIp: "10.0.0.9" }] }]];
      await h.clock.advance(60_000);
      await h.until(() => h.addresses().join() === "10.0.0.9:80", 10);
    } finally {
      await h.stop();
      fake.stop();
    }
  });

  test("AuthFailure drops the cached credentials: rotated environment credentials are picked up on the next refresh", async () => {
    const fake = new FakeEC2();
    fake.pages = [[{ owner: "1", instances: [{ id: "i-1", privateIp: "10.0.0.1" }] }]];
    process.env.AWS_ACCESS_KEY_ID = "AKIDTEST";
    process.env.AWS_SECRET_ACCESS_KEY = "test-secret/K7MDENG";
    process.env.AWS_REGION = "us-east-1";
    const h = new Harness(plugin, plugin.parseConfig({ endpoint: fake.url }, testConfigContext()));
    try {
      await h.until(() => h.addresses().length === 1, 10);
      fake.keys.delete("AKIDTEST");
      fake.keys.set("AKIDNEW", { secret: "new-secret" });
      process.env.AWS_ACCESS_KEY_ID = "AKIDNEW";
      process.env.AWS_SECRET_ACCESS_KEY = "new-secret";
      fake.pages = [[{ owner: "1", instances: [{ id: "i-2", privateIp: "10.0.0.2" }] }]];
      await h.clock.advance(60_000);
      await h.until(() => h.errors.length > 0, 10);
      expect(h.errors[0]).toContain("AuthFailure: AWS was not able to validate the provided access credentials (HTTP 401)");
      expect(h.addresses()).toEqual(["10.0.0.1:80"]);
      await h.clock.advance(60_000);
      await h.until(() => h.addresses().join() === "10.0.0.2:80", 10);
      expect(fake.describeInstances().at(-1)!.headers.get("authorization")).toContain("Credential=AKIDNEW/");
    } finally {
      await h.stop();
      fake.stop();
    }
  });

  test("role_arn assumes the role through STS (AWS_ENDPOINT_URL_STS) and signs with the temporary credentials and session token", async () => {
    const fake = new FakeEC2();
    fake.pages = [[{ owner: "1", instances: [{ id: "i-1", privateIp: "10.0.0.1" }] }]];
    process.env.AWS_ENDPOINT_URL_STS = fake.url;
    const h = new Harness(plugin, plugin.parseConfig(baseConfig(fake, { role_arn: "arn:aws:iam::123456789012:role/prom", external_id: "ext-1" }), testConfigContext()));
    try {
      await h.until(() => h.emits > 0, 10);
      expect(h.addresses()).toEqual(["10.0.0.1:80"]);
      const [assume, ...rest] = fake.requests;
      expect(assume!.body).toBe(`Action=AssumeRole&Version=2011-06-15&DurationSeconds=900&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fprom&RoleSessionName=gleaner-1800000000000&ExternalId=ext-1`);
      expect(assume!.headers.get("authorization")).toContain("Credential=AKIDTEST/20270115/us-east-1/sts/aws4_request");
      for (const r of rest) {
        expect(r.headers.get("authorization")).toContain("Credential=ASIATEMP/20270115/us-east-1/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,");
        expect(r.headers.get("x-amz-security-token")).toBe("TEMP-TOKEN");
      }
      // The role's credentials are reused until they near expiry.
      await h.clock.advance(60_000);
      await h.until(() => fake.describeInstances().length === 2, 10);
      expect(fake.requests.filter((r) => r.body.startsWith("Action=AssumeRole")).length).toBe(1);
    } finally {
      await h.stop();
      fake.stop();
    }
  });

  test("no region anywhere is a refresh error that says how to set one", async () => {
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    process.env.AWS_CONFIG_FILE = "/nonexistent/aws-config";
    const h = new Harness(plugin, plugin.parseConfig({ access_key: "a", secret_key: "b", endpoint: "http://127.0.0.1:9/" }, testConfigContext()));
    try {
      await h.until(() => h.errors.length > 0, 10);
      expect(h.errors[0]).toContain("EC2 SD configuration requires a region");
    } finally {
      await h.stop();
    }
  });

  test("credentials come from the keys, then the environment, then the profile of the shared credentials file", () => {
    const dir = mkdtempSync(join(tmpdir(), "gleaner-ec2-"));
    const file = join(dir, "credentials");
    writeFileSync(file, "[default]\naws_access_key_id = AKDEF\naws_secret_access_key = sdef\n\n# comment\n[prod]\naws_access_key_id=AKPROD\naws_secret_access_key=sprod\naws_session_token=tprod\n");
    try {
      const env = { AWS_SHARED_CREDENTIALS_FILE: file };
      expect(baseCredentials({ accessKey: "AK", secretKey: "SK", profile: "prod", env: { ...env, AWS_ACCESS_KEY_ID: "E", AWS_SECRET_ACCESS_KEY: "ES" } })).toEqual({ accessKeyId: "AK", secretAccessKey: "SK" });
      expect(baseCredentials({ accessKey: "", secretKey: "", profile: "prod", env: { ...env, AWS_ACCESS_KEY_ID: "E", AWS_SECRET_ACCESS_KEY: "ES", AWS_SESSION_TOKEN: "ET" } })).toEqual({ accessKeyId: "E", secretAccessKey: "ES", sessionToken: "ET" });
      expect(baseCredentials({ accessKey: "", secretKey: "", profile: "prod", env })).toEqual({ accessKeyId: "AKPROD", secretAccessKey: "sprod", sessionToken: "tprod" });
      expect(baseCredentials({ accessKey: "", secretKey: "", profile: "", env: { ...env, AWS_PROFILE: "prod" } }).accessKeyId).toBe("AKPROD");
      expect(baseCredentials({ accessKey: "", secretKey: "", profile: "", env }).accessKeyId).toBe("AKDEF");
      expect(() => baseCredentials({ accessKey: "", secretKey: "", profile: "nope", env })).toThrow(`no AWS credentials: set access_key and secret_key, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile "nope" in ${file}`);
      expect(credentialsFromIni("[x]\naws_access_key_id=a\n", "x")).toBeNull();
      // The region, when not configured: environment first, then the profile in the config file.
      writeFileSync(join(dir, "config"), "[default]\nregion = eu-west-1\n[profile prod]\nregion=ap-south-1\n");
      const cfg = { AWS_CONFIG_FILE: join(dir, "config") };
      expect(defaultRegion("prod", { ...cfg, AWS_REGION: "us-west-2" })).toBe("us-west-2");
      expect(defaultRegion("prod", { ...cfg, AWS_DEFAULT_REGION: "us-west-1" })).toBe("us-west-1");
      expect(defaultRegion("prod", cfg)).toBe("ap-south-1");
      expect(defaultRegion("default", cfg)).toBe("eu-west-1");
      expect(defaultRegion("other", cfg)).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("XML reader", () => {
  test("reads elements, entities, character references, CDATA, comments and self-closing tags", () => {
    const root = parseXml(`<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><a x="1>2" y='q'><b>x &lt;&amp;&gt; &quot;&apos; &#65;&#x42;</b><c/><d><![CDATA[<raw & kept>]]></d></a>`);
    expect(root.name).toBe("a");
    expect(textAt(root, "b")).toBe(`x <&> "' AB`);
    expect(textAt(root, "c")).toBe("");
    expect(textAt(root, "d")).toBe("<raw & kept>");
    expect(textAt(root, "missing")).toBeUndefined();
  });

  test("a large answer (5,000 instances) is read in well under a second", () => {
    const item = "<item><instanceId>i-1</instanceId><privateIpAddress>10.0.0.1</privateIpAddress><tagSet><item><key>k</key><value>v</value></item></tagSet></item>";
    const doc = `<DescribeInstancesResponse><reservationSet><item><instancesSet>${item.repeat(5_000)}</instancesSet></item></reservationSet></DescribeInstancesResponse>`;
    const t0 = performance.now();
    const root = parseXml(doc);
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(root.children[0]!.children[0]!.children[0]!.children.length).toBe(5_000);
  });

  test("malformed documents are SyntaxErrors, never an empty result", () => {
    for (const bad of ["", "<a>", "<a></b>", "<a><b></a></b>", "<a>x</a><b/>", "text<a/>", "<a>&bogus;</a>", "<a>& b</a>", "<a", "<!DOCTYPE a><a/>", "<a><![CDATA[x</a>"]) {
      expect(() => parseXml(bad)).toThrow(SyntaxError);
    }
  });
});
