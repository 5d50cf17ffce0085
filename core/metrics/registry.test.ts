import { expect, test } from "bun:test";
import { registerProcessMetrics } from "./process.ts";
import { Registry, WindowSummary } from "./registry.ts";

test("families are exposed sorted, with HELP, TYPE and escaped label values", () => {
  const r = new Registry();
  const c = r.counter("b_total", "Counts\nthings.", ["path"]);
  c.inc({ path: 'a"b\\c' });
  c.inc({ path: 'a"b\\c' }, 2);
  r.gauge("a_value", "A value.").set({}, -Infinity);
  expect(r.expose()).toBe(
    '# HELP a_value A value.\n# TYPE a_value gauge\na_value -Inf\n# HELP b_total Counts\\nthings.\n# TYPE b_total counter\nb_total{path="a\\"b\\\\c"} 3\n',
  );
});

test("a counter refuses to go down and a metric refuses unknown labels", () => {
  const r = new Registry();
  expect(() => r.counter("x_total", "x").inc({}, -1)).toThrow(RangeError);
  expect(() => r.gauge("y", "y", ["a"]).set({ b: "1" }, 1)).toThrow('Cannot use label "b" on y');
});

test("names are validated and registered once", () => {
  const r = new Registry();
  expect(() => r.gauge("bad-name", "x")).toThrow(TypeError);
  r.gauge("ok", "x");
  expect(() => r.gauge("ok", "x")).toThrow("already registered");
});

test("process metrics report the live process", () => {
  const r = new Registry();
  registerProcessMetrics(r);
  const text = r.expose();
  for (const name of ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds", "process_open_fds", "process_max_fds", "process_virtual_memory_bytes"]) {
    const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
    expect(m, name).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
  }
  const start = Number(/^process_start_time_seconds (\S+)$/m.exec(text)![1]);
  expect(Math.abs(start - Date.now() / 1000)).toBeLessThan(3600);
});

test("a window summary exposes quantiles, _sum and _count", () => {
  const r = new Registry();
  const s = new WindowSummary([0.5, 0.99], 4);
  r.collector("interval_seconds", "Intervals.", "summary", () => s.samples());
  for (const v of [1, 2, 3, 4, 5]) s.observe({ interval: "15s" }, v);
  expect(r.expose()).toBe(
    '# HELP interval_seconds Intervals.\n# TYPE interval_seconds summary\ninterval_seconds{interval="15s",quantile="0.5"} 4\ninterval_seconds{interval="15s",quantile="0.99"} 5\ninterval_seconds_sum{interval="15s"} 15\ninterval_seconds_count{interval="15s"} 5\n',
  );
});
