/**
 * Loads an OpenMetrics file (timestamps in seconds, ending in `# EOF`) into a gleaner
 * Storage — the same file `promtool tsdb create-blocks-from openmetrics` backfills into
 * Prometheus, so both hold the same samples. Large files are parsed in slices of lines
 * (each slice gets its own `# EOF`), so WASM memory stays small.
 */
import { Labels } from "../../core/model/labels.ts";
import type { Storage } from "../../storage/types.ts";
import { createCore } from "../../wasm/index.ts";
import { ExpositionParser, Format } from "../../wasm/parser.ts";

const SLICE_BYTES = 8 << 20;

/** Appends every sample of `text` (OpenMetrics) to `storage`; returns the number of samples. */
export async function loadOpenMetrics(storage: Storage, text: string): Promise<number> {
  const parser = new ExpositionParser(await createCore());
  const encoder = new TextEncoder();
  const refs = new Map<string, number>();
  let total = 0;
  const body = text.replace(/# EOF\n?$/, "");
  for (let from = 0; from < body.length; ) {
    let to = Math.min(body.length, from + SLICE_BYTES);
    if (to < body.length) to = body.indexOf("\n", to) + 1 || body.length;
    const slice = body.slice(from, to);
    from = to;
    const r = parser.parse(encoder.encode(`${slice}# EOF\n`), Format.OpenMetrics);
    if (!r.ok) throw new SyntaxError(`Cannot load OpenMetrics data: line ${r.line} of a slice: ${r.reason}`);
    const app = storage.appender();
    for (let i = 0; i < r.count; i++) {
      if (!r.hasTimestamp(i)) throw new SyntaxError(`Cannot load OpenMetrics data: sample "${r.seriesText(i)}" has no timestamp`);
      const key = r.seriesText(i);
      let ref = refs.get(key) ?? 0;
      // labels() may grow WASM memory: read the columns through their getters afterwards.
      const labels = ref === 0 ? seriesLabels(r.labels(i)) : null;
      const t = r.timestamp[i]!;
      ref = app.append(ref, labels, t, r.value[i]!);
      if (ref < 0) throw new RangeError(`Cannot load OpenMetrics data: the storage rejected "${key}" at ${t} (code ${ref})`);
      refs.set(key, ref);
      total++;
    }
    await app.commit();
  }
  return total;
}

function seriesLabels(l: { name: string; labels: [string, string][] }): Labels {
  return Labels.from([["__name__", l.name], ...l.labels]);
}
