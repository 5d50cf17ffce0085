/**
 * Random PromQL expressions from a small grammar (valid and invalid mixed), for the fuzz
 * test and for differential checks against Prometheus's parser. Seeded, so a failure can be
 * replayed.
 */
import { FUNCTIONS } from "./functions.ts";
import { rng } from "../../test/support/random.ts";

// The seeded PRNG the fuzz and differential tests draw from, re-exported for their use.
export { rng };

let METRICS = ["foo", "bar", "http_requests_total", "x:y", "up"];
let LABELS = ["job", "instance", "a", "le", "__name__", "on", "by"];
let VALUES = ["", "a", "b.*", ".+", "x|y", "\\n", "api"];
let JUNK_RATE = 0.02;

/** Points the generator at other names (e.g. those of a test data set); junk 0 keeps the syntax valid. */
export function configureRandomExpr(opts: { metrics?: string[]; labels?: string[]; values?: string[]; junk?: number }): void {
  if (opts.metrics) METRICS = opts.metrics;
  if (opts.labels) LABELS = opts.labels;
  if (opts.values) VALUES = opts.values;
  if (opts.junk !== undefined) JUNK_RATE = opts.junk;
}
const DURATIONS = ["1s", "30s", "1m", "5m", "1h", "1h30m", "2d", "100ms", "0s", "1y"];
const NUMBERS = ["1", "0", "-1", "2.5", ".5", "1e3", "0x1F", "Inf", "-Inf", "NaN", "010", "1e-7", "2."];
const BINOPS = ["+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<=", "and", "or", "unless", "atan2"];
const AGGS = ["sum", "avg", "count", "min", "max", "stddev", "stdvar", "group", "topk", "bottomk", "quantile", "count_values"];
const JUNK = ["(", ")", "[", "]", "{", "}", ",", "@", "offset", "by", "bool", "\"", "'", "`", "#", "=~", ":", " "];

export function randomExpr(r: () => number, depth = 0): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const leaf = depth > 3 || r() < 0.3;
  if (r() < JUNK_RATE) return pick(JUNK) + randomExpr(r, depth + 1);
  if (leaf) {
    switch (Math.floor(r() * 4)) {
      case 0:
        return pick(NUMBERS);
      case 1:
        return r() < 0.5 ? `"${pick(VALUES)}"` : `'${pick(VALUES)}'`;
      default:
        return selector(r, pick);
    }
  }
  switch (Math.floor(r() * 9)) {
    case 0:
      return `${selector(r, pick)}[${pick(DURATIONS)}]${modifiers(r, pick)}`;
    case 1:
      return `${randomExpr(r, depth + 1)}[${pick(DURATIONS)}:${r() < 0.5 ? pick(DURATIONS) : ""}]${modifiers(r, pick)}`;
    case 2: {
      const f = pick([...FUNCTIONS.values()]);
      const n = f.argTypes.length + (r() < 0.2 ? Math.floor(r() * 3) - 1 : 0);
      const args: string[] = [];
      for (let i = 0; i < n; i++) {
        const t = f.argTypes[Math.min(i, f.argTypes.length - 1)];
        if (t === "matrix" && r() < 0.8) args.push(`${selector(r, pick)}[${pick(DURATIONS)}]`);
        else if (t === "string" && r() < 0.8) args.push(`"${pick(VALUES)}"`);
        else if (t === "scalar" && r() < 0.8) args.push(pick(NUMBERS));
        else args.push(randomExpr(r, depth + 1));
      }
      return `${f.name}(${args.join(", ")})`;
    }
    case 3: {
      const op = pick(AGGS);
      const param = op === "topk" || op === "bottomk" || op === "quantile" ? `${pick(NUMBERS)}, ` : op === "count_values" ? `"${pick(["v", "0bad", ""])}", ` : "";
      const grouping = r() < 0.5 ? "" : ` ${r() < 0.5 ? "by" : "without"} (${labelList(r, pick)}) `;
      return r() < 0.5 ? `${op}${grouping}(${param}${randomExpr(r, depth + 1)})` : `${op}(${param}${randomExpr(r, depth + 1)})${grouping}`;
    }
    case 4:
      return `-${randomExpr(r, depth + 1)}`;
    case 5:
      return `(${randomExpr(r, depth + 1)})`;
    default: {
      const op = pick(BINOPS);
      let mod = "";
      if (r() < 0.3) mod += " bool";
      if (r() < 0.3) {
        mod += ` ${r() < 0.5 ? "on" : "ignoring"}(${labelList(r, pick)})`;
        if (r() < 0.4) mod += ` ${r() < 0.5 ? "group_left" : "group_right"}(${labelList(r, pick)})`;
      }
      return `${randomExpr(r, depth + 1)} ${op}${mod} ${randomExpr(r, depth + 1)}`;
    }
  }
}

function labelList(r: () => number, pick: <T>(xs: readonly T[]) => T): string {
  const n = Math.floor(r() * 3);
  return Array.from({ length: n }, () => pick(LABELS)).join(", ");
}

function selector(r: () => number, pick: <T>(xs: readonly T[]) => T): string {
  const name = r() < 0.85 ? pick(METRICS) : "";
  const n = Math.floor(r() * 3) + (name === "" ? 1 : 0);
  const ms: string[] = [];
  for (let i = 0; i < n; i++) ms.push(`${pick(LABELS)}${pick(["=", "!=", "=~", "!~"])}"${pick(VALUES)}"`);
  const body = ms.length > 0 || name === "" ? `{${ms.join(", ")}}` : "";
  return `${name}${body}${r() < 0.2 ? modifiers(r, pick) : ""}`;
}

function modifiers(r: () => number, pick: <T>(xs: readonly T[]) => T): string {
  let s = "";
  if (r() < 0.3) s += ` offset ${r() < 0.2 ? "-" : ""}${pick(DURATIONS)}`;
  if (r() < 0.2) s += ` @ ${pick(["100", "start()", "end()", "1e3", "-5"])}`;
  return s;
}
