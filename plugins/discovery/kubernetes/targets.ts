/**
 * Target groups from Kubernetes objects, one builder per role (spec §1.6
 * kubernetes_sd_configs): the `__meta_kubernetes_*` labels and the addresses as Prometheus
 * builds them. Objects are the API's JSON (fields may be missing: the fake and real API
 * servers both omit empty ones).
 */
import type { TargetGroup } from "../../../core/discovery/types.ts";

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects are open JSON */
export type Obj = any;
type Labels = Record<string, string>;

const P = "__meta_kubernetes_";

/** Looks up related objects that other informers keep (pods, services, nodes, namespaces). */
export interface Lookup {
  pod(ns: string, name: string): Obj | undefined;
  service(ns: string, name: string): Obj | undefined;
  /** Only when attach_metadata.node is on (else undefined). */
  node?: (name: string) => Obj | undefined;
  /** Only when attach_metadata.namespace is on (else undefined). */
  namespace?: (name: string) => Obj | undefined;
  /** attach_metadata.deployment / job / cronjob. */
  deployment: boolean;
  job: boolean;
  cronjob: boolean;
}

export function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, "_");
}

function str(v: unknown): string {
  return v === undefined || v === null ? "" : String(v);
}

function hostPort(host: string, port: unknown): string {
  return host.includes(":") ? `[${host}]:${str(port)}` : `${host}:${str(port)}`;
}

/** `_<role>_name`, `_<role>_label_<k>`, `_<role>_labelpresent_<k>`, and the annotations. */
export function addObjectMeta(ls: Labels, meta: Obj, role: string, withName = true): void {
  if (withName) ls[`${P}${role}_name`] = str(meta?.name);
  for (const [k, v] of Object.entries((meta?.labels ?? {}) as Record<string, unknown>)) {
    ls[`${P}${role}_label_${sanitize(k)}`] = str(v);
    ls[`${P}${role}_labelpresent_${sanitize(k)}`] = "true";
  }
  for (const [k, v] of Object.entries((meta?.annotations ?? {}) as Record<string, unknown>)) {
    ls[`${P}${role}_annotation_${sanitize(k)}`] = str(v);
    ls[`${P}${role}_annotationpresent_${sanitize(k)}`] = "true";
  }
}

function addNodeMeta(ls: Labels, lookup: Lookup, nodeName: unknown): void {
  if (lookup.node === undefined || typeof nodeName !== "string") return;
  const node = lookup.node(nodeName);
  if (node !== undefined) addObjectMeta(ls, node.metadata, "node");
}

function addNamespaceMeta(ls: Labels, lookup: Lookup, ns: string): void {
  if (lookup.namespace === undefined) return;
  const obj = lookup.namespace(ns);
  if (obj !== undefined) addObjectMeta(ls, obj.metadata, "namespace", false);
}

// ---------------------------------------------------------------- node

const NODE_ADDRESS_ORDER = ["InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "LegacyHostIP", "Hostname"];

export function nodeGroup(node: Obj): TargetGroup {
  const name = str(node.metadata?.name);
  const source = `node/${name}`;
  const labels: Labels = { [`${P}node_provider_id`]: str(node.spec?.providerID) };
  addObjectMeta(labels, node.metadata, "node");
  for (const c of (node.status?.conditions ?? []) as Obj[]) {
    if (c?.type) labels[`${P}node_condition_${sanitize(String(c.type))}`] = str(c.status).toLowerCase();
  }
  const byType = new Map<string, string[]>();
  for (const a of (node.status?.addresses ?? []) as Obj[]) {
    const t = str(a?.type);
    byType.set(t, [...(byType.get(t) ?? []), str(a?.address)]);
  }
  const first = NODE_ADDRESS_ORDER.map((t) => byType.get(t)?.[0]).find((a) => a !== undefined);
  if (first === undefined) return { source, targets: [], labels };
  const target: Labels = {
    __address__: hostPort(first, node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0),
    instance: name,
  };
  for (const [t, addrs] of byType) target[sanitize(`${P}node_address_${t}`)] = addrs[0] ?? "";
  return { source, targets: [target], labels };
}

// ---------------------------------------------------------------- pod

function podReady(pod: Obj): string {
  for (const c of (pod.status?.conditions ?? []) as Obj[]) if (c?.type === "Ready") return str(c.status).toLowerCase();
  return "unknown";
}

function controllerOf(meta: Obj): Obj | undefined {
  return ((meta?.ownerReferences ?? []) as Obj[]).find((o) => o?.controller === true);
}

/** The pod-level labels (shared by the pod, endpoints and endpointslice roles). */
export function podLabels(pod: Obj, lookup: Lookup): Labels {
  const ls: Labels = {
    [`${P}pod_name`]: str(pod.metadata?.name),
    [`${P}pod_ip`]: str(pod.status?.podIP),
    [`${P}pod_ready`]: podReady(pod),
    [`${P}pod_phase`]: str(pod.status?.phase),
    [`${P}pod_node_name`]: str(pod.spec?.nodeName),
    [`${P}pod_host_ip`]: str(pod.status?.hostIP),
    [`${P}pod_uid`]: str(pod.metadata?.uid),
  };
  addObjectMeta(ls, pod.metadata, "pod");
  const ctl = controllerOf(pod.metadata);
  if (ctl !== undefined) {
    ls[`${P}pod_controller_kind`] = str(ctl.kind);
    ls[`${P}pod_controller_name`] = str(ctl.name);
    // A Deployment's pods belong to a ReplicaSet named <deployment>-<pod-template-hash>.
    const hash = pod.metadata?.labels?.["pod-template-hash"];
    if (lookup.deployment && ctl.kind === "ReplicaSet") {
      const name = str(ctl.name);
      const dep = typeof hash === "string" && name.endsWith(`-${hash}`) ? name.slice(0, -hash.length - 1) : name.replace(/-[^-]+$/, "");
      if (dep !== name) ls[`${P}pod_deployment_name`] = dep;
    }
    if (ctl.kind === "Job") {
      if (lookup.job) ls[`${P}pod_job_name`] = str(ctl.name);
      // A CronJob's Jobs are named <cronjob>-<scheduled time in minutes>.
      const m = /^(.+)-\d+$/.exec(str(ctl.name));
      if (lookup.cronjob && m !== null) ls[`${P}pod_cronjob_name`] = m[1]!;
    }
  }
  return ls;
}

function containerStatusId(pod: Obj, name: string, init: boolean): string {
  const statuses = ((init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses) ?? []) as Obj[];
  return str(statuses.find((s) => s?.name === name)?.containerID);
}

function containersOf(pod: Obj): Array<{ c: Obj; init: boolean }> {
  return [
    ...((pod.spec?.containers ?? []) as Obj[]).map((c) => ({ c, init: false })),
    ...((pod.spec?.initContainers ?? []) as Obj[]).map((c) => ({ c, init: true })),
  ];
}

export function podGroup(pod: Obj, lookup: Lookup): TargetGroup {
  const ns = str(pod.metadata?.namespace);
  const source = `pod/${ns}/${str(pod.metadata?.name)}`;
  const ip = str(pod.status?.podIP);
  if (ip === "") return { source, targets: [], labels: {} };
  const labels = podLabels(pod, lookup);
  labels[`${P}namespace`] = ns;
  addNodeMeta(labels, lookup, pod.spec?.nodeName);
  addNamespaceMeta(labels, lookup, ns);
  const targets: Labels[] = [];
  for (const { c, init } of containersOf(pod)) {
    const base: Labels = {
      [`${P}pod_container_name`]: str(c.name),
      [`${P}pod_container_id`]: containerStatusId(pod, str(c.name), init),
      [`${P}pod_container_image`]: str(c.image),
      [`${P}pod_container_init`]: String(init),
    };
    const ports = (c.ports ?? []) as Obj[];
    if (ports.length === 0) {
      targets.push({ __address__: ip, ...base });
      continue;
    }
    for (const p of ports) {
      targets.push({
        __address__: hostPort(ip, p.containerPort),
        ...base,
        [`${P}pod_container_port_name`]: str(p.name),
        [`${P}pod_container_port_number`]: str(p.containerPort),
        [`${P}pod_container_port_protocol`]: str(p.protocol),
      });
    }
  }
  return { source, targets, labels };
}

// ---------------------------------------------------------------- service

export function serviceLabels(svc: Obj): Labels {
  const ls: Labels = { [`${P}namespace`]: str(svc.metadata?.namespace) };
  addObjectMeta(ls, svc.metadata, "service");
  return ls;
}

export function serviceGroup(svc: Obj, lookup: Lookup): TargetGroup {
  const ns = str(svc.metadata?.namespace);
  const name = str(svc.metadata?.name);
  const labels = serviceLabels(svc);
  addNamespaceMeta(labels, lookup, ns);
  const type = str(svc.spec?.type);
  const targets = ((svc.spec?.ports ?? []) as Obj[]).map((p) => {
    const t: Labels = {
      __address__: hostPort(`${name}.${ns}.svc`, p.port),
      [`${P}service_port_name`]: str(p.name),
      [`${P}service_port_number`]: str(p.port),
      [`${P}service_port_protocol`]: str(p.protocol),
      [`${P}service_type`]: type,
    };
    if (type === "ExternalName") t[`${P}service_external_name`] = str(svc.spec?.externalName);
    else t[`${P}service_cluster_ip`] = str(svc.spec?.clusterIP);
    if (type === "LoadBalancer") {
      // The IPs the load balancer reports; before it reports any, the requested spec.loadBalancerIP.
      const ips = ((svc.status?.loadBalancer?.ingress ?? []) as Obj[]).map((i) => str(i?.ip)).filter((ip) => ip !== "");
      t[`${P}service_loadbalancer_ip`] = ips.length > 0 ? ips.join(",") : str(svc.spec?.loadBalancerIP);
    }
    return t;
  });
  return { source: `svc/${ns}/${name}`, targets, labels };
}

// ---------------------------------------------------------------- endpoints and endpointslice

interface SeenPod {
  pod: Obj;
  ports: number[];
}

/** Container labels of the pod's container whose port is `port` (first match). */
function matchingContainer(pod: Obj, port: unknown, protocol: unknown): Labels {
  for (const { c, init } of containersOf(pod)) {
    for (const cp of (c.ports ?? []) as Obj[]) {
      if (cp.containerPort !== port) continue;
      return {
        [`${P}pod_container_name`]: str(c.name),
        [`${P}pod_container_image`]: str(c.image),
        [`${P}pod_container_port_name`]: str(cp.name),
        [`${P}pod_container_port_number`]: str(port),
        [`${P}pod_container_port_protocol`]: str(protocol),
        [`${P}pod_container_init`]: String(init),
      };
    }
  }
  return {};
}

/** Targets for the container ports of backing pods that no endpoint port covered. */
function uncoveredPorts(seen: Map<string, SeenPod>, lookup: Lookup): Labels[] {
  const out: Labels[] = [];
  for (const { pod, ports } of seen.values()) {
    const ip = str(pod.status?.podIP);
    if (ip === "") continue;
    for (const { c, init } of containersOf(pod)) {
      for (const cp of (c.ports ?? []) as Obj[]) {
        if (ports.includes(cp.containerPort)) continue;
        out.push({
          __address__: hostPort(ip, cp.containerPort),
          [`${P}pod_container_name`]: str(c.name),
          [`${P}pod_container_image`]: str(c.image),
          [`${P}pod_container_port_name`]: str(cp.name),
          [`${P}pod_container_port_number`]: str(cp.containerPort),
          [`${P}pod_container_port_protocol`]: str(cp.protocol),
          [`${P}pod_container_init`]: String(init),
          ...podLabels(pod, lookup),
        });
      }
    }
  }
  return out;
}

function resolvePod(ref: Obj, ns: string, lookup: Lookup): Obj | undefined {
  if (ref?.kind !== "Pod") return undefined;
  return lookup.pod(str(ref.namespace) || ns, str(ref.name));
}

function addService(labels: Labels, ns: string, name: string, lookup: Lookup): void {
  const svc = lookup.service(ns, name);
  if (svc !== undefined) Object.assign(labels, serviceLabels(svc));
}

export function endpointsGroup(eps: Obj, lookup: Lookup): TargetGroup {
  const ns = str(eps.metadata?.namespace);
  const name = str(eps.metadata?.name);
  const labels: Labels = { [`${P}namespace`]: ns };
  addService(labels, ns, name, lookup);
  addObjectMeta(labels, eps.metadata, "endpoints");
  addNamespaceMeta(labels, lookup, ns);
  const targets: Labels[] = [];
  const seen = new Map<string, SeenPod>();
  const add = (addr: Obj, port: Obj, ready: string) => {
    const t: Labels = {
      __address__: hostPort(str(addr.ip), port.port),
      [`${P}endpoint_port_name`]: str(port.name),
      [`${P}endpoint_port_protocol`]: str(port.protocol),
      [`${P}endpoint_ready`]: ready,
    };
    if (typeof addr.nodeName === "string") t[`${P}endpoint_node_name`] = addr.nodeName;
    if (addr.hostname) t[`${P}endpoint_hostname`] = str(addr.hostname);
    if (addr.targetRef) {
      t[`${P}endpoint_address_target_kind`] = str(addr.targetRef.kind);
      t[`${P}endpoint_address_target_name`] = str(addr.targetRef.name);
    }
    addNodeMeta(t, lookup, addr.nodeName);
    const pod = resolvePod(addr.targetRef, ns, lookup);
    if (pod !== undefined) {
      const key = `${str(pod.metadata?.namespace)}/${str(pod.metadata?.name)}`;
      const sp = seen.get(key) ?? { pod, ports: [] };
      seen.set(key, sp);
      Object.assign(t, podLabels(pod, lookup), matchingContainer(pod, port.port, port.protocol));
      sp.ports.push(port.port);
    }
    targets.push(t);
  };
  for (const ss of (eps.subsets ?? []) as Obj[]) {
    for (const port of (ss.ports ?? []) as Obj[]) {
      for (const a of (ss.addresses ?? []) as Obj[]) add(a, port, "true");
      for (const a of (ss.notReadyAddresses ?? []) as Obj[]) add(a, port, "false");
    }
  }
  targets.push(...uncoveredPorts(seen, lookup));
  return { source: `endpoints/${ns}/${name}`, targets, labels };
}

export function endpointSliceGroup(eps: Obj, lookup: Lookup): TargetGroup {
  const ns = str(eps.metadata?.namespace);
  const name = str(eps.metadata?.name);
  const labels: Labels = { [`${P}namespace`]: ns, [`${P}endpointslice_address_type`]: str(eps.addressType) };
  addObjectMeta(labels, eps.metadata, "endpointslice");
  const svcName = eps.metadata?.labels?.["kubernetes.io/service-name"];
  if (typeof svcName === "string") addService(labels, ns, svcName, lookup);
  addNamespaceMeta(labels, lookup, ns);
  const targets: Labels[] = [];
  const seen = new Map<string, SeenPod>();
  const ports = (eps.ports ?? []) as Obj[];
  for (const ep of (eps.endpoints ?? []) as Obj[]) {
    for (const port of ports) {
      for (const addr of (ep.addresses ?? []) as string[]) {
        const t: Labels = { __address__: port.port === undefined || port.port === null ? addr : hostPort(addr, port.port) };
        if (port.name !== undefined && port.name !== null) t[`${P}endpointslice_port_name`] = str(port.name);
        if (port.protocol !== undefined && port.protocol !== null) t[`${P}endpointslice_port_protocol`] = str(port.protocol);
        if (port.port !== undefined && port.port !== null) t[`${P}endpointslice_port`] = str(port.port);
        if (port.appProtocol !== undefined && port.appProtocol !== null) t[`${P}endpointslice_port_app_protocol`] = str(port.appProtocol);
        for (const cond of ["ready", "serving", "terminating"]) {
          const v = ep.conditions?.[cond];
          if (typeof v === "boolean") t[`${P}endpointslice_endpoint_conditions_${cond}`] = String(v);
        }
        if (typeof ep.hostname === "string") t[`${P}endpointslice_endpoint_hostname`] = ep.hostname;
        if (ep.targetRef) {
          t[`${P}endpointslice_address_target_kind`] = str(ep.targetRef.kind);
          t[`${P}endpointslice_address_target_name`] = str(ep.targetRef.name);
        }
        if (typeof ep.nodeName === "string") t[`${P}endpointslice_endpoint_node_name`] = ep.nodeName;
        if (typeof ep.zone === "string") t[`${P}endpointslice_endpoint_zone`] = ep.zone;
        for (const [k, v] of Object.entries((ep.deprecatedTopology ?? {}) as Record<string, unknown>)) {
          t[`${P}endpointslice_endpoint_topology_${sanitize(k)}`] = str(v);
          t[`${P}endpointslice_endpoint_topology_present_${sanitize(k)}`] = "true";
        }
        addNodeMeta(t, lookup, ep.nodeName);
        const pod = resolvePod(ep.targetRef, ns, lookup);
        if (pod !== undefined) {
          const key = `${str(pod.metadata?.namespace)}/${str(pod.metadata?.name)}`;
          const sp = seen.get(key) ?? { pod, ports: [] };
          seen.set(key, sp);
          Object.assign(t, podLabels(pod, lookup));
          if (port.port !== undefined && port.port !== null) Object.assign(t, matchingContainer(pod, port.port, port.protocol));
          sp.ports.push(port.port);
        }
        targets.push(t);
      }
    }
  }
  targets.push(...uncoveredPorts(seen, lookup));
  return { source: `endpointslice/${ns}/${name}`, targets, labels };
}

// ---------------------------------------------------------------- ingress

/** `*.example.com` matches one leading label; otherwise an exact match. */
function matchesHost(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  const p = pattern.split(".");
  const h = host.split(".");
  if (p.length !== h.length || p[0] !== "*") return false;
  return p.slice(1).join(".") === h.slice(1).join(".");
}

export function ingressGroup(ing: Obj, lookup: Lookup): TargetGroup {
  const ns = str(ing.metadata?.namespace);
  const name = str(ing.metadata?.name);
  const labels: Labels = { [`${P}namespace`]: ns };
  if (typeof ing.spec?.ingressClassName === "string") labels[`${P}ingress_class_name`] = ing.spec.ingressClassName;
  addObjectMeta(labels, ing.metadata, "ingress");
  addNamespaceMeta(labels, lookup, ns);
  const tlsHosts = ((ing.spec?.tls ?? []) as Obj[]).flatMap((t) => (t?.hosts ?? []) as string[]);
  const targets: Labels[] = [];
  for (const rule of (ing.spec?.rules ?? []) as Obj[]) {
    const host = str(rule.host);
    const scheme = tlsHosts.some((p) => matchesHost(p, host)) ? "https" : "http";
    const paths = ((rule.http?.paths ?? []) as Obj[]).map((p) => str(p?.path) || "/");
    for (const path of paths.length === 0 ? ["/"] : paths) {
      targets.push({ __address__: host, [`${P}ingress_scheme`]: scheme, [`${P}ingress_host`]: host, [`${P}ingress_path`]: path });
    }
  }
  return { source: `ingress/${ns}/${name}`, targets, labels };
}
