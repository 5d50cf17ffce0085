/**
 * ec2_sd_configs (spec §1.6): instances from EC2's DescribeInstances (query API, version
 * 2016-11-15, SigV4-signed, every NextToken page), polled every refresh_interval. One group
 * per config, its source the region. Any error keeps the last targets; AuthFailure and
 * UnauthorizedOperation also drop the cached credentials, so the next refresh fetches them
 * again (as Prometheus rebuilds its client).
 */
import { z } from "zod";
import { duration, str, stringList, uint } from "../../../core/config/schema/fields.ts";
import type { HttpClientConfig } from "../../../core/config/types.ts";
import type { TargetGroup } from "../../../core/discovery/types.ts";
import { definePlugin } from "../../../core/plugin.ts";
import { assumeRole, AwsError, awsQuery, baseCredentials, defaultRegion, profileName, type QueryOptions } from "./aws.ts";
import type { AwsCredentials } from "./sigv4.ts";
import { items, textAt, type XmlElement } from "./xml.ts";

export interface EC2SDConfig {
  http: HttpClientConfig;
  endpoint: string;
  region: string;
  access_key: string;
  secret_key: string;
  profile: string;
  role_arn: string;
  external_id: string;
  refresh_interval: number;
  port: number;
  filters: Array<{ name: string; values: string[] }>;
}

const schema = z.strictObject({
  endpoint: str.nullish(),
  region: str.nullish(),
  access_key: str.nullish(),
  secret_key: str.nullish(),
  profile: str.nullish(),
  role_arn: str.nullish(),
  external_id: str.nullish(),
  refresh_interval: duration.nullish(),
  port: uint.nullish(),
  filters: z.array(z.strictObject({ name: str.nullish(), values: stringList.nullish() }).nullable()).nullish(),
});

const PREFIX = "__meta_ec2_";
const SEPARATOR = ",";
/** Requests get this long (the refresh helper has no timeout of its own). */
const REQUEST_TIMEOUT_MS = 60_000;
/** A page count no real account reaches; past it the answers are taken to loop. */
const MAX_PAGES = 10_000;

function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, "_");
}

function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

const listLabel = (xs: readonly string[]) => SEPARATOR + xs.join(SEPARATOR) + SEPARATOR;

/** The target of one `instancesSet` item, or null when it has no private IPv4 and no IPv6 address. */
export function instanceTarget(inst: XmlElement, ownerId: string | undefined, region: string, port: number, azToId: ReadonlyMap<string, string> | null): Record<string, string> | null {
  const privateIp = textAt(inst, "privateIpAddress");
  const ipv6 = textAt(inst, "ipv6Address");
  const primary = privateIp !== undefined && privateIp !== "" ? privateIp : ipv6 !== undefined && ipv6 !== "" ? ipv6 : undefined;
  if (primary === undefined) return null;
  const t: Record<string, string> = {
    __address__: joinHostPort(primary, port),
    [`${PREFIX}instance_id`]: textAt(inst, "instanceId") ?? "",
    [`${PREFIX}region`]: region,
  };
  const set = (name: string, v: string | undefined) => {
    if (v !== undefined) t[`${PREFIX}${name}`] = v;
  };
  set("owner_id", ownerId);
  set("private_ip", privateIp);
  set("default_ipv6_address", ipv6);
  set("private_dns_name", textAt(inst, "privateDnsName"));
  set("platform", textAt(inst, "platform"));
  const publicIp = textAt(inst, "ipAddress");
  if (publicIp !== undefined) {
    set("public_ip", publicIp);
    set("public_dns_name", textAt(inst, "dnsName") ?? "");
  }
  const az = textAt(inst, "placement", "availabilityZone") ?? "";
  t[`${PREFIX}ami`] = textAt(inst, "imageId") ?? "";
  t[`${PREFIX}availability_zone`] = az;
  t[`${PREFIX}availability_zone_id`] = azToId?.get(az) ?? "";
  t[`${PREFIX}instance_state`] = textAt(inst, "instanceState", "name") ?? "";
  t[`${PREFIX}instance_type`] = textAt(inst, "instanceType") ?? "";
  set("instance_lifecycle", textAt(inst, "instanceLifecycle"));
  set("architecture", textAt(inst, "architecture"));
  const vpc = textAt(inst, "vpcId");
  if (vpc !== undefined) {
    t[`${PREFIX}vpc_id`] = vpc;
    t[`${PREFIX}primary_subnet_id`] = textAt(inst, "subnetId") ?? "";
    const subnets: string[] = [];
    const ipv6s: string[] = [];
    // Primary IPv6 addresses sit at their interface's device index.
    const primaries: string[] = [];
    for (const eni of items(inst, "networkInterfaceSet")) {
      const subnet = textAt(eni, "subnetId");
      if (subnet === undefined) continue;
      if (!subnets.includes(subnet)) subnets.push(subnet);
      for (const a of items(eni, "ipv6AddressesSet")) {
        const addr = textAt(a, "ipv6Address") ?? "";
        ipv6s.push(addr);
        if (textAt(a, "isPrimaryIpv6") === "true") {
          const index = Number(textAt(eni, "attachment", "deviceIndex") ?? "0");
          while (primaries.length <= index) primaries.push("");
          primaries[index] = addr;
        }
      }
    }
    t[`${PREFIX}subnet_id`] = listLabel(subnets);
    if (ipv6s.length > 0) t[`${PREFIX}ipv6_addresses`] = listLabel(ipv6s);
    if (primaries.length > 0) t[`${PREFIX}primary_ipv6_addresses`] = listLabel(primaries);
  }
  for (const tag of items(inst, "tagSet")) {
    const key = textAt(tag, "key");
    const value = textAt(tag, "value");
    if (key === undefined || value === undefined) continue;
    t[`${PREFIX}tag_${sanitizeLabelName(key)}`] = value;
  }
  return t;
}

/** The targets of one DescribeInstances page. */
export function pageTargets(root: XmlElement, region: string, port: number, azToId: ReadonlyMap<string, string> | null): Array<Record<string, string>> {
  if (root.name !== "DescribeInstancesResponse") throw new TypeError(`expected a DescribeInstancesResponse, got <${root.name}>`);
  const out: Array<Record<string, string>> = [];
  for (const r of items(root, "reservationSet")) {
    const owner = textAt(r, "ownerId");
    for (const inst of items(r, "instancesSet")) {
      const t = instanceTarget(inst, owner, region, port, azToId);
      if (t !== null) out.push(t);
    }
  }
  return out;
}

export default definePlugin<EC2SDConfig>({
  apiVersion: 1,
  kind: "discovery",
  name: "ec2",
  parseConfig(raw, ctx) {
    const { http, rest } = ctx.httpClient(raw);
    const c = ctx.validate(schema, rest);
    const port = c.port ?? 80;
    if (port > 65535) throw ctx.error(["port"], `port ${port} is out of range (0-65535)`);
    const filters = (c.filters ?? []).map((f, i) => {
      if (f === null) throw ctx.error(["filters", i], "empty or null filter");
      if ((f.name ?? "") === "") throw ctx.error(["filters", i, "name"], "EC2 SD configuration filter name cannot be empty");
      if ((f.values ?? []).length === 0) throw ctx.error(["filters", i, "values"], "EC2 SD configuration filter values cannot be empty");
      return { name: f.name!, values: f.values! };
    });
    const accessKey = c.access_key ?? "";
    const secretKey = c.secret_key ?? "";
    if ((accessKey === "") !== (secretKey === "")) throw ctx.error([accessKey === "" ? "access_key" : "secret_key"], "access_key and secret_key must be set together");
    if (c.endpoint != null) {
      try {
        new URL(c.endpoint);
      } catch {
        throw ctx.error(["endpoint"], `"${c.endpoint}" is not a valid URL`);
      }
    }
    return {
      http,
      endpoint: c.endpoint ?? "",
      region: c.region ?? "",
      access_key: accessKey,
      secret_key: secretKey,
      profile: c.profile ?? "",
      role_arn: c.role_arn ?? "",
      external_id: c.external_id ?? "",
      refresh_interval: c.refresh_interval ?? 60_000,
      port,
      filters,
    };
  },
  create(config, ctx) {
    const http = ctx.http(config.http);
    let credentials: { value: AwsCredentials; expires: number } | null = null;
    let azToId: Map<string, string> | null = null;

    const region = (): string => {
      const r = config.region !== "" ? config.region : defaultRegion(profileName(config.profile, process.env), process.env);
      if (r === "") throw new Error("EC2 SD configuration requires a region (set region, AWS_REGION, or region in the profile of the shared config file)");
      return r;
    };

    const getCredentials = async (o: Omit<QueryOptions, "credentials" | "service">): Promise<AwsCredentials> => {
      const now = ctx.clock.now();
      if (credentials !== null && now < credentials.expires) return credentials.value;
      const base = baseCredentials({ accessKey: config.access_key, secretKey: config.secret_key, profile: config.profile, env: process.env });
      if (config.role_arn === "") {
        credentials = { value: base, expires: Number.POSITIVE_INFINITY };
        return base;
      }
      const sts = process.env.AWS_ENDPOINT_URL_STS || `https://sts.${o.region}.amazonaws.com/`;
      const role = await assumeRole(config.role_arn, config.external_id, `gleaner-${now}`, { ...o, endpoint: new URL(sts), service: "sts", credentials: base });
      // Renew five minutes before they expire.
      credentials = { value: role.credentials, expires: role.expires - 300_000 };
      return role.credentials;
    };

    return ctx.refresh({
      interval: config.refresh_interval,
      async refresh(signal): Promise<TargetGroup[]> {
        const r = region();
        const endpoint = new URL(config.endpoint !== "" ? config.endpoint : `https://ec2.${r}.amazonaws.com/`);
        const base = { http, endpoint, region: r, now: new Date(ctx.clock.now()), signal, timeoutMs: REQUEST_TIMEOUT_MS };
        try {
          const o: QueryOptions = { ...base, service: "ec2", credentials: await getCredentials(base) };
          // Availability zone IDs, until they have been read once (a new AZ needs a reload, as in Prometheus).
          if (azToId === null) {
            try {
              const root = await awsQuery([["Action", "DescribeAvailabilityZones"], ["Version", "2016-11-15"]], o);
              const m = new Map<string, string>();
              for (const z of items(root, "availabilityZoneInfo")) m.set(textAt(z, "zoneName") ?? "", textAt(z, "zoneId") ?? "");
              azToId = m;
            } catch (err) {
              if (signal.aborted) throw err;
              ctx.log.debug("Unable to describe availability zones", { region: r, err: (err as Error).message });
            }
          }
          const filters: Array<[string, string]> = [];
          config.filters.forEach((f, i) => {
            filters.push([`Filter.${i + 1}.Name`, f.name]);
            f.values.forEach((v, j) => filters.push([`Filter.${i + 1}.Value.${j + 1}`, v]));
          });
          const targets: Array<Record<string, string>> = [];
          const seen = new Set<string>();
          let token = "";
          for (let page = 0; ; page++) {
            if (page >= MAX_PAGES) throw new Error(`more than ${MAX_PAGES} pages`);
            const params: Array<[string, string]> = [["Action", "DescribeInstances"], ["Version", "2016-11-15"], ...filters];
            if (token !== "") params.push(["NextToken", token]);
            const root = await awsQuery(params, o);
            targets.push(...pageTargets(root, r, config.port, azToId));
            token = textAt(root, "nextToken") ?? "";
            if (token === "") break;
            if (seen.has(token)) throw new Error(`the pagination token "${token.slice(0, 40)}" came back a second time`);
            seen.add(token);
          }
          return [{ source: r, targets, labels: {} }];
        } catch (err) {
          if (err instanceof AwsError && (err.code === "AuthFailure" || err.code === "UnauthorizedOperation")) credentials = null;
          throw new Error(`could not describe instances in ${r} at ${endpoint.origin}: ${(err as Error).message}`, { cause: err });
        }
      },
    });
  },
});
