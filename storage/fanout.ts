/**
 * Writes every scrape to several storages: the primary (the local TSDB) hands out the
 * refs the scrape cache keeps; each secondary (remote write, ...) gets the same samples
 * under its own refs, mapped here. A commit commits the primary first, then the others;
 * a secondary that fails to commit is reported but does not undo the primary.
 *
 * A secondary with `readsPrimaryWal: true` (remote write) reads what the primary committed
 * from the primary's write-ahead log itself: it gets no per-sample calls here.
 */
import type { Labels } from "../core/model/labels.ts";
import type { Appender, AppendRejection, Exemplar, SeriesRef, Storage } from "./types.ts";

export class FanoutStorage implements Storage {
  readonly #refMaps: Array<Map<SeriesRef, SeriesRef>>;
  /** The secondaries that take each sample through their own appender. */
  readonly #perSample: readonly Storage[];
  readonly #labels = new Map<SeriesRef, Labels>();

  constructor(
    readonly primary: Storage,
    readonly secondaries: readonly Storage[],
    private readonly onSecondaryError: (err: unknown, index: number) => void = () => {},
  ) {
    this.#perSample = secondaries.filter((s) => (s as { readsPrimaryWal?: boolean }).readsPrimaryWal !== true);
    this.#refMaps = this.#perSample.map(() => new Map());
  }

  appender(): Appender {
    // Remote write reads the primary's WAL: then the scrape appends straight to the primary,
    // with no per-sample forwarding (the hot path makes no closure per sample).
    if (this.#perSample.length === 0) return this.primary.appender();
    const primary = this.primary.appender();
    const others = this.#perSample.map((s) => s.appender());
    const refMaps = this.#refMaps;
    const labelsOf = this.#labels;
    const forward = (ref: SeriesRef, labels: Labels | null, call: (a: Appender, r: SeriesRef, l: Labels | null) => SeriesRef | AppendRejection) => {
      const got = call(primary, ref, labels);
      // Secondaries only see samples the primary accepted.
      if (got <= 0) return got;
      if (others.length === 0) return got;
      if (labels !== null && !labelsOf.has(got)) labelsOf.set(got, labels);
      others.forEach((a, i) => {
        const map = refMaps[i]!;
        const known = map.get(got) ?? 0;
        const r = call(a, known, known === 0 ? (labels ?? labelsOf.get(got) ?? null) : null);
        if (r > 0 && known === 0) map.set(got, r);
      });
      return got;
    };
    return {
      append: (ref, labels, t, v) => forward(ref, labels, (a, r, l) => a.append(r, l, t, v)),
      appendStale: (ref, labels, t) => forward(ref, labels, (a, r, l) => a.appendStale(r, l, t)),
      appendExemplar: (ref, e: Exemplar) => {
        const rejected = primary.appendExemplar(ref, e);
        others.forEach((a, i) => {
          const r = refMaps[i]!.get(ref);
          if (r !== undefined) a.appendExemplar(r, e);
        });
        return rejected;
      },
      commit: async () => {
        await primary.commit();
        await Promise.all(others.map((a, i) => a.commit().catch((err) => this.onSecondaryError(err, i))));
      },
      rollback: async () => {
        await Promise.all([primary.rollback(), ...others.map((a) => a.rollback())]);
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), ...this.secondaries.map((s) => s.close())]);
  }
}
