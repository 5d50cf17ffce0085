/**
 * A target's metric metadata (HELP, TYPE, UNIT per family) for the metadata APIs
 * (spec §4.10): kept until 10 scrapes after a family was last seen. Families are decoded
 * to strings only when the family list changed or every 10th scrape, never per sample.
 */
import type { MetricMetadata } from "./pool.ts";

const TYPES = ["unknown", "counter", "gauge", "histogram", "summary", "gaugehistogram", "info", "stateset"];
const REFRESH_EVERY = 10;
const KEEP_FOR = 10;

interface FamilySource {
  familyCount: number;
  familyAt(f: number): { name: string; type: number; help: string; unit: string };
}

export class MetadataCache {
  readonly #entries = new Map<string, MetricMetadata & { lastSeen: number }>();
  #scrapes = 0;
  #lastRefresh = -Infinity;
  #lastFamilyCount = -1;

  update(parsed: FamilySource): void {
    this.#scrapes++;
    const n = parsed.familyCount;
    if (n === this.#lastFamilyCount && this.#scrapes - this.#lastRefresh < REFRESH_EVERY) return;
    this.#lastFamilyCount = n;
    this.#lastRefresh = this.#scrapes;
    for (let f = 0; f < n; f++) {
      const m = parsed.familyAt(f);
      this.#entries.set(m.name, { metric: m.name, type: TYPES[m.type] ?? "unknown", help: m.help, unit: m.unit, lastSeen: this.#scrapes });
    }
    for (const [name, e] of this.#entries) if (this.#scrapes - e.lastSeen > KEEP_FOR + REFRESH_EVERY) this.#entries.delete(name);
  }

  list(): MetricMetadata[] {
    return [...this.#entries.values()].map(({ metric, type, help, unit }) => ({ metric, type, help, unit }));
  }
}
