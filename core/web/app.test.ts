import { expect, test } from "bun:test";
import { Registry } from "../metrics/registry.ts";
import type { WebOptions } from "./app.ts";
import { testWebApp } from "../../test/support/web-app.ts";

function app(overrides: Partial<WebOptions> = {}) {
  const registry = new Registry();
  registry.gauge("up_test", "x").set({}, 1);
  return testWebApp({ registry, ...overrides });
}

test("/-/healthy and /-/ready answer 200 when ready", async () => {
  expect((await app().request("/-/healthy")).status).toBe(200);
  expect(await (await app().request("/-/ready")).text()).toBe("Gleaner Server is Ready.\n");
  expect((await app().request("/-/ready", { method: "HEAD" })).status).toBe(200);
});

test("/-/ready answers 503 until gleaner is ready", async () => {
  expect((await app({ isReady: () => false }).request("/-/ready")).status).toBe(503);
});

test("/-/reload is refused without --web.enable-lifecycle", async () => {
  let reloads = 0;
  const res = await app({ reload: async () => void reloads++ }).request("/-/reload", { method: "POST" });
  expect(res.status).toBe(403);
  expect(reloads).toBe(0);
});

test("/-/reload reloads with the lifecycle API, and reports a failed reload as 500", async () => {
  let reloads = 0;
  expect((await app({ enableLifecycle: true, reload: async () => void reloads++ }).request("/-/reload", { method: "POST" })).status).toBe(200);
  expect(reloads).toBe(1);
  const bad = await app({ enableLifecycle: true, reload: async () => Promise.reject(new Error("p.yml:3:1: nope")) }).request("/-/reload", { method: "PUT" });
  expect(bad.status).toBe(500);
  expect(await bad.text()).toBe("failed to reload config: p.yml:3:1: nope\n");
  expect((await app({ enableLifecycle: true }).request("/-/reload")).status).toBe(405);
});

test("/-/quit asks for shutdown only with the lifecycle API", async () => {
  let quits = 0;
  expect((await app({ quit: () => void quits++ }).request("/-/quit", { method: "POST" })).status).toBe(403);
  expect((await app({ enableLifecycle: true, quit: () => void quits++ }).request("/-/quit", { method: "POST" })).status).toBe(200);
  await Bun.sleep(5);
  expect(quits).toBe(1);
});

test("/metrics serves the registry in the text format", async () => {
  const res = await app().request("/metrics");
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  expect(await res.text()).toContain("up_test 1\n");
});

test("unknown paths are 404", async () => {
  expect((await app().request("/nope")).status).toBe(404);
});
