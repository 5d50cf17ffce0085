/** What discovery mechanisms produce and how they are driven (spec §7). */

/** A set of targets sharing labels; `source` identifies the group within its provider. */
export interface TargetGroup {
  source: string;
  /** Each target's own labels; `__address__` at least. */
  targets: Array<Record<string, string>>;
  /** Labels common to every target of the group. */
  labels: Record<string, string>;
}

/**
 * A running discovery mechanism: sends the full set of groups first, then changed groups
 * (a group with no targets deletes it), until `signal` aborts.
 */
export interface Discoverer {
  run(signal: AbortSignal, emit: (groups: TargetGroup[]) => void): Promise<void> | void;
}
