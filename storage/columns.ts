/**
 * A SeriesQuerier over any Querier: the storage's own `selectColumns` when it has one, else
 * `select()` turned into columns. Lets the PromQL engine read every storage backend (the
 * in-memory store of tests included) while the TSDB grows a columnar read path.
 */
import type { Querier, SeriesColumns, SeriesQuerier } from "./types.ts";

export function columnsOf(q: Querier & Partial<SeriesQuerier>): SeriesQuerier {
  if (typeof q.selectColumns === "function") return q as SeriesQuerier;
  return {
    selectColumns(matchers, mint, maxt): SeriesColumns[] {
      return q.select(matchers, mint, maxt).map(({ labels, samples }) => {
        const n = samples.length;
        const t = new Float64Array(n);
        const v = new Float64Array(n);
        let stale: Uint8Array | null = null;
        for (let i = 0; i < n; i++) {
          const s = samples[i]!;
          t[i] = s.t;
          v[i] = s.v;
          if (s.stale) (stale ??= new Uint8Array(n))[i] = 1;
        }
        return { labels, t, v, stale };
      });
    },
  };
}
