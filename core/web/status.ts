/**
 * `/api/v1/status/{buildinfo,config,flags,runtimeinfo,walreplay}`, `/api/v1/rules`, `/api/v1/alerts`
 * and `/api/v1/alertmanagers`
 * in Prometheus's shapes. Grafana's data source probes buildinfo (with no `features` key, or
 * it takes us for Mimir) and rules; Prometheus's own UI reads the others.
 */
import type { Hono } from "hono";
import { parseDocument, isPair, isScalar, visit } from "yaml";
import { VERSION } from "../version.ts";
import { apiError } from "./api.ts";
import { success } from "./api-response.ts";
import { jsonString } from "./api-json.ts";

export interface RuntimeState {
  /** ms */
  startTime: number;
  reloadConfigSuccess: boolean;
  /** ms of the last successful config load (0: never). */
  lastConfigTime: number;
  /** `--storage.tsdb.retention.time` as given, e.g. "15d". */
  storageRetention: string;
}

export interface StatusOptions {
  /** Every command-line flag with its value (defaults included), as Prometheus lists them. */
  flags?: Record<string, string>;
  /** The text of the config file that is running, or null before one loaded. */
  configText?: () => string | null;
  runtime?: () => RuntimeState;
}

/** Keys whose values are secrets in Prometheus's config types (config.Secret), shown as `<secret>`. */
const SECRET_KEYS = new Set(["password", "bearer_token", "credentials", "client_secret", "secret_key", "application_credential_secret", "auth_token", "token"]);

/** The config YAML with every secret replaced by `<secret>`, as Prometheus's /api/v1/status/config shows it. */
export function redactConfig(text: string): string {
  const doc = parseDocument(text);
  visit(doc, {
    Pair(_key, pair, path) {
      if (!isPair(pair) || !isScalar(pair.key) || !isScalar(pair.value)) return;
      const key = String(pair.key.value);
      const parent = path.at(-2);
      // A TLS private key is a secret too; `key` elsewhere (e.g. in relabeling) is not.
      const inTls = isPair(parent) && isScalar(parent.key) && String(parent.key.value).endsWith("tls_config");
      if (SECRET_KEYS.has(key) || (key === "key" && inTls)) {
        if (pair.value.value !== null && pair.value.value !== "") pair.value.value = "<secret>";
      }
    },
  });
  return doc.toString();
}

const isoSeconds = (ms: number) => (ms === 0 ? "0001-01-01T00:00:00Z" : new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z"));

export function registerStatusRoutes(app: Hono, opts: StatusOptions): void {
  app.get("/api/v1/status/buildinfo", () =>
    success(
      `{"version":${jsonString(VERSION)},"revision":${jsonString(process.env.GLEANER_REVISION ?? "")},"branch":"","buildUser":"","buildDate":"","goVersion":${jsonString(`bun${Bun.version}`)}}`,
    ),
  );

  app.get("/api/v1/status/config", () => success(`{"yaml":${jsonString(redactConfig(opts.configText?.() ?? ""))}}`));

  app.get("/api/v1/status/flags", () => {
    const flags = opts.flags ?? {};
    const names = Object.keys(flags).sort();
    return success(`{${names.map((n) => `${jsonString(n)}:${jsonString(flags[n]!)}`).join(",")}}`);
  });

  app.get("/api/v1/status/runtimeinfo", () => {
    const r = opts.runtime?.() ?? { startTime: 0, reloadConfigSuccess: false, lastConfigTime: 0, storageRetention: "" };
    const data = {
      startTime: r.startTime === 0 ? "0001-01-01T00:00:00Z" : new Date(r.startTime).toISOString(),
      CWD: process.cwd(),
      reloadConfigSuccess: r.reloadConfigSuccess,
      lastConfigTime: isoSeconds(r.lastConfigTime),
      corruptionCount: 0,
      goroutineCount: 0,
      GOMAXPROCS: navigator.hardwareConcurrency,
      GOGC: "",
      GODEBUG: "",
      storageRetention: r.storageRetention,
    };
    return success(JSON.stringify(data));
  });

  // gleaner's WAL replay finishes before the API listens; there is no alerting to send to Alertmanagers.
  app.get("/api/v1/status/walreplay", () => success(`{"min":0,"max":0,"current":0}`));
  app.get("/api/v1/alertmanagers", () => success(`{"activeAlertmanagers":[],"droppedAlertmanagers":[]}`));
  app.get("/api/v1/rules", (c) => {
    // As Prometheus: the type filter is checked even though there are no rules to filter.
    const type = (c.req.query("type") ?? "").toLowerCase();
    if (type !== "" && type !== "alert" && type !== "record") return apiError(c, "bad_data", `invalid parameter "type": not supported value ${JSON.stringify(type)}`);
    return success(`{"groups":[]}`);
  });
  app.get("/api/v1/alerts", () => success(`{"alerts":[]}`));
}
