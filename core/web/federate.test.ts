import { beforeAll, expect, test } from "bun:test";
import { Hono } from "hono";
import { Labels } from "../model/labels.ts";
import { MemoryStorage } from "../../storage/memory.ts";
import { formatGoFloat, negotiateFormat, registerFederateRoute } from "./federate.ts";

const NOW = 1_800_000_000_000;
const app = new Hono();

beforeAll(async () => {
  const s = new MemoryStorage(() => NOW);
  const a = s.appender();
  a.append(0, Labels.from({ __name__: "up", job: "self", instance: "h:1" }), NOW - 400_000, 0);
  a.append(0, Labels.from({ __name__: "up", job: "self", instance: "h:1" }), NOW - 10_000, 1);
  a.append(0, Labels.from({ __name__: "up", job: "noinst" }), NOW - 20_000, 1);
  a.append(0, Labels.from({ __name__: "old", job: "x" }), NOW - 301_000, 5);
  a.append(0, Labels.from({ __name__: "gone", job: "x" }), NOW - 30_000, 5);
  a.appendStale(0, Labels.from({ __name__: "gone", job: "x" }), NOW - 15_000);
  a.append(0, Labels.from({ __name__: "a_metric", env: "prod", q: 'say "hi"\n' }), NOW - 1_000, 1234567);
  await a.commit();
  registerFederateRoute(app, { querier: () => s, lookbackDeltaMs: 300_000, externalLabels: () => ({ env: "fed", region: "eu" }), now: () => NOW });
});

test("/federate returns each series' latest sample within the lookback, untyped and sorted by name, with external labels", async () => {
  const res = await app.request(`/federate?match[]=${encodeURIComponent("{job=~\".+\"}")}&match[]=up&match[]=a_metric`);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  expect(await res.text()).toBe(
    [
      "# TYPE a_metric untyped",
      'a_metric{env="prod",q="say \\"hi\\"\\n",instance="",region="eu"} 1.234567e+06 1799999999000',
      "# TYPE up untyped",
      'up{instance="h:1",job="self",env="fed",region="eu"} 1 1799999990000',
      'up{job="noinst",env="fed",instance="",region="eu"} 1 1799999980000',
      "",
    ].join("\n"),
  );
});

test("/federate answers 200 with nothing for no match[], and 400 in plain text for a bad selector", async () => {
  const empty = await app.request("/federate");
  expect({ status: empty.status, body: await empty.text() }).toEqual({ status: 200, body: "" });
  const bad = await app.request(`/federate?match[]=${encodeURIComponent("up{")}`);
  expect(bad.status).toBe(400);
  expect(bad.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  expect(await bad.text()).toStartWith("1:4: parse error:");
});

test("/federate writes delimited protobuf when the Accept header asks for it", async () => {
  const res = await app.request("/federate?match[]=up", { headers: { Accept: "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3" } });
  expect(res.headers.get("content-type")).toBe("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited");
  const bytes = new Uint8Array(await res.arrayBuffer());
  // One MetricFamily: a varint length prefix, then name "up" (field 1) and type UNTYPED (field 3 = 3).
  expect((bytes[0]! & 0x7f) + (bytes[1]! << 7)).toBe(bytes.length - 2);
  expect([...bytes.subarray(2, 8)]).toEqual([0x0a, 2, 0x75, 0x70, 0x18, 3]);
  expect(new TextDecoder().decode(bytes)).toContain("noinst");
});

test("negotiateFormat() and formatGoFloat() follow expfmt and Go's %g", () => {
  expect(negotiateFormat("")).toBe("text");
  expect(negotiateFormat("text/plain;version=0.0.4;q=0.5,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")).toBe("protobuf");
  expect(negotiateFormat("application/openmetrics-text;version=1.0.0")).toBe("text");
  expect([1, 0.001, 0.0001, 123456, 1234567, 1e21, 1.5e-7, NaN, -Infinity].map(formatGoFloat)).toEqual(["1", "0.001", "0.0001", "123456", "1.234567e+06", "1e+21", "1.5e-07", "NaN", "-Inf"]);
});

test("/federate writes one delimited MetricFamily per metric name, each holding its metrics", async () => {
  const res = await app.request(`/federate?match[]=up&match[]=a_metric`, { headers: { Accept: "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited" } });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const varint = (at: number): [number, number] => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[at++]!;
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return [v, at];
    }
  };
  const families: Array<{ name: string; metrics: number }> = [];
  let at = 0;
  while (at < bytes.length) {
    const [len, start] = varint(at);
    const body = bytes.subarray(start, start + len);
    // Field 1 (name) first; metrics are field 4 (tag 0x22).
    const name = new TextDecoder().decode(body.subarray(2, 2 + body[1]!));
    let metrics = 0;
    let k = 2 + body[1]! + 2; // past the name and the type (field 3)
    while (k < body.length) {
      expect(body[k]).toBe(0x22);
      let mlen = 0;
      let shift = 0;
      let j = k + 1;
      for (;;) {
        const b = body[j++]!;
        mlen += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (b < 0x80) break;
      }
      k = j + mlen;
      metrics++;
    }
    expect(k).toBe(body.length);
    families.push({ name, metrics });
    at = start + len;
  }
  expect(families).toEqual([
    { name: "a_metric", metrics: 1 },
    { name: "up", metrics: 2 },
  ]);
});
