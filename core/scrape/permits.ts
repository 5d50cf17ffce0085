/**
 * Permits for scrapes that run in slices (many new series): at most `n` of them go on at a
 * time, the others wait, detached, holding only the copy of their body. Without the limit, 50
 * targets' first scrapes of 20k series each would all build their new series at once and
 * the process would peak at several times the memory it needs afterwards. Scrapes that fit
 * in one slice (cached series) never wait.
 *
 * @example
 * const release = await heavyScrapePermits(core).acquire();
 * try { ... } finally { release(); }
 */
export class Permits {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(n: number) {
    if (!(n >= 1)) throw new RangeError(`Cannot create ${n} permits: need at least 1`);
    this.#free = n;
  }

  /** Resolves with the release function once a permit is free (in request order). */
  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#free++;
    };
  }

  get waiting(): number {
    return this.#waiting.length;
  }
}

const byOwner = new WeakMap<object, Permits>();

/** The permits shared by every scrape on one WASM core (one per CPU-bound event loop: 2). */
export function heavyScrapePermits(owner: object): Permits {
  let p = byOwner.get(owner);
  if (p === undefined) byOwner.set(owner, (p = new Permits(2)));
  return p;
}
