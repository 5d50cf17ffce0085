import { expect, test } from "bun:test";
import { flag, parseFlags, UsageError, type FlagSpec } from "./flags.ts";

const specs: FlagSpec[] = [
  { name: "config.file", default: "prometheus.yml", help: "" },
  { name: "web.enable-lifecycle", boolean: true, help: "" },
  { name: "log.level", default: "info", choices: ["debug", "info"], help: "" },
];

test("flags take --name=value and --name value, booleans --name and --no-name", () => {
  const p = parseFlags(["--config.file=a.yml", "--log.level", "debug", "--web.enable-lifecycle", "pos"], specs);
  expect(flag(p, specs, "config.file")).toBe("a.yml");
  expect(flag(p, specs, "log.level")).toBe("debug");
  expect(flag(p, specs, "web.enable-lifecycle")).toBe("true");
  expect(p.positionals).toEqual(["pos"]);
  expect(flag(parseFlags(["--no-web.enable-lifecycle"], specs), specs, "web.enable-lifecycle")).toBe("false");
  expect(flag(parseFlags([], specs), specs, "config.file")).toBe("prometheus.yml");
});

test("unknown flags, missing values and values outside the choices are usage errors", () => {
  expect(() => parseFlags(["--nope"], specs)).toThrow(new UsageError("unknown long flag '--nope'"));
  expect(() => parseFlags(["--config.file"], specs)).toThrow("expected a value for '--config.file'");
  expect(() => parseFlags(["--log.level=trace"], specs)).toThrow('invalid value "trace" for flag \'--log.level\', expected one of: debug, info');
  expect(() => parseFlags(["--web.enable-lifecycle=maybe"], specs)).toThrow("expects true or false");
  expect(() => parseFlags(["-x"], specs)).toThrow("unknown short flag '-x'");
});

test("-h and --help ask for help", () => {
  expect(parseFlags(["-h"], specs).help).toBe(true);
  expect(parseFlags(["--help"], specs).help).toBe(true);
});
