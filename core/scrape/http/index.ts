/** The scrape HTTP client: what a scrape loop calls once per scrape (spec §1.3, §4.2–4.4). */
export { buildAcceptHeader, formatTimeoutSeconds } from "./accept.ts";
export { BodyBuffer, BodyBufferPool } from "./body.ts";
export { DEFAULT_USER_AGENT, ScrapeClient, type ScrapeClientOptions, type ScrapeOptions, type ScrapeResult } from "./client.ts";
export { parseMediaType, selectFormat, type FormatSelection, type ScrapeFormat } from "./content-type.ts";
export { ScrapeError, type ScrapeErrorKind } from "./errors.ts";
