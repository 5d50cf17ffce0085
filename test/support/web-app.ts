/** The hono app of the web layer with quiet defaults, for tests that call it in process. */
import type { Hono } from "hono";
import { createLogger } from "../../core/log/logger.ts";
import { Registry } from "../../core/metrics/registry.ts";
import { createWebApp, type WebOptions } from "../../core/web/app.ts";

export function testWebApp(overrides: Partial<WebOptions> = {}): Hono {
  return createWebApp({
    registry: new Registry(),
    log: createLogger({ level: "error", format: "logfmt", write: () => {} }),
    enableLifecycle: false,
    isReady: () => true,
    reload: async () => {},
    quit: () => {},
    ...overrides,
  });
}
