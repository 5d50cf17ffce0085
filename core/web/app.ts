/**
 * The HTTP surface: health and readiness probes, the lifecycle API, and gleaner's own
 * metrics. Later issues add /api/v1/* here.
 */
import { Hono } from "hono";
import type { Logger } from "../log/logger.ts";
import type { Registry } from "../metrics/registry.ts";
import type { ScrapeManager } from "../scrape/manager.ts";
import { registerMetadataRoutes, registerTargetRoutes } from "./targets.ts";
import { ok } from "./api.ts";
import { registerSeriesRoutes } from "./series.ts";
import { registerRemoteWriteRoute, type RemoteWriteReceiverOptions } from "./remote-write.ts";
import type { LabelQuerier } from "../../storage/types.ts";
import type { ProviderStatus } from "../discovery/manager.ts";
import type { QueryEngine } from "../query/engine.ts";
import type { ExemplarQuerier } from "../../storage/types.ts";
import type { Querier } from "../../storage/types.ts";
import { registerQueryRoutes } from "./query.ts";
import { gzipResponses, registerMethodNotAllowed } from "./http-compat.ts";
import { registerFederateRoute } from "./federate.ts";
import { registerStatusRoutes, type StatusOptions } from "./status.ts";

export interface WebOptions {
  registry: Registry;
  log: Logger;
  /** `--web.enable-lifecycle`: allow POST /-/reload and /-/quit. */
  enableLifecycle: boolean;
  isReady(): boolean;
  /** Reloads the config; rejects with the reason when the new config is invalid. */
  reload(): Promise<void>;
  /** Starts a clean shutdown. */
  quit(): void;
  /** The scrape manager, for /api/v1/targets (null before scraping starts). */
  scrapeManager?: () => ScrapeManager | null;
  /** Discovery providers and their state, for /api/v1/status/discovery. */
  discovery?: () => ProviderStatus[];
  /** The storage's series and label index, for /api/v1/series, labels and status/tsdb. */
  labels?: () => LabelQuerier | null;
  /** `--web.enable-remote-write-receiver`: POST /api/v1/write stores into this storage. */
  remoteWriteReceiver?: RemoteWriteReceiverOptions;
  /** The PromQL engine for /api/v1/query and query_range (null before storage is open). */
  engine?: () => QueryEngine | null;
  /** Exemplar storage for /api/v1/query_exemplars (null: disabled, the answer is []). */
  exemplars?: () => ExemplarQuerier | null;
  /** `--query.timeout` in ms. */
  queryTimeoutMs?: number;
  /** Sample reads for /federate. */
  querier?: () => Querier | null;
  /** `--query.lookback-delta` in ms (for /federate). */
  lookbackDeltaMs?: number;
  /** `global.external_labels` of the running config (for /federate). */
  externalLabels?: () => Record<string, string>;
  /** Flags, config text and runtime state for /api/v1/status/*. */
  status?: StatusOptions;
}

const TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";

export function createWebApp(opts: WebOptions): Hono {
  const app = new Hono();
  app.use("/api/*", gzipResponses);
  app.use("/federate", gzipResponses);

  app.on(["GET", "HEAD"], "/-/healthy", (c) => c.text("Gleaner Server is Healthy.\n"));
  app.on(["GET", "HEAD"], "/-/ready", (c) =>
    opts.isReady() ? c.text("Gleaner Server is Ready.\n") : c.text("Service Unavailable\n", 503),
  );

  const lifecycle = (action: () => Promise<Response> | Response) => async () => {
    if (!opts.enableLifecycle) return new Response("Lifecycle API is not enabled.\n", { status: 403 });
    return action();
  };
  app.on(["POST", "PUT"], "/-/reload", lifecycle(async () => {
    try {
      await opts.reload();
      return new Response(null, { status: 200 });
    } catch (err) {
      return new Response(`failed to reload config: ${(err as Error).message}\n`, { status: 500 });
    }
  }));
  app.on(["POST", "PUT"], "/-/quit", lifecycle(() => {
    setTimeout(() => opts.quit(), 0);
    return new Response("Requesting termination... Goodbye!\n", { status: 200 });
  }));
  for (const path of ["/-/reload", "/-/quit"]) {
    app.get(path, (c) => c.text(`Only POST or PUT requests allowed\n`, 405));
  }

  registerTargetRoutes(app, opts.scrapeManager ?? (() => null));
  registerMetadataRoutes(app, opts.scrapeManager ?? (() => null));
  registerSeriesRoutes(app, opts.labels ?? (() => null));
  if (opts.remoteWriteReceiver) registerRemoteWriteRoute(app, opts.remoteWriteReceiver);
  registerQueryRoutes(app, { engine: opts.engine ?? (() => null), ...(opts.exemplars ? { exemplars: opts.exemplars } : {}), ...(opts.queryTimeoutMs !== undefined ? { timeoutMs: opts.queryTimeoutMs } : {}) });
  registerStatusRoutes(app, opts.status ?? {});
  registerFederateRoute(app, { querier: opts.querier ?? (() => null), lookbackDeltaMs: opts.lookbackDeltaMs ?? 300_000, externalLabels: opts.externalLabels ?? (() => ({})) });
  app.get("/api/v1/status/discovery", (c) =>
    ok(c, {
      providers: (opts.discovery?.() ?? []).map((p) => ({ ...p, lastUpdate: p.lastUpdate === 0 ? "0001-01-01T00:00:00Z" : new Date(p.lastUpdate).toISOString() })),
    }),
  );

  app.get("/metrics", (c) => c.body(opts.registry.expose(), 200, { "Content-Type": TEXT_FORMAT }));
  app.get("/", (c) => c.redirect("/-/healthy", 302));
  registerMethodNotAllowed(app);

  app.notFound((c) => c.text("404 page not found\n", 404));
  app.onError((err, c) => {
    opts.log.error("HTTP handler failed", { path: c.req.path, err });
    return c.text(`internal error: ${err.message}\n`, 500);
  });
  return app;
}
