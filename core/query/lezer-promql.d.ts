/** 0.42.0's package.json `exports` has no `types` condition, so bundler resolution cannot see its .d.ts. */
declare module "@prometheus-io/lezer-promql" {
  export const parser: import("@lezer/lr").LRParser;
}
