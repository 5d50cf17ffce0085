/**
 * http_sd_configs (spec §1.6, Prometheus's HTTP SD protocol): every refresh_interval, GET
 * the url and read a JSON list of `{targets, labels}` groups. Any bad answer (not 200, not
 * JSON, a null group, an unknown field) is an error naming the url, so the last targets stay.
 */
import { z } from "zod";
import { duration, str } from "../../../core/config/schema/fields.ts";
import type { HttpClientConfig } from "../../../core/config/types.ts";
import type { TargetGroup } from "../../../core/discovery/types.ts";
import { definePlugin } from "../../../core/plugin.ts";

export interface HttpSDConfig {
  url: string;
  /** Milliseconds; also the request timeout. */
  refresh_interval: number;
  http: HttpClientConfig;
}

const configSchema = z.strictObject({
  url: str.nullish(),
  refresh_interval: duration.nullish(),
});

/** `application/json`, optionally with a utf-8 charset (Prometheus's exact rule). */
const CONTENT_TYPE = /^application\/json(;\s*charset=("utf-8"|utf-8))?$/i;

const groupSchema = z.strictObject({
  targets: z.array(z.string()).nullish(),
  labels: z.record(z.string(), z.string().nullable()).nullish(),
});

/** Reads one response body into groups with source `<url>:<index>` and `__meta_url`. */
export function parseHttpGroups(url: string, text: string): TargetGroup[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new SyntaxError(`${url}: response is not valid JSON: ${(err as Error).message}`);
  }
  // Go decodes `null` into a nil slice: no targets.
  if (data === null) return [];
  if (!Array.isArray(data)) throw new TypeError(`${url}: expected a list of target groups, got ${typeof data}`);
  return data.map((g: unknown, i) => {
    if (g === null) throw new TypeError(`${url}: group ${i} is null`);
    const r = groupSchema.safeParse(g);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      const where = issue.path.length > 0 ? `.${issue.path.join(".")}` : "";
      throw new TypeError(`${url}: group ${i}${where}: ${issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.join(", ")}` : issue.message}`);
    }
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.data.labels ?? {})) labels[k] = v ?? "";
    labels.__meta_url = url;
    return { source: `${url}:${i}`, targets: (r.data.targets ?? []).map((t) => ({ __address__: t })), labels };
  });
}

export default definePlugin<HttpSDConfig>({
  apiVersion: 1,
  kind: "discovery",
  name: "http",
  parseConfig(raw, ctx) {
    const { http, rest } = ctx.httpClient(raw);
    const c = ctx.validate(configSchema, rest);
    if (c.url === undefined || c.url === null || c.url === "") throw ctx.error(["url"], "URL is missing");
    let parsed: URL;
    try {
      parsed = new URL(c.url);
    } catch {
      throw ctx.error(["url"], `(${c.url}) is not a valid URL`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw ctx.error(["url"], `URL scheme must be 'http' or 'https', got "${parsed.protocol.slice(0, -1)}" in ${c.url}`);
    // WHATWG URL turns `http:///sd` into host "sd"; Go's net/url (and so Prometheus) sees no host.
    const authority = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?([^/?#]*)/i.exec(c.url)?.[1] ?? "";
    if (authority === "" || parsed.host === "") throw ctx.error(["url"], `host is missing in URL ${c.url}`);
    const refresh = c.refresh_interval ?? 60_000;
    if (refresh <= 0) throw ctx.error(["refresh_interval"], "refresh_interval must be greater than 0");
    return { url: c.url, refresh_interval: refresh, http };
  },
  create(config, ctx) {
    const client = ctx.http(config.http);
    // Go's FormatFloat(s, 'f', -1): 60 → "60", 1.5 → "1.5"; String() agrees for these values.
    const intervalHeader = String(config.refresh_interval / 1000);
    return ctx.refresh({
      interval: config.refresh_interval,
      async refresh(signal) {
        const timeout = AbortSignal.timeout(config.refresh_interval);
        const res = await client.request(config.url, {
          method: "GET",
          headers: { Accept: "application/json", "X-Prometheus-Refresh-Interval-Seconds": intervalHeader },
          signal: AbortSignal.any([signal, timeout]),
          timeoutMs: config.refresh_interval,
        }).catch((err: Error) => {
          throw new Error(`${config.url}: request failed: ${timeout.aborted ? `timed out after ${intervalHeader}s` : err.message}`);
        });
        if (res.status !== 200) {
          await res.body?.cancel();
          throw new Error(`${config.url}: server returned HTTP status ${res.status} ${res.statusText}`.trimEnd());
        }
        const type = res.headers.get("content-type") ?? "";
        if (!CONTENT_TYPE.test(type)) {
          await res.body?.cancel();
          throw new Error(`${config.url}: unsupported content type ${JSON.stringify(type)} (want application/json)`);
        }
        let text: string;
        try {
          text = await res.text();
        } catch (err) {
          throw new Error(`${config.url}: reading the response failed: ${(err as Error).message}`);
        }
        return parseHttpGroups(config.url, text);
      },
    });
  },
});
