import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OAuth2Config } from "../../config/types.ts";
import { VERSION } from "../../version.ts";
import { ScrapeClient, type ScrapeOptions } from "./client.ts";
import { httpConfig, reply, startRawServer, type RawRequest, type RawServer } from "./test-servers.ts";
import { encodeValues, queryEscape } from "./query.ts";

const opts: ScrapeOptions = { timeoutMs: 1_000, acceptHeader: "*/*", bodySizeLimit: 0, enableCompression: true };
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

let dir: string;
let tokenServer: RawServer;
let target: RawServer;
let issue: (req: RawRequest) => { status: string; body: string; type?: string };
let issued = 0;
let now = 1_700_000_000_000;
const clients: ScrapeClient[] = [];

function oauth(over: Partial<OAuth2Config> = {}): OAuth2Config {
  return {
    client_id: "gleaner", client_secret: "s3cret", scopes: [], token_url: tokenServer.url("/oauth/token"), endpoint_params: {},
    tls_config: { insecure_skip_verify: false, min_version: "TLS12" }, proxy_from_environment: false, proxy_connect_header: {},
    ...over,
  };
}
function client(o: OAuth2Config): ScrapeClient {
  const c = new ScrapeClient(httpConfig({ oauth2: o }), { now: () => now });
  clients.push(c);
  return c;
}
const bearer = (n: number) => ({ status: "200 OK", body: JSON.stringify({ access_token: `tok-${n}`, token_type: "bearer", expires_in: 3600 }) });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gleaner-oauth2-"));
  tokenServer = await startRawServer((req, s) => {
    const { status, body, type } = issue(req);
    reply(s, status, { "Content-Type": type ?? "application/json" }, body);
  });
  target = await startRawServer((_req, s) => reply(s, "200 OK", { "Content-Type": "text/plain" }, "up 1\n"));
});
afterEach(() => {
  tokenServer.requests.length = 0;
  target.requests.length = 0;
  issued = 0;
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await tokenServer.close();
  await target.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("oauth2 client credentials", () => {
  test("the token request is a form POST with HTTP Basic client authentication", async () => {
    issue = () => bearer(++issued);
    const r = await client(oauth({ scopes: ["read:metrics", "openid"], endpoint_params: { audience: "https://api.example", resource: "a b" } })).scrape(target.url(), opts);
    expect(r.ok).toBe(true);
    const req = tokenServer.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.target).toBe("/oauth/token");
    expect(req.get("Content-Type")).toBe("application/x-www-form-urlencoded");
    expect(req.get("Authorization")).toBe(basic("gleaner", "s3cret"));
    expect(req.get("User-Agent")).toBe(`gleaner/${VERSION}`);
    // Keys sorted and escaped as Go's url.Values.Encode does.
    expect(req.body.toString()).toBe("audience=https%3A%2F%2Fapi.example&grant_type=client_credentials&resource=a+b&scope=read%3Ametrics+openid");
    expect(target.requests[0]!.all("Authorization")).toEqual(["Bearer tok-1"]);
  });

  test("a token is reused until 10 seconds before it expires", async () => {
    issue = () => bearer(++issued);
    const c = client(oauth());
    await c.scrape(target.url(), opts);
    now += 3_589_000;
    await c.scrape(target.url(), opts);
    now += 2_000; // now 3591 s after issue: inside the 10 s margin
    await c.scrape(target.url(), opts);
    expect(target.requests.map((r) => r.get("Authorization"))).toEqual(["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]);
    expect(tokenServer.requests.length).toBe(2);
  });

  test("concurrent scrapes share one token request", async () => {
    issue = () => bearer(++issued);
    const c = client(oauth());
    const results = await Promise.all([1, 2, 3, 4].map(() => c.scrape(target.url(), opts)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(tokenServer.requests.length).toBe(1);
  });

  test("a server that refuses HTTP Basic gets the credentials in the body, and that is remembered", async () => {
    issue = (req) => req.get("Authorization") !== undefined
      ? { status: "401 Unauthorized", body: JSON.stringify({ error: "invalid_client" }) }
      : { status: "200 OK", body: JSON.stringify({ access_token: `tok-${++issued}`, expires_in: 60 }) };
    const c = client(oauth({ client_id: "id with space", client_secret: "p&ss" }));
    expect(await c.scrape(target.url(), opts)).toMatchObject({ ok: true });
    now += 60_000;
    expect(await c.scrape(target.url(), opts)).toMatchObject({ ok: true });
    expect(tokenServer.requests.map((r) => [r.get("Authorization"), r.body.toString()])).toEqual([
      [basic("id+with+space", "p%26ss"), "grant_type=client_credentials"],
      [undefined, "client_id=id+with+space&client_secret=p%26ss&grant_type=client_credentials"],
      [undefined, "client_id=id+with+space&client_secret=p%26ss&grant_type=client_credentials"],
    ]);
    expect(target.requests.map((r) => r.get("Authorization"))).toEqual(["Bearer tok-1", "Bearer tok-2"]);
  });

  test("client_secret_file is read on every scrape, and a new secret fetches a new token", async () => {
    issue = () => bearer(++issued);
    const file = join(dir, "secret");
    writeFileSync(file, "first\n");
    const { client_secret: _inline, ...withoutSecret } = oauth();
    const c = client({ ...withoutSecret, client_secret_file: file });
    await c.scrape(target.url(), opts);
    await c.scrape(target.url(), opts);
    writeFileSync(file, "second\n");
    await c.scrape(target.url(), opts);
    expect(tokenServer.requests.map((r) => r.get("Authorization"))).toEqual([basic("gleaner", "first"), basic("gleaner", "second")]);
    expect(target.requests.map((r) => r.get("Authorization"))).toEqual(["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]);
  });

  test("a token endpoint error fails the scrape with the server's error, and the target is not asked", async () => {
    issue = () => ({ status: "400 Bad Request", body: JSON.stringify({ error: "invalid_scope", error_description: "no such scope" }) });
    const r = await client(oauth({ scopes: ["x"] })).scrape(target.url(), opts);
    expect(r).toMatchObject({ ok: false, error: `Get "${target.url()}": oauth2: "invalid_scope" "no such scope"`, failure: { kind: "setup" } });
    expect(target.requests.length).toBe(0);
  });

  test("a non-JSON error response is quoted in the error", async () => {
    issue = () => ({ status: "500 Internal Server Error", body: "boom", type: "text/html" });
    const r = await client(oauth()).scrape(target.url(), opts);
    expect(r).toMatchObject({ ok: false, error: `Get "${target.url()}": oauth2: cannot fetch token: 500 Internal Server Error\nResponse: boom` });
  });

  test("a form-encoded token response and a missing access_token are handled as x/oauth2 does", async () => {
    issue = () => ({ status: "200 OK", body: "access_token=form-tok&token_type=mac", type: "application/x-www-form-urlencoded" });
    expect(await client(oauth()).scrape(target.url(), opts)).toMatchObject({ ok: true });
    expect(target.requests.at(-1)!.get("Authorization")).toBe("MAC form-tok");
    issue = () => ({ status: "200 OK", body: "{}" });
    const r = await client(oauth()).scrape(target.url(), opts);
    expect(r).toMatchObject({ ok: false, error: `Get "${target.url()}": oauth2: server response missing access_token` });
  });
});

test("queryEscape() and encodeValues() match Go's url.QueryEscape and Values.Encode", () => {
  expect(queryEscape("a b!*'()~-_.é/")).toBe("a+b%21%2A%27%28%29~-_.%C3%A9%2F");
  expect(encodeValues(new Map([["z", ["1"]], ["a", ["x y", "2"]]]))).toBe("a=x+y&a=2&z=1");
});
