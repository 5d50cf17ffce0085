import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../../core/config/load.ts";
import { PluginRegistry } from "../../../core/plugin.ts";
import { discoveryConformance, Harness, testConfigContext } from "../../../test/conformance/discovery.case.ts";
import { FakeKube } from "./fake-api.ts";
import plugin, { kubernetesPlugin, type KubernetesPluginOptions } from "./index.ts";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

function pod(name: string, ip: string, ports: number[], extra: Obj = {}): Obj {
  return {
    metadata: { name, namespace: "default", uid: `uid-${name}`, ...extra.metadata },
    spec: { nodeName: "n1", containers: [{ name: "c", image: "img:1", ports: ports.map((p) => ({ containerPort: p, protocol: "TCP" })) }], ...extra.spec },
    status: { podIP: ip, hostIP: "10.0.0.1", phase: "Running", conditions: [{ type: "Ready", status: "True" }], ...extra.status },
  };
}

/** Pods named p-<group>-<index>, one per address, IP and port from the address. */
function setPods(fake: FakeKube, groups: string[][]): void {
  const want = new Map<string, Obj>();
  groups.forEach((g, gi) =>
    g.forEach((addr, ti) => {
      const [host, port] = addr.split(":");
      want.set(`p-${gi}-${ti}`, pod(`p-${gi}-${ti}`, host!, [Number(port)]));
    }),
  );
  for (const o of fake.list("pods")) if (!want.has(o.metadata.name)) fake.remove("pods", "default", o.metadata.name);
  for (const [name, p] of want) {
    const cur = fake.objects.get("pods")?.get(`default/${name}`);
    if (cur?.status.podIP !== p.status.podIP || cur?.spec.containers[0].ports[0].containerPort !== p.spec.containers[0].ports[0].containerPort) fake.apply("pods", p);
  }
}

discoveryConformance({
  name: "kubernetes (pod role)",
  plugin,
  async setup() {
    const fake = new FakeKube();
    return {
      rawConfig: { role: "pod", api_server: fake.url, namespaces: { names: ["default"] } },
      setTargets: async (g) => setPods(fake, g),
      breakSource: async () => {
        fake.broken = true;
        fake.breakWatches();
      },
      restoreSource: async () => {
        fake.broken = false;
      },
      close: async () => fake.stop(),
    };
  },
  refreshMs: 60_000,
});

const parse = (raw: unknown, p = plugin) => p.parseConfig(raw, testConfigContext());
const fixedTimeout: KubernetesPluginOptions = { watchTimeoutSeconds: () => 321 };
const tp = kubernetesPlugin(fixedTimeout);

async function settle(h: Harness, check: () => boolean): Promise<void> {
  await h.until(check, 1_000, 4_000);
}

describe("kubernetes_sd_configs requests", () => {
  test("the pod role lists then watches each namespace with the selectors, bookmarks, the list's resourceVersion and the bearer token", async () => {
    const fake = new FakeKube();
    fake.apply("pods", pod("web", "10.1.0.1", [8080], { metadata: { labels: { app: "web" } } }));
    fake.apply("pods", pod("db", "10.1.0.2", [5432], { metadata: { labels: { app: "db" } } }));
    const h = new Harness(
      tp,
      parse(
        {
          role: "pod",
          api_server: fake.url,
          namespaces: { names: ["default", "kube-system"] },
          selectors: [{ role: "pod", label: "app=web", field: "spec.nodeName=n1" }],
          authorization: { credentials: "s3cret" },
        },
        tp,
      ),
    );
    await settle(h, () => h.emits > 0 && fake.openWatches === 2);
    expect(h.addresses()).toEqual(["10.1.0.1:8080"]);
    const sel = { labelSelector: "app=web", fieldSelector: "spec.nodeName=n1" };
    for (const ns of ["default", "kube-system"]) {
      const path = `/api/v1/namespaces/${ns}/pods`;
      const reqs = fake.requestsFor(path);
      expect(reqs.map((r) => r.query)).toEqual([
        { ...sel, limit: "500" },
        { ...sel, allowWatchBookmarks: "true", resourceVersion: "1002", timeoutSeconds: "321", watch: "true" },
      ]);
      for (const r of reqs) expect(r.authorization).toBe("Bearer s3cret");
    }
    expect(fake.requests.length).toBe(4);
    await h.stop();
    fake.stop();
  });

  test("a list is read page by page with continue tokens", async () => {
    const fake = new FakeKube();
    fake.pageSize = 2;
    for (let i = 0; i < 5; i++) fake.apply("pods", pod(`p${i}`, `10.0.0.${i}`, [80]));
    const h = new Harness(tp, parse({ role: "pod", api_server: fake.url }, tp));
    await settle(h, () => h.emits > 0);
    expect(h.addresses().length).toBe(5);
    expect(fake.requestsFor("/api/v1/pods", "list").map((r) => r.query)).toEqual([{ limit: "500" }, { limit: "500", continue: "2" }, { limit: "500", continue: "4" }]);
    await h.stop();
    fake.stop();
  });

  test("the endpointslice role watches endpointslices, pods and services at the cluster-wide paths", async () => {
    const fake = new FakeKube();
    const h = new Harness(tp, parse({ role: "endpointslice", api_server: fake.url, selectors: [{ role: "service", label: "team=a" }] }, tp));
    await settle(h, () => h.emits > 0 && fake.openWatches === 3);
    expect(new Set(fake.requests.map((r) => r.path))).toEqual(new Set(["/apis/discovery.k8s.io/v1/endpointslices", "/api/v1/pods", "/api/v1/services"]));
    expect(fake.requestsFor("/api/v1/services", "watch")[0]!.query.labelSelector).toBe("team=a");
    expect(fake.requestsFor("/api/v1/pods", "watch")[0]!.query.labelSelector).toBeUndefined();
    await h.stop();
    fake.stop();
  });
});

describe("kubernetes_sd_configs watch semantics", () => {
  test("a watch that breaks mid-stream is resumed from the last resourceVersion: nothing lost, nothing duplicated", async () => {
    const fake = new FakeKube();
    fake.apply("pods", pod("a", "10.0.0.1", [80]));
    const h = new Harness(tp, parse({ role: "pod", api_server: fake.url, namespaces: { names: ["default"] } }, tp));
    await settle(h, () => h.emits > 0 && fake.openWatches === 1);
    fake.apply("pods", pod("b", "10.0.0.2", [80]));
    await settle(h, () => h.addresses().length === 2);
    fake.breakWatches();
    // Changes while no watch is open arrive by the replay of the resumed watch.
    fake.apply("pods", pod("c", "10.0.0.3", [80]));
    fake.remove("pods", "default", "a");
    await settle(h, () => h.addresses().join() === "10.0.0.2:80,10.0.0.3:80");
    const path = "/api/v1/namespaces/default/pods";
    expect(fake.requestsFor(path, "list").length).toBe(1);
    expect(fake.requestsFor(path, "watch").map((r) => r.query.resourceVersion)).toEqual(["1001", "1002"]);
    expect([...h.state.values()].map((g) => [g.source, g.targets.length])).toEqual([
      ["pod/default/b", 1],
      ["pod/default/c", 1],
    ]);
    expect(h.errors).toEqual([]);
    await h.stop();
    fake.stop();
  });

  test("a watch held past its timeoutSeconds (plus a minute) is dropped and resumed from the same resourceVersion", async () => {
    const fake = new FakeKube();
    fake.apply("pods", pod("a", "10.0.0.1", [80]));
    const h = new Harness(tp, parse({ role: "pod", api_server: fake.url }, tp));
    await settle(h, () => h.emits > 0 && fake.openWatches === 1);
    await h.clock.advance(320_000);
    await Bun.sleep(10);
    expect(fake.requestsFor("/api/v1/pods", "watch").length).toBe(1);
    await h.clock.advance(62_000);
    await settle(h, () => fake.requestsFor("/api/v1/pods", "watch").length === 2 && fake.openWatches === 1);
    expect(fake.requestsFor("/api/v1/pods", "watch").map((r) => r.query.resourceVersion)).toEqual(["1001", "1001"]);
    expect(h.addresses()).toEqual(["10.0.0.1:80"]);
    expect(h.errors).toEqual([]);
    await h.stop();
    fake.stop();
  });

  test("a bookmark advances the resourceVersion the next watch resumes from", async () => {
    const fake = new FakeKube();
    fake.apply("pods", pod("a", "10.0.0.1", [80]));
    const h = new Harness(tp, parse({ role: "pod", api_server: fake.url }, tp));
    await settle(h, () => h.emits > 0 && fake.openWatches === 1);
    fake.apply("services", { metadata: { name: "s", namespace: "default" }, spec: {} }); // moves rv on, unseen by the pod watch
    fake.bookmark();
    await Bun.sleep(20);
    fake.breakWatches();
    await settle(h, () => fake.requestsFor("/api/v1/pods", "watch").length === 2);
    expect(fake.requestsFor("/api/v1/pods", "watch")[1]!.query.resourceVersion).toBe("1002");
    await h.stop();
    fake.stop();
  });

  test("an ERROR event with code 410 makes the discoverer list again; objects deleted meanwhile go", async () => {
    const fake = new FakeKube();
    fake.apply("pods", pod("a", "10.0.0.1", [80]));
    fake.apply("pods", pod("b", "10.0.0.2", [80]));
    const h = new Harness(tp, parse({ role: "pod", api_server: fake.url }, tp));
    await settle(h, () => h.addresses().length === 2 && fake.openWatches === 1);
    fake.breakWatches();
    fake.remove("pods", "default", "a");
    fake.apply("pods", pod("c", "10.0.0.3", [80]));
    fake.compact();
    await settle(h, () => h.addresses().join() === "10.0.0.2:80,10.0.0.3:80" && fake.openWatches === 1);
    expect(fake.requestsFor("/api/v1/pods").map((r) => (r.query.watch ? `watch@${r.query.resourceVersion}` : "list"))).toEqual(["list", "watch@1002", "watch@1002", "list", "watch@1004"]);
    expect(fake.requestsFor("/api/v1/pods", "list").length).toBe(2);
    expect(h.errors).toEqual([]);
    await h.stop();
    fake.stop();
  });

  test("an HTTP 410 on the watch request makes the discoverer list again", async () => {
    const fake = new FakeKube();
    fake.apply("pods", pod("a", "10.0.0.1", [80]));
    const h = new Harness(tp, parse({ role: "pod", api_server: fake.url }, tp));
    await settle(h, () => h.addresses().length === 1 && fake.openWatches === 1);
    fake.watchHttp410 = 1;
    fake.breakWatches();
    fake.apply("pods", pod("b", "10.0.0.2", [80]));
    await settle(h, () => h.addresses().length === 2 && fake.openWatches === 1);
    expect(fake.requestsFor("/api/v1/pods").map((r) => (r.query.watch ? `watch@${r.query.resourceVersion}` : "list"))).toEqual(["list", "watch@1001", "watch@1001", "list", "watch@1002"]);
    await h.stop();
    fake.stop();
  });

  test("a malformed watch event is logged naming the path, the targets stay, and the discoverer recovers", async () => {
    const fake = new FakeKube();
    fake.apply("pods", pod("a", "10.0.0.1", [80]));
    const h = new Harness(tp, parse({ role: "pod", api_server: fake.url }, tp));
    await settle(h, () => h.addresses().length === 1 && fake.openWatches === 1);
    const emits = h.emits;
    fake.sendRaw('{"type": "ADDED", "object": {');
    await settle(h, () => h.errors.length > 0);
    expect(h.errors[0]).toContain("/api/v1/pods");
    expect(h.errors[0]).toContain("malformed event");
    expect(h.addresses()).toEqual(["10.0.0.1:80"]);
    expect(h.emits).toBe(emits);
    fake.apply("pods", pod("b", "10.0.0.2", [80]));
    await settle(h, () => h.addresses().length === 2);
    await h.stop();
    fake.stop();
  });

  test("a malformed list response is logged naming the path; the next list (after a backoff) recovers", async () => {
    const fake = new FakeKube();
    fake.apply("pods", pod("a", "10.0.0.1", [80]));
    fake.rawLists.push("{\"kind\": \"PodList\", \"items\": [", JSON.stringify({ kind: "PodList", items: "nope" }));
    const h = new Harness(tp, parse({ role: "pod", api_server: fake.url }, tp));
    await settle(h, () => h.errors.length >= 2);
    expect(h.errors[0]).toContain("GET /api/v1/pods: malformed list response");
    expect(h.errors[1]).toContain("GET /api/v1/pods: malformed list response: no items");
    expect(h.emits).toBe(0);
    await settle(h, () => h.addresses().length === 1);
    expect(fake.requestsFor("/api/v1/pods", "list").length).toBe(3);
    await h.stop();
    fake.stop();
  });

  test("a 500 from the API server is logged and retried with backoff; the last targets stay", async () => {
    const fake = new FakeKube();
    fake.apply("pods", pod("a", "10.0.0.1", [80]));
    const h = new Harness(tp, parse({ role: "pod", api_server: fake.url }, tp));
    await settle(h, () => h.addresses().length === 1 && fake.openWatches === 1);
    fake.broken = true;
    fake.breakWatches();
    await settle(h, () => h.errors.length > 0);
    expect(h.errors[0]).toContain("HTTP 500: etcdserver: leader changed");
    expect(h.addresses()).toEqual(["10.0.0.1:80"]);
    fake.broken = false;
    await settle(h, () => fake.openWatches === 1);
    expect(h.addresses()).toEqual(["10.0.0.1:80"]);
    await h.stop();
    fake.stop();
  });

  test("a deleted object deletes its group; a pod without an IP has no group", async () => {
    const fake = new FakeKube();
    fake.apply("pods", pod("a", "10.0.0.1", [80]));
    fake.apply("pods", pod("pending", "", [80]));
    const h = new Harness(tp, parse({ role: "pod", api_server: fake.url }, tp));
    await settle(h, () => h.emits > 0 && fake.openWatches === 1);
    expect([...h.state.keys()]).toEqual(["pod/default/a"]);
    fake.remove("pods", "default", "a");
    await settle(h, () => h.state.size === 0);
    await h.stop();
    fake.stop();
  });
});

/** Runs one role against the fake with these objects and returns the groups once listed. */
async function groupsFor(raw: Obj, objects: Array<[string, Obj]>): Promise<{ h: Harness; fake: FakeKube; groups: Map<string, any> }> {
  const fake = new FakeKube();
  for (const [res, o] of objects) fake.apply(res, o);
  const h = new Harness(tp, parse({ api_server: fake.url, ...raw }, tp));
  await settle(h, () => h.emits > 0);
  return { h, fake, groups: h.state };
}

const K = "__meta_kubernetes_";

describe("kubernetes_sd_configs roles", () => {
  test("pod: one target per container port, the pod IP alone for a container without ports, and every pod label", async () => {
    const p = {
      metadata: {
        name: "web-5d8f-abcde",
        namespace: "prod",
        uid: "u1",
        labels: { app: "web", "pod-template-hash": "5d8f" },
        annotations: { "prometheus.io/scrape": "true" },
        ownerReferences: [{ kind: "ReplicaSet", name: "web-5d8f", controller: true }],
      },
      spec: {
        nodeName: "n1",
        containers: [
          { name: "app", image: "web:1", ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }, { containerPort: 9090, protocol: "UDP" }] },
          { name: "sidecar", image: "side:2" },
        ],
        initContainers: [{ name: "init", image: "init:3" }],
      },
      status: {
        podIP: "10.1.2.3",
        hostIP: "192.168.0.1",
        phase: "Running",
        conditions: [{ type: "Ready", status: "False" }],
        containerStatuses: [{ name: "app", containerID: "containerd://abc" }],
        initContainerStatuses: [{ name: "init", containerID: "containerd://init" }],
      },
    };
    const { h, fake, groups } = await groupsFor({ role: "pod", attach_metadata: { deployment: "true" } }, [["pods", p]]);
    const base = { [`${K}pod_container_init`]: "false" };
    expect(groups.get("pod/prod/web-5d8f-abcde")).toEqual({
      source: "pod/prod/web-5d8f-abcde",
      labels: {
        [`${K}namespace`]: "prod",
        [`${K}pod_name`]: "web-5d8f-abcde",
        [`${K}pod_ip`]: "10.1.2.3",
        [`${K}pod_ready`]: "false",
        [`${K}pod_phase`]: "Running",
        [`${K}pod_node_name`]: "n1",
        [`${K}pod_host_ip`]: "192.168.0.1",
        [`${K}pod_uid`]: "u1",
        [`${K}pod_label_app`]: "web",
        [`${K}pod_labelpresent_app`]: "true",
        [`${K}pod_label_pod_template_hash`]: "5d8f",
        [`${K}pod_labelpresent_pod_template_hash`]: "true",
        [`${K}pod_annotation_prometheus_io_scrape`]: "true",
        [`${K}pod_annotationpresent_prometheus_io_scrape`]: "true",
        [`${K}pod_controller_kind`]: "ReplicaSet",
        [`${K}pod_controller_name`]: "web-5d8f",
        [`${K}pod_deployment_name`]: "web",
      },
      targets: [
        {
          __address__: "10.1.2.3:8080",
          ...base,
          [`${K}pod_container_name`]: "app",
          [`${K}pod_container_id`]: "containerd://abc",
          [`${K}pod_container_image`]: "web:1",
          [`${K}pod_container_port_name`]: "http",
          [`${K}pod_container_port_number`]: "8080",
          [`${K}pod_container_port_protocol`]: "TCP",
        },
        {
          __address__: "10.1.2.3:9090",
          ...base,
          [`${K}pod_container_name`]: "app",
          [`${K}pod_container_id`]: "containerd://abc",
          [`${K}pod_container_image`]: "web:1",
          [`${K}pod_container_port_name`]: "",
          [`${K}pod_container_port_number`]: "9090",
          [`${K}pod_container_port_protocol`]: "UDP",
        },
        { __address__: "10.1.2.3", ...base, [`${K}pod_container_name`]: "sidecar", [`${K}pod_container_id`]: "", [`${K}pod_container_image`]: "side:2" },
        { __address__: "10.1.2.3", [`${K}pod_container_init`]: "true", [`${K}pod_container_name`]: "init", [`${K}pod_container_id`]: "containerd://init", [`${K}pod_container_image`]: "init:3" },
      ],
    });
    await h.stop();
    fake.stop();
  });

  test("pod: attach_metadata node and namespace add the node's and namespace's labels; job and cronjob names", async () => {
    const p = pod("job-x", "10.0.0.5", [80], { metadata: { ownerReferences: [{ kind: "Job", name: "backup-28930", controller: true }] } });
    const { h, fake, groups } = await groupsFor({ role: "pod", attach_metadata: { node: "true", namespace: "true", job: "true", cronjob: "true" } }, [
      ["pods", p],
      ["nodes", { metadata: { name: "n1", labels: { zone: "a" } } }],
      ["namespaces", { metadata: { name: "default", labels: { team: "x" }, annotations: { owner: "me" } } }],
    ]);
    expect(new Set(fake.requests.map((r) => r.path))).toEqual(new Set(["/api/v1/pods", "/api/v1/nodes", "/api/v1/namespaces"]));
    expect(groups.get("pod/default/job-x")!.labels).toMatchObject({
      [`${K}node_name`]: "n1",
      [`${K}node_label_zone`]: "a",
      [`${K}node_labelpresent_zone`]: "true",
      [`${K}namespace_label_team`]: "x",
      [`${K}namespace_labelpresent_team`]: "true",
      [`${K}namespace_annotation_owner`]: "me",
      [`${K}namespace_annotationpresent_owner`]: "true",
      [`${K}pod_controller_kind`]: "Job",
      [`${K}pod_job_name`]: "backup-28930",
      [`${K}pod_cronjob_name`]: "backup",
    });
    // A node label change re-labels the pod's group.
    fake.apply("nodes", { metadata: { name: "n1", labels: { zone: "b" } } });
    await settle(h, () => groups.get("pod/default/job-x")!.labels[`${K}node_label_zone`] === "b");
    await h.stop();
    fake.stop();
  });

  test("node: the first address by type preference plus the kubelet port, instance = node name, addresses, conditions, provider id", async () => {
    const n = {
      metadata: { name: "n1", labels: { "kubernetes.io/hostname": "n1" }, annotations: { "a.b/c": "x" } },
      spec: { providerID: "aws:///i-1" },
      status: {
        addresses: [
          { type: "Hostname", address: "n1.local" },
          { type: "ExternalIP", address: "1.2.3.4" },
          { type: "InternalIP", address: "10.0.0.1" },
          { type: "InternalIP", address: "10.0.0.9" },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        conditions: [{ type: "Ready", status: "True" }, { type: "DiskPressure", status: "False" }],
      },
    };
    const { h, fake, groups } = await groupsFor({ role: "node" }, [["nodes", n], ["nodes", { metadata: { name: "bare" }, status: {} }]]);
    expect([...groups.keys()]).toEqual(["node/n1"]);
    expect(groups.get("node/n1")).toEqual({
      source: "node/n1",
      labels: {
        [`${K}node_provider_id`]: "aws:///i-1",
        [`${K}node_name`]: "n1",
        [`${K}node_label_kubernetes_io_hostname`]: "n1",
        [`${K}node_labelpresent_kubernetes_io_hostname`]: "true",
        [`${K}node_annotation_a_b_c`]: "x",
        [`${K}node_annotationpresent_a_b_c`]: "true",
        [`${K}node_condition_Ready`]: "true",
        [`${K}node_condition_DiskPressure`]: "false",
      },
      targets: [
        {
          __address__: "10.0.0.1:10250",
          instance: "n1",
          [`${K}node_address_Hostname`]: "n1.local",
          [`${K}node_address_ExternalIP`]: "1.2.3.4",
          [`${K}node_address_InternalIP`]: "10.0.0.1",
        },
      ],
    });
    expect(fake.requests.map((r) => r.path)).toContain("/api/v1/nodes");
    await h.stop();
    fake.stop();
  });

  test("service: <name>.<ns>.svc:<port> per port, with type, cluster IP, external name and load balancer IPs", async () => {
    const { h, fake, groups } = await groupsFor({ role: "service", namespaces: { names: ["prod"] } }, [
      ["services", { metadata: { name: "api", namespace: "prod", labels: { app: "api" } }, spec: { type: "LoadBalancer", clusterIP: "10.96.0.10", ports: [{ name: "http", port: 80, protocol: "TCP" }, { name: "grpc", port: 9000, protocol: "TCP" }] }, status: { loadBalancer: { ingress: [{ ip: "1.1.1.1" }, { ip: "2.2.2.2" }] } } }],
      ["services", { metadata: { name: "ext", namespace: "prod" }, spec: { type: "ExternalName", externalName: "db.example.com", ports: [{ port: 5432, protocol: "TCP" }] } }],
    ]);
    expect(fake.requestsFor("/api/v1/namespaces/prod/services").length).toBe(2);
    expect(groups.get("svc/prod/api")).toEqual({
      source: "svc/prod/api",
      labels: { [`${K}namespace`]: "prod", [`${K}service_name`]: "api", [`${K}service_label_app`]: "api", [`${K}service_labelpresent_app`]: "true" },
      targets: [
        { __address__: "api.prod.svc:80", [`${K}service_port_name`]: "http", [`${K}service_port_number`]: "80", [`${K}service_port_protocol`]: "TCP", [`${K}service_type`]: "LoadBalancer", [`${K}service_cluster_ip`]: "10.96.0.10", [`${K}service_loadbalancer_ip`]: "1.1.1.1,2.2.2.2" },
        { __address__: "api.prod.svc:9000", [`${K}service_port_name`]: "grpc", [`${K}service_port_number`]: "9000", [`${K}service_port_protocol`]: "TCP", [`${K}service_type`]: "LoadBalancer", [`${K}service_cluster_ip`]: "10.96.0.10", [`${K}service_loadbalancer_ip`]: "1.1.1.1,2.2.2.2" },
      ],
    });
    expect(groups.get("svc/prod/ext")!.targets).toEqual([
      { __address__: "ext.prod.svc:5432", [`${K}service_port_name`]: "", [`${K}service_port_number`]: "5432", [`${K}service_port_protocol`]: "TCP", [`${K}service_type`]: "ExternalName", [`${K}service_external_name`]: "db.example.com" },
    ]);
    await h.stop();
    fake.stop();
  });

  const backingPod = {
    metadata: { name: "api-1", namespace: "default", uid: "pu", labels: { app: "api" } },
    spec: { nodeName: "n1", containers: [{ name: "app", image: "api:1", ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }, { name: "metrics", containerPort: 9100, protocol: "TCP" }] }] },
    status: { podIP: "10.0.0.7", hostIP: "192.168.0.1", phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
  };
  const podLabelsOf = {
    [`${K}pod_name`]: "api-1",
    [`${K}pod_ip`]: "10.0.0.7",
    [`${K}pod_ready`]: "true",
    [`${K}pod_phase`]: "Running",
    [`${K}pod_node_name`]: "n1",
    [`${K}pod_host_ip`]: "192.168.0.1",
    [`${K}pod_uid`]: "pu",
    [`${K}pod_label_app`]: "api",
    [`${K}pod_labelpresent_app`]: "true",
  };
  const apiService = { metadata: { name: "api", namespace: "default", labels: { tier: "be" } }, spec: { ports: [{ port: 80 }] } };

  test("endpoints: ready and not-ready addresses per port, pod and service labels, and the pod's uncovered container ports", async () => {
    const eps = {
      metadata: { name: "api", namespace: "default", labels: { l: "v" } },
      subsets: [
        {
          ports: [{ name: "http", port: 8080, protocol: "TCP" }],
          addresses: [{ ip: "10.0.0.7", nodeName: "n1", targetRef: { kind: "Pod", name: "api-1", namespace: "default" } }],
          notReadyAddresses: [{ ip: "10.0.0.99", hostname: "h", targetRef: { kind: "Node", name: "x" } }],
        },
      ],
    };
    const { h, fake, groups } = await groupsFor({ role: "endpoints", namespaces: { names: ["default"] } }, [["pods", backingPod], ["services", apiService], ["endpoints", eps]]);
    expect(new Set(fake.requests.map((r) => r.path))).toEqual(new Set(["/api/v1/namespaces/default/endpoints", "/api/v1/namespaces/default/pods", "/api/v1/namespaces/default/services"]));
    expect(groups.get("endpoints/default/api")).toEqual({
      source: "endpoints/default/api",
      labels: {
        [`${K}namespace`]: "default",
        [`${K}service_name`]: "api",
        [`${K}service_label_tier`]: "be",
        [`${K}service_labelpresent_tier`]: "true",
        [`${K}endpoints_name`]: "api",
        [`${K}endpoints_label_l`]: "v",
        [`${K}endpoints_labelpresent_l`]: "true",
      },
      targets: [
        {
          __address__: "10.0.0.7:8080",
          [`${K}endpoint_port_name`]: "http",
          [`${K}endpoint_port_protocol`]: "TCP",
          [`${K}endpoint_ready`]: "true",
          [`${K}endpoint_node_name`]: "n1",
          [`${K}endpoint_address_target_kind`]: "Pod",
          [`${K}endpoint_address_target_name`]: "api-1",
          ...podLabelsOf,
          [`${K}pod_container_name`]: "app",
          [`${K}pod_container_image`]: "api:1",
          [`${K}pod_container_port_name`]: "http",
          [`${K}pod_container_port_number`]: "8080",
          [`${K}pod_container_port_protocol`]: "TCP",
          [`${K}pod_container_init`]: "false",
        },
        {
          __address__: "10.0.0.99:8080",
          [`${K}endpoint_port_name`]: "http",
          [`${K}endpoint_port_protocol`]: "TCP",
          [`${K}endpoint_ready`]: "false",
          [`${K}endpoint_hostname`]: "h",
          [`${K}endpoint_address_target_kind`]: "Node",
          [`${K}endpoint_address_target_name`]: "x",
        },
        {
          __address__: "10.0.0.7:9100",
          ...podLabelsOf,
          [`${K}pod_container_name`]: "app",
          [`${K}pod_container_image`]: "api:1",
          [`${K}pod_container_port_name`]: "metrics",
          [`${K}pod_container_port_number`]: "9100",
          [`${K}pod_container_port_protocol`]: "TCP",
          [`${K}pod_container_init`]: "false",
        },
      ],
    });
    // A service label change reaches the endpoints group.
    fake.apply("services", { ...apiService, metadata: { ...apiService.metadata, labels: { tier: "fe" } } });
    await settle(h, () => groups.get("endpoints/default/api")!.labels[`${K}service_label_tier`] === "fe");
    await h.stop();
    fake.stop();
  });

  test("endpointslice: address type, port and endpoint labels, conditions, topology, and pod and service labels", async () => {
    const slice = {
      metadata: { name: "api-abc", namespace: "default", labels: { "kubernetes.io/service-name": "api" } },
      addressType: "IPv4",
      ports: [{ name: "http", port: 8080, protocol: "TCP", appProtocol: "http" }],
      endpoints: [
        {
          addresses: ["10.0.0.7"],
          conditions: { ready: true, serving: true, terminating: false },
          hostname: "api-1",
          nodeName: "n1",
          zone: "z1",
          deprecatedTopology: { "topology.kubernetes.io/region": "r1" },
          targetRef: { kind: "Pod", name: "api-1", namespace: "default" },
        },
      ],
    };
    const { h, fake, groups } = await groupsFor({ role: "endpointslice" }, [["pods", backingPod], ["services", apiService], ["endpointslices", slice]]);
    const g = groups.get("endpointslice/default/api-abc")!;
    expect(g.labels).toEqual({
      [`${K}namespace`]: "default",
      [`${K}endpointslice_address_type`]: "IPv4",
      [`${K}endpointslice_name`]: "api-abc",
      [`${K}endpointslice_label_kubernetes_io_service_name`]: "api",
      [`${K}endpointslice_labelpresent_kubernetes_io_service_name`]: "true",
      [`${K}service_name`]: "api",
      [`${K}service_label_tier`]: "be",
      [`${K}service_labelpresent_tier`]: "true",
    });
    expect(g.targets[0]).toEqual({
      __address__: "10.0.0.7:8080",
      [`${K}endpointslice_port_name`]: "http",
      [`${K}endpointslice_port_protocol`]: "TCP",
      [`${K}endpointslice_port`]: "8080",
      [`${K}endpointslice_port_app_protocol`]: "http",
      [`${K}endpointslice_endpoint_conditions_ready`]: "true",
      [`${K}endpointslice_endpoint_conditions_serving`]: "true",
      [`${K}endpointslice_endpoint_conditions_terminating`]: "false",
      [`${K}endpointslice_endpoint_hostname`]: "api-1",
      [`${K}endpointslice_address_target_kind`]: "Pod",
      [`${K}endpointslice_address_target_name`]: "api-1",
      [`${K}endpointslice_endpoint_node_name`]: "n1",
      [`${K}endpointslice_endpoint_zone`]: "z1",
      [`${K}endpointslice_endpoint_topology_topology_kubernetes_io_region`]: "r1",
      [`${K}endpointslice_endpoint_topology_present_topology_kubernetes_io_region`]: "true",
      ...podLabelsOf,
      [`${K}pod_container_name`]: "app",
      [`${K}pod_container_image`]: "api:1",
      [`${K}pod_container_port_name`]: "http",
      [`${K}pod_container_port_number`]: "8080",
      [`${K}pod_container_port_protocol`]: "TCP",
      [`${K}pod_container_init`]: "false",
    });
    expect(g.targets.map((t: Obj) => t.__address__)).toEqual(["10.0.0.7:8080", "10.0.0.7:9100"]);
    await h.stop();
    fake.stop();
  });

  test("ingress: one target per rule path at the rule host, https for TLS hosts (wildcards too), an empty path is /", async () => {
    const ing = {
      metadata: { name: "site", namespace: "web" },
      spec: {
        ingressClassName: "nginx",
        tls: [{ hosts: ["*.example.com"] }],
        rules: [
          { host: "a.example.com", http: { paths: [{ path: "/api" }, { path: "" }] } },
          { host: "plain.org" },
        ],
      },
    };
    const { h, fake, groups } = await groupsFor({ role: "ingress", namespaces: { names: ["web"] } }, [["ingresses", ing]]);
    expect(fake.requestsFor("/apis/networking.k8s.io/v1/namespaces/web/ingresses").length).toBe(2);
    expect(groups.get("ingress/web/site")).toEqual({
      source: "ingress/web/site",
      labels: { [`${K}namespace`]: "web", [`${K}ingress_class_name`]: "nginx", [`${K}ingress_name`]: "site" },
      targets: [
        { __address__: "a.example.com", [`${K}ingress_scheme`]: "https", [`${K}ingress_host`]: "a.example.com", [`${K}ingress_path`]: "/api" },
        { __address__: "a.example.com", [`${K}ingress_scheme`]: "https", [`${K}ingress_host`]: "a.example.com", [`${K}ingress_path`]: "/" },
        { __address__: "plain.org", [`${K}ingress_scheme`]: "http", [`${K}ingress_host`]: "plain.org", [`${K}ingress_path`]: "/" },
      ],
    });
    await h.stop();
    fake.stop();
  });
});

describe("kubernetes_sd_configs config", () => {
  const plugins = new PluginRegistry([{ plugin, origin: "test" }]);
  const load = (entry: string, file = "p.yml") => parseConfig(`scrape_configs:\n  - job_name: j\n    kubernetes_sd_configs:\n      - ${entry.replaceAll("\n", "\n        ")}\n`, file, { plugins });
  const fail = (entry: string) => {
    try {
      load(entry);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error("expected an error");
  };
  const at = "scrape_configs[0].kubernetes_sd_configs[0]";

  test("defaults: no namespaces, no selectors, no metadata attached, the default HTTP client", () => {
    const c = load("role: pod").scrape_configs[0]!.service_discovery[0]!;
    expect(c.mechanism).toBe("kubernetes");
    expect(c.config).toMatchObject({
      role: "pod",
      namespaces: { own_namespace: false, names: [] },
      selectors: [],
      attach_metadata: { node: false, namespace: false, deployment: false, job: false, cronjob: false },
      http: { follow_redirects: true, enable_http2: true },
    });
    const k = load("role: node\nkubeconfig_file: kube/config", "/etc/g/p.yml").scrape_configs[0]!.service_discovery[0]!.config as Obj;
    expect(k.kubeconfig_file).toBe("/etc/g/kube/config");
  });

  test("errors name the field: unknown field, unknown or missing role, bad api_server", () => {
    expect(fail("role: pod\napi_servr: http://x")).toContain(`${at}.api_servr: unknown field`);
    expect(fail("role: pods")).toContain(`${at}.role: unknown Kubernetes SD role "pods"`);
    expect(fail("api_server: http://x")).toContain(`${at}.role: role missing`);
    expect(fail("role: pod\napi_server: 'not a url'")).toContain(`${at}.api_server (not a url) is not a valid URL`);
    expect(fail("role: pod\nnamespaces: {nmes: [a]}")).toContain(`${at}.namespaces.nmes: unknown field`);
    expect(fail("role: pod\nattach_metadata: {node: maybe}")).toContain(`${at}.attach_metadata.node (maybe) is not a boolean`);
  });

  test("api_server, kubeconfig_file, own_namespace and a custom HTTP config combine only as Prometheus allows", () => {
    expect(fail("role: pod\napi_server: http://x\nkubeconfig_file: k")).toContain("cannot use 'kubeconfig_file' and 'api_server' simultaneously");
    expect(fail("role: pod\nkubeconfig_file: k\nbearer_token: t")).toContain("cannot use a custom HTTP client configuration together with 'kubeconfig_file'");
    expect(fail("role: pod\ntls_config: {insecure_skip_verify: true}")).toContain("to use custom HTTP client configuration please provide the 'api_server' URL explicitly");
    expect(fail("role: pod\napi_server: http://x\nnamespaces: {own_namespace: true}")).toContain(`${at}.namespaces.own_namespace: cannot use 'api_server' and 'namespaces.own_namespace' simultaneously`);
    expect(fail("role: pod\nkubeconfig_file: k\nnamespaces: {own_namespace: true}")).toContain("cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously");
    // Spelling out the defaults is not a custom HTTP config.
    expect(() => load("role: pod\nfollow_redirects: true")).not.toThrow();
    expect(() => load("role: pod\napi_server: https://k:6443\nbearer_token: t\nnamespaces: {names: [a, b]}")).not.toThrow();
  });

  test("selector roles may not repeat and must be allowed for the main role; selectors are checked", () => {
    expect(fail("role: service\nselectors: [{role: pod, label: a=b}]")).toContain(`${at}.selectors[0].role: service role supports only service selectors`);
    expect(fail("role: endpoints\nselectors: [{role: pod}, {role: pod}]")).toContain(`${at}.selectors[1].role: duplicated selector role: pod`);
    expect(fail("role: pod\nselectors: [{role: pod, label: 'a=b=c'}]")).toContain(`${at}.selectors[0].label: invalid label selector`);
    expect(fail("role: pod\nselectors: [{role: pod, field: 'nofield'}]")).toContain(`${at}.selectors[0].field: invalid field selector`);
    const ok = load("role: endpoints\nselectors:\n  - {role: endpoints, label: 'app in (a, b),!legacy'}\n  - {role: pod, field: spec.nodeName=n1}");
    expect((ok.scrape_configs[0]!.service_discovery[0]!.config as Obj).selectors).toEqual([
      { role: "endpoints", label: "app in (a, b),!legacy", field: "" },
      { role: "pod", label: "", field: "spec.nodeName=n1" },
    ]);
  });
});

describe.skipIf(Bun.which("openssl") === null)("kubernetes_sd_configs connections", () => {
  let dir = "";
  let fake: FakeKube;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "gleaner-k8s-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "tls.key", "-out", "tls.crt", "-days", "1", "-subj", "/CN=kubernetes", "-addext", "subjectAltName=IP:127.0.0.1"], { cwd: dir, stdio: "ignore" });
    fake = new FakeKube({ cert: readFileSync(join(dir, "tls.crt"), "utf8"), key: readFileSync(join(dir, "tls.key"), "utf8") });
    fake.apply("pods", { ...pod("a", "10.0.0.1", [80]), metadata: { name: "a", namespace: "monitoring" } });
  });
  afterAll(() => {
    fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("in-cluster: https to KUBERNETES_SERVICE_HOST:PORT, the service account's CA and token, own_namespace from its namespace file", async () => {
    const sa = join(dir, "sa");
    execFileSync("mkdir", ["-p", sa]);
    writeFileSync(join(sa, "token"), "sa-token\n");
    writeFileSync(join(sa, "namespace"), "monitoring");
    writeFileSync(join(sa, "ca.crt"), readFileSync(join(dir, "tls.crt")));
    const p = kubernetesPlugin({ ...fixedTimeout, serviceAccountDir: sa, env: { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: String(fake.server.port) } });
    const before = fake.requests.length;
    const h = new Harness(p, parse({ role: "pod", namespaces: { own_namespace: "true" } }, p));
    await settle(h, () => h.addresses().length === 1);
    const reqs = fake.requests.slice(before);
    expect(reqs[0]).toEqual({ path: "/api/v1/namespaces/monitoring/pods", query: { limit: "500" }, authorization: "Bearer sa-token" });
    await h.stop();
  });

  test("in-cluster without the environment variables logs a clear error", async () => {
    const p = kubernetesPlugin({ serviceAccountDir: join(dir, "none"), env: {} });
    const h = new Harness(p, parse({ role: "pod" }, p));
    await settle(h, () => h.errors.length > 0);
    expect(h.errors[0]).toContain("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
    await h.stop();
  });

  test("kubeconfig: the current context's cluster server and CA data, and its user's token", async () => {
    const file = join(dir, "kubeconfig");
    const ca = Buffer.from(readFileSync(join(dir, "tls.crt"))).toString("base64");
    writeFileSync(
      file,
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: test",
        "contexts:",
        "  - name: other",
        "    context: {cluster: nowhere, user: nobody}",
        "  - name: test",
        "    context: {cluster: fake, user: admin, namespace: ignored}",
        "clusters:",
        "  - name: fake",
        "    cluster:",
        `      server: ${fake.url}/`,
        `      certificate-authority-data: ${ca}`,
        "users:",
        "  - name: admin",
        "    user: {token: kube-token}",
      ].join("\n"),
    );
    const before = fake.requests.length;
    const h = new Harness(tp, tp.parseConfig({ role: "pod", kubeconfig_file: "kubeconfig" }, testConfigContext(dir)));
    await settle(h, () => h.addresses().length === 1);
    expect(fake.requests.slice(before).map((r) => [r.path, r.authorization])).toEqual([
      ["/api/v1/pods", "Bearer kube-token"],
      ["/api/v1/pods", "Bearer kube-token"],
    ]);
    await h.stop();
  });

  test("kubeconfig: client certificate files relative to the kubeconfig and a tokenFile", async () => {
    const { loadKubeconfig } = await import("./index.ts");
    const file = join(dir, "kc2");
    writeFileSync(file, "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: 'https://k:6443', certificate-authority: ca.crt, insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {client-certificate: u.crt, client-key: /abs/u.key, tokenFile: tok}}]\n");
    const base = (parse({ role: "pod" }) as Obj).http;
    const c = await loadKubeconfig(file, base);
    expect(c.server).toBe("https://k:6443");
    expect(c.http.tls_config).toMatchObject({ ca_file: join(dir, "ca.crt"), cert_file: join(dir, "u.crt"), key_file: "/abs/u.key", insecure_skip_verify: true });
    expect(c.http.authorization).toEqual({ type: "Bearer", credentials_file: join(dir, "tok") });
    writeFileSync(file, "current-context: missing\ncontexts: []\n");
    await expect(loadKubeconfig(file, base)).rejects.toThrow(`${file}: context "missing" not found`);
  });
});
