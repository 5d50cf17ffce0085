/** Timing helpers shared by the micro benchmarks. */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median nanoseconds of `runs` calls of `fn`, after one warm-up call. */
export function timeNs(fn: () => void, runs = 7): number {
  fn();
  const ns: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t = Bun.nanoseconds();
    fn();
    ns.push(Bun.nanoseconds() - t);
  }
  return median(ns);
}
