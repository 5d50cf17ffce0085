import type { Appender, Storage } from "../../storage/types.ts";

/** A storage that hands out refs and counts appends, so only the scrape path is measured. */
export class CountingStorage implements Storage {
  refs = 0;
  samples = 0;
  appender(): Appender {
    return {
      append: (ref) => (this.samples++, ref > 0 ? ref : ++this.refs),
      appendStale: (ref) => (this.samples++, ref > 0 ? ref : ++this.refs),
      appendExemplar: () => null,
      commit: async () => {},
      rollback: async () => {},
    };
  }
  async close() {}
}
