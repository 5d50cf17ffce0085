import { expect, test } from "bun:test";
import { Hono } from "hono";
import { redactConfig, registerStatusRoutes } from "./status.ts";

test("redactConfig() shows secrets as <secret> and leaves everything else as written", () => {
  const yaml = `global:
  scrape_interval: 15s
scrape_configs:
  - job_name: a
    basic_auth: { username: u, password: hunter2 }
    authorization: { credentials: tok3n }
    bearer_token: abc
    oauth2: { client_id: id, client_secret: s3, token_url: "http://x" }
    tls_config: { key: PRIVATE, cert_file: c.pem }
    relabel_configs:
      - { source_labels: [key], target_label: password_hint }
`;
  const out = redactConfig(yaml);
  for (const secret of ["hunter2", "tok3n", "abc", "s3", "PRIVATE"]) expect(out).not.toContain(secret);
  expect(out.match(/<secret>/g)?.length).toBe(5);
  expect(out).toContain("username: u");
  expect(out).toContain("cert_file: c.pem");
  expect(out).toContain("source_labels: [ key ]");
});

test("/api/v1/status/config and /api/v1/status/flags show the running config and every flag", async () => {
  const app = new Hono();
  registerStatusRoutes(app, { flags: { "query.timeout": "2m", "config.file": "p.yml" }, configText: () => "global:\n  scrape_interval: 1m\nremote_write:\n  - url: http://x\n    basic_auth: {username: a, password: b}\n" });
  const config = (await (await app.request("/api/v1/status/config")).json()) as { data: { yaml: string } };
  expect(config.data.yaml).toContain("password: <secret>");
  expect(await (await app.request("/api/v1/status/flags")).text()).toBe('{"status":"success","data":{"config.file":"p.yml","query.timeout":"2m"}}');
});
