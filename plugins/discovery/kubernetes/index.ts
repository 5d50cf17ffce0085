/**
 * kubernetes_sd_configs (spec §1.6): targets from the Kubernetes API for one role (node,
 * pod, service, endpoints, endpointslice, ingress), kept current by list-then-watch
 * informers (./informer.ts) and turned into groups by ./targets.ts. The API server is
 * `api_server`, a kubeconfig file, or the in-cluster service account.
 */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { bool, str, url } from "../../../core/config/schema/fields.ts";
import { joinDir } from "../../../core/config/http-client.ts";
import type { HttpClientConfig } from "../../../core/config/types.ts";
import type { TargetGroup } from "../../../core/discovery/types.ts";
import { definePlugin, type DiscoveryContext, type DiscoveryPlugin } from "../../../core/plugin.ts";
import { Informer, type Selector } from "./informer.ts";
import { endpointSliceGroup, endpointsGroup, ingressGroup, nodeGroup, podGroup, serviceGroup, type Lookup, type Obj } from "./targets.ts";

export const ROLES = ["pod", "service", "endpoints", "endpointslice", "node", "ingress"] as const;
export type Role = (typeof ROLES)[number];

const ALLOWED_SELECTORS: Record<Role, Role[]> = {
  pod: ["pod", "node"],
  service: ["service"],
  endpoints: ["pod", "service", "endpoints"],
  endpointslice: ["pod", "service", "endpointslice"],
  node: ["node"],
  ingress: ["ingress"],
};

export interface KubernetesSDConfig {
  role: Role;
  api_server?: string;
  kubeconfig_file?: string;
  namespaces: { own_namespace: boolean; names: string[] };
  selectors: Array<{ role: Role; label: string; field: string }>;
  attach_metadata: { node: boolean; namespace: boolean; deployment: boolean; job: boolean; cronjob: boolean };
  http: HttpClientConfig;
}

const role = str.transform((s, ctx) => {
  if ((ROLES as readonly string[]).includes(s)) return s as Role;
  ctx.addIssue({ code: "custom", message: `unknown Kubernetes SD role "${s}" (one of: pod, service, endpoints, endpointslice, node, ingress)` });
  return z.NEVER;
});

const configSchema = z.strictObject({
  role: role.nullish(),
  api_server: url.nullish(),
  kubeconfig_file: str.nullish(),
  namespaces: z.strictObject({ own_namespace: bool.nullish(), names: z.array(str).nullish() }).nullish(),
  selectors: z.array(z.strictObject({ role: role.nullish(), label: str.nullish(), field: str.nullish() })).nullish(),
  attach_metadata: z
    .strictObject({ node: bool.nullish(), namespace: bool.nullish(), deployment: bool.nullish(), job: bool.nullish(), cronjob: bool.nullish() })
    .nullish(),
});

/** Equality-based and set-based label selectors, field selectors `a=b,c!=d`: a light syntax check. */
const LABEL_REQ = /^\s*!?[A-Za-z0-9._\/-]+\s*((==?|!=)\s*[A-Za-z0-9._-]*|\s+(in|notin)\s*\([^)]*\))?\s*$/;
const FIELD_REQ = /^\s*[A-Za-z0-9._\/-]+\s*(==?|!=)\s*[^,]*$/;

function splitSelector(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export interface KubernetesPluginOptions {
  /** Where the in-cluster service account's token, ca.crt and namespace live. */
  serviceAccountDir?: string;
  /** Environment for KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT. */
  env?: Record<string, string | undefined>;
  /** Seconds a watch is held by the server (default: 5–10 minutes at random, as client-go). */
  watchTimeoutSeconds?: () => number;
}

interface Connection {
  server: string;
  http: HttpClientConfig;
  /** The pod's own namespace (in-cluster only). */
  ownNamespace?: string;
}

/** Reads a kubeconfig: current-context → cluster (server, CA) and user (cert/key, token, basic auth). */
export async function loadKubeconfig(file: string, base: HttpClientConfig): Promise<Connection> {
  const doc = parseYaml(await readFile(file, "utf8")) as Obj;
  const dir = dirname(file);
  const rel = (p: unknown) => (typeof p === "string" && p !== "" ? (isAbsolute(p) ? p : join(dir, p)) : undefined);
  const b64 = (s: unknown) => (typeof s === "string" && s !== "" ? Buffer.from(s, "base64").toString("utf8") : undefined);
  const named = (list: unknown, name: unknown, what: string) => {
    const entry = ((list ?? []) as Obj[]).find((e) => e?.name === name);
    if (entry === undefined) throw new Error(`${file}: ${what} "${String(name)}" not found`);
    return entry[what] ?? {};
  };
  const current = doc?.["current-context"];
  if (typeof current !== "string" || current === "") throw new Error(`${file}: no current-context`);
  const context = named(doc.contexts, current, "context");
  const cluster = named(doc.clusters, context.cluster, "cluster");
  const user = context.user === undefined ? {} : named(doc.users, context.user, "user");
  if (typeof cluster.server !== "string" || cluster.server === "") throw new Error(`${file}: cluster "${context.cluster}" has no server`);
  const tls = { ...base.tls_config };
  const set = <K extends keyof typeof tls>(k: K, v: (typeof tls)[K] | undefined) => {
    if (v !== undefined) tls[k] = v;
  };
  set("ca", b64(cluster["certificate-authority-data"]));
  set("ca_file", rel(cluster["certificate-authority"]));
  set("cert", b64(user["client-certificate-data"]));
  set("cert_file", rel(user["client-certificate"]));
  set("key", b64(user["client-key-data"]));
  set("key_file", rel(user["client-key"]));
  if (typeof cluster["tls-server-name"] === "string") tls.server_name = cluster["tls-server-name"];
  if (cluster["insecure-skip-tls-verify"] === true) tls.insecure_skip_verify = true;
  const http: HttpClientConfig = { ...base, tls_config: tls };
  if (typeof user.token === "string" && user.token !== "") http.authorization = { type: "Bearer", credentials: user.token };
  else if (typeof user.tokenFile === "string" && user.tokenFile !== "") http.authorization = { type: "Bearer", credentials_file: rel(user.tokenFile)! };
  else if (typeof user.username === "string") http.basic_auth = { username: user.username, password: String(user.password ?? "") };
  return { server: cluster.server.replace(/\/+$/, ""), http };
}

function collection(group: string, resource: string, ns: string): string {
  const base = group === "" ? "/api/v1" : `/apis/${group}/v1`;
  return ns === "" ? `${base}/${resource}` : `${base}/namespaces/${encodeURIComponent(ns)}/${resource}`;
}

/**
 * The kubernetes discovery plugin; options exist for tests (where the service account lives,
 * the environment, the watch timeout). The default export uses the real ones.
 *
 * @example
 * const plugin = kubernetesPlugin({ serviceAccountDir: "/tmp/sa", env: { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" } });
 */
export function kubernetesPlugin(opts: KubernetesPluginOptions = {}): DiscoveryPlugin<KubernetesSDConfig> {
  const saDir = opts.serviceAccountDir ?? "/var/run/secrets/kubernetes.io/serviceaccount";
  const env = opts.env ?? process.env;

  async function connect(c: KubernetesSDConfig): Promise<Connection> {
    if (c.api_server !== undefined) return { server: c.api_server.replace(/\/+$/, ""), http: c.http };
    if (c.kubeconfig_file !== undefined) return loadKubeconfig(c.kubeconfig_file, c.http);
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT;
    if (!host || !port) throw new Error("unable to load in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
    const conn: Connection = {
      server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
      http: { ...c.http, tls_config: { ...c.http.tls_config, ca_file: join(saDir, "ca.crt") }, authorization: { type: "Bearer", credentials_file: join(saDir, "token") } },
    };
    if (c.namespaces.own_namespace) conn.ownNamespace = (await readFile(join(saDir, "namespace"), "utf8")).trim();
    return conn;
  }

  return definePlugin<KubernetesSDConfig>({
    apiVersion: 1,
    kind: "discovery",
    name: "kubernetes",
    parseConfig(raw, ctx) {
      const { http, rest } = ctx.httpClient(raw);
      const c = ctx.validate(configSchema, rest);
      if (c.role === undefined || c.role === null) throw ctx.error(["role"], "role missing (one of: pod, service, endpoints, endpointslice, node, ingress)");
      const customHttp = !Bun.deepEquals(http, ctx.httpClient({}).http);
      const api = c.api_server ?? undefined;
      const kubeconfig = c.kubeconfig_file ?? undefined;
      const own = c.namespaces?.own_namespace ?? false;
      if (api !== undefined && kubeconfig !== undefined) throw ctx.error(["kubeconfig_file"], "cannot use 'kubeconfig_file' and 'api_server' simultaneously");
      if (kubeconfig !== undefined && customHttp) throw ctx.error([], "cannot use a custom HTTP client configuration together with 'kubeconfig_file'");
      if (api === undefined && customHttp) throw ctx.error([], "to use custom HTTP client configuration please provide the 'api_server' URL explicitly");
      if (api !== undefined && own) throw ctx.error(["namespaces", "own_namespace"], "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously");
      if (kubeconfig !== undefined && own) throw ctx.error(["namespaces", "own_namespace"], "cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously");
      const selectors: KubernetesSDConfig["selectors"] = [];
      const seen = new Set<Role>();
      (c.selectors ?? []).forEach((s, i) => {
        if (s.role === undefined || s.role === null) throw ctx.error(["selectors", i, "role"], "selector role missing");
        if (seen.has(s.role)) throw ctx.error(["selectors", i, "role"], `duplicated selector role: ${s.role}`);
        seen.add(s.role);
        const allowed = ALLOWED_SELECTORS[c.role!];
        if (!allowed.includes(s.role)) throw ctx.error(["selectors", i, "role"], `${c.role} role supports only ${allowed.join(", ")} selectors`);
        const label = s.label ?? "";
        const field = s.field ?? "";
        if (label !== "" && !splitSelector(label).every((r) => LABEL_REQ.test(r))) throw ctx.error(["selectors", i, "label"], `invalid label selector "${label}"`);
        if (field !== "" && !field.split(",").every((r) => FIELD_REQ.test(r))) throw ctx.error(["selectors", i, "field"], `invalid field selector "${field}"`);
        selectors.push({ role: s.role, label, field });
      });
      const am = c.attach_metadata ?? {};
      const out: KubernetesSDConfig = {
        role: c.role,
        namespaces: { own_namespace: own, names: c.namespaces?.names ?? [] },
        selectors,
        attach_metadata: { node: am.node ?? false, namespace: am.namespace ?? false, deployment: am.deployment ?? false, job: am.job ?? false, cronjob: am.cronjob ?? false },
        http,
      };
      if (api !== undefined) out.api_server = api;
      if (kubeconfig !== undefined) out.kubeconfig_file = joinDir(ctx.dir, kubeconfig) ?? kubeconfig;
      return out;
    },
    create(config, ctx) {
      return { run: (signal, emit) => runDiscovery(config, ctx, signal, emit) };
    },
  });

  async function runDiscovery(config: KubernetesSDConfig, ctx: DiscoveryContext, signal: AbortSignal, emit: (groups: TargetGroup[]) => void): Promise<void> {
    let conn: Connection | undefined;
    while (!signal.aborted && conn === undefined) {
      try {
        conn = await connect(config);
      } catch (err) {
        ctx.log.error("Cannot set up Kubernetes service discovery; retrying", { role: config.role, err: (err as Error).message });
        await ctx.clock.sleep(30_000, signal).catch(() => {});
      }
    }
    if (conn === undefined) return;
    const http = ctx.http(conn.http);
    const names = [...config.namespaces.names];
    if (conn.ownNamespace !== undefined && !names.includes(conn.ownNamespace)) names.push(conn.ownNamespace);
    const namespaces = names.length === 0 ? [""] : names;
    const selector = (r: Role): Selector => {
      const s = config.selectors.find((x) => x.role === r);
      return { label: s?.label, field: s?.field };
    };

    let scheduled = false;
    const onChange = () => {
      if (scheduled) return;
      scheduled = true;
      queueMicrotask(flush);
    };
    const all: Informer[] = [];
    const informers = (group: string, resource: string, sel: Selector, nsList: string[]): Informer[] => {
      const list = nsList.map(
        (ns) =>
          new Informer({
            http,
            server: conn.server,
            path: collection(group, resource, ns),
            selector: sel,
            clock: ctx.clock,
            log: ctx.log,
            onChange,
            ...(opts.watchTimeoutSeconds ? { watchTimeoutSeconds: opts.watchTimeoutSeconds } : {}),
          }),
      );
      all.push(...list);
      return list;
    };

    const r = config.role;
    const main =
      r === "node"
        ? informers("", "nodes", selector("node"), [""])
        : r === "pod"
          ? informers("", "pods", selector("pod"), namespaces)
          : r === "service"
            ? informers("", "services", selector("service"), namespaces)
            : r === "endpoints"
              ? informers("", "endpoints", selector("endpoints"), namespaces)
              : r === "endpointslice"
                ? informers("discovery.k8s.io", "endpointslices", selector("endpointslice"), namespaces)
                : informers("networking.k8s.io", "ingresses", selector("ingress"), namespaces);
    const needsPods = r === "endpoints" || r === "endpointslice";
    const pods = needsPods ? informers("", "pods", selector("pod"), namespaces) : [];
    const services = needsPods ? informers("", "services", selector("service"), namespaces) : [];
    const attachNode = config.attach_metadata.node && (r === "pod" || needsPods);
    const nodes = attachNode ? informers("", "nodes", selector("node"), [""]) : [];
    const nsInf = config.attach_metadata.namespace && r !== "node" ? informers("", "namespaces", {}, [""]) : [];

    const find = (list: Informer[], key: string) => {
      for (const i of list) {
        const o = i.store.get(key);
        if (o !== undefined) return o;
      }
      return undefined;
    };
    const lookup: Lookup = {
      pod: (ns, name) => find(pods, `${ns}/${name}`),
      service: (ns, name) => find(services, `${ns}/${name}`),
      deployment: config.attach_metadata.deployment,
      job: config.attach_metadata.job,
      cronjob: config.attach_metadata.cronjob,
    };
    if (attachNode) lookup.node = (name) => find(nodes, name);
    if (nsInf.length > 0) lookup.namespace = (name) => find(nsInf, name);
    const build = (o: Obj): TargetGroup => {
      switch (r) {
        case "node":
          return nodeGroup(o);
        case "pod":
          return podGroup(o, lookup);
        case "service":
          return serviceGroup(o, lookup);
        case "endpoints":
          return endpointsGroup(o, lookup);
        case "endpointslice":
          return endpointSliceGroup(o, lookup);
        case "ingress":
          return ingressGroup(o, lookup);
      }
    };

    /** What each source was last sent as (JSON), for sending only what changed. */
    const sent = new Map<string, string>();
    let first = true;
    function flush(): void {
      scheduled = false;
      if (signal.aborted || !all.every((i) => i.synced)) return;
      const now = new Map<string, TargetGroup>();
      for (const inf of main) {
        for (const o of inf.store.values()) {
          const g = build(o);
          if (g.targets.length > 0) now.set(g.source, g);
        }
      }
      const changed: TargetGroup[] = [];
      for (const [source, g] of now) {
        const json = JSON.stringify(g);
        if (sent.get(source) === json) continue;
        sent.set(source, json);
        changed.push(g);
      }
      for (const source of sent.keys()) {
        if (now.has(source)) continue;
        sent.delete(source);
        changed.push({ source, targets: [], labels: {} });
      }
      if (changed.length > 0 || first) emit(changed);
      first = false;
    }

    await Promise.all(all.map((i) => i.run(signal)));
  }
}

export default kubernetesPlugin();
