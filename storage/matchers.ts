/** Label matchers (`=`, `!=`, `=~`, `!~`) with RE2 semantics, anchored as Prometheus anchors them. */
import { RE2JS } from "re2js";
import type { Labels } from "../core/model/labels.ts";
import type { Matcher } from "./types.ts";

export type CompiledMatcher = (labels: Labels) => boolean;

export function compileMatcher(m: Matcher): CompiledMatcher {
  switch (m.type) {
    case "=":
      return (l) => l.get(m.name) === m.value;
    case "!=":
      return (l) => l.get(m.name) !== m.value;
    case "=~":
    case "!~": {
      const re = RE2JS.compile(`^(?s:${m.value})$`);
      const want = m.type === "=~";
      return (l) => re.matches(l.get(m.name)) === want;
    }
  }
}

export function compileMatchers(ms: readonly Matcher[]): CompiledMatcher {
  const fns = ms.map(compileMatcher);
  return (l) => fns.every((f) => f(l));
}
