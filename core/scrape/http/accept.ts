/** The scrape request's `Accept` and timeout headers (spec §1.3, §4.2). */
import { SCRAPE_PROTOCOL_MEDIA_TYPES } from "../../config/global.ts";
import type { EscapingScheme, ScrapeProtocol } from "../../config/types.ts";

const KNOWN_PROTOCOLS = Object.keys(SCRAPE_PROTOCOL_MEDIA_TYPES).length;

/**
 * Builds the `Accept` header for the configured protocols, in order, exactly as Prometheus
 * does: q-values fall from `0.<known protocols + 1>` by one step per entry, only the 1.0.0
 * text formats carry `escaping=`, the match-anything type comes last with the next q-value,
 * and nothing is separated by spaces.
 *
 * @example
 * buildAcceptHeader(["PrometheusText1.0.0"], "underscores")
 * // → text/plain;version=1.0.0;escaping=underscores;q=0.6, then the catch-all with q=0.5
 */
export function buildAcceptHeader(protocols: readonly ScrapeProtocol[], escapingScheme: EscapingScheme): string {
  let weight = KNOWN_PROTOCOLS + 1;
  if (protocols.length >= weight) {
    throw new RangeError(`Cannot build an Accept header for ${protocols.length} scrape protocols: at most ${KNOWN_PROTOCOLS} (one of each) are allowed`);
  }
  const parts: string[] = [];
  for (const protocol of protocols) {
    const mediaType = SCRAPE_PROTOCOL_MEDIA_TYPES[protocol];
    if (mediaType === undefined) throw new TypeError(`Cannot build an Accept header: unknown scrape protocol "${protocol}"`);
    const escaping = protocol === "PrometheusText1.0.0" || protocol === "OpenMetricsText1.0.0" ? `;escaping=${escapingScheme}` : "";
    parts.push(`${mediaType}${escaping};q=0.${weight}`);
    weight--;
  }
  parts.push(`*/*;q=0.${weight}`);
  return parts.join(",");
}

/**
 * `X-Prometheus-Scrape-Timeout-Seconds`: the timeout in seconds with the fewest digits, as
 * Go's `FormatFloat(s, 'f', -1, 64)`: 10000 ms → "10", 1500 ms → "1.5", 500 ms → "0.5".
 * Timeouts are whole milliseconds, so JavaScript's shortest form never needs an exponent.
 */
export function formatTimeoutSeconds(timeoutMs: number): string {
  return String(timeoutMs / 1000);
}
