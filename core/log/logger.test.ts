import { expect, test } from "bun:test";
import { createLogger, logfmtValue } from "./logger.ts";

const at = () => new Date("2026-01-02T03:04:05.678Z");

test("logfmt lines carry time, level, bound fields, the message and fields, quoted when needed", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", format: "logfmt", write: (l) => lines.push(l), now: at }).with({ component: "web" });
  log.info("Listening on address", { address: "0.0.0.0:9090", err: new Error('bad "x"'), empty: "" });
  expect(lines).toEqual([
    'time=2026-01-02T03:04:05.678Z level=info component=web msg="Listening on address" address=0.0.0.0:9090 err="bad \\"x\\"" empty=""',
  ]);
});

test("JSON lines are one object each", () => {
  const lines: string[] = [];
  createLogger({ level: "debug", format: "json", write: (l) => lines.push(l), now: at }).debug("x", { n: 1 });
  expect(JSON.parse(lines[0]!)).toEqual({ time: "2026-01-02T03:04:05.678Z", level: "debug", msg: "x", n: 1 });
});

test("messages below the level are dropped", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "warn", format: "logfmt", write: (l) => lines.push(l), now: at });
  log.info("no");
  log.debug("no");
  log.warn("yes");
  log.error("yes");
  expect(lines.map((l) => l.split(" ")[1])).toEqual(["level=warn", "level=error"]);
});

test("logfmtValue() quotes spaces, equals signs and control characters", () => {
  expect(logfmtValue("plain")).toBe("plain");
  expect(logfmtValue("a=b")).toBe('"a=b"');
  expect(logfmtValue("line\nbreak")).toBe('"line\\nbreak"');
  expect(logfmtValue(3)).toBe("3");
});
