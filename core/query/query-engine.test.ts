import { describe, expect, test } from "bun:test";
import { Labels } from "../model/labels.ts";
import { MemoryStorage } from "../../storage/memory.ts";
import { QueryEngine, QueryError } from "./engine.ts";

async function store(): Promise<MemoryStorage> {
  const s = new MemoryStorage(() => 1e15);
  const app = s.appender();
  for (let i = 0; i < 20; i++) {
    const l = Labels.from({ __name__: "m", job: i % 2 === 0 ? "a" : "b", instance: String(i) });
    for (let k = 0; k <= 40; k++) {
      if (i === 0 && k === 20) app.appendStale(0, l, k * 15_000);
      else app.append(0, l, k * 15_000, k * i);
    }
  }
  await app.commit();
  return s;
}

async function failure(p: Promise<unknown>): Promise<QueryError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof QueryError) return err;
    throw err;
  }
  throw new Error("the query succeeded");
}

describe("QueryEngine", () => {
  test("an instant query of a selector returns the newest sample per series within the lookback", async () => {
    const e = new QueryEngine(await store());
    const r = await e.instant('m{instance="3"}', 100_000);
    expect(r.value).toEqual({ type: "vector", samples: [{ metric: Labels.from({ __name__: "m", job: "b", instance: "3" }), t: 100_000, v: 18 }] });
  });

  test("a stale marker ends a series for instant selectors and is never part of a range result", async () => {
    const e = new QueryEngine(await store());
    const at = await e.instant('m{instance="0"}', 300_000);
    expect(at.value.type === "vector" && at.value.samples.length).toBe(0);
    const r = await e.range('m{instance="0"}', 0, 600_000, 15_000);
    if (r.value.type !== "matrix") throw new Error("not a matrix");
    const v = [...r.value.series[0]!.v];
    expect(v.some((x) => Number.isNaN(x))).toBe(false);
    expect(r.value.series[0]!.t.includes(300_000)).toBe(false);
  });

  test("range results are matrices sorted by labels, a scalar gives one series without labels", async () => {
    const e = new QueryEngine(await store());
    const r = await e.range("sum by (job) (m)", 0, 60_000, 15_000);
    if (r.value.type !== "matrix") throw new Error("not a matrix");
    expect(r.value.series.map((s) => s.metric.get("job"))).toEqual(["a", "b"]);
    expect([...r.value.series[0]!.t]).toEqual([0, 15_000, 30_000, 45_000, 60_000]);
    const s = await e.range("1 + 1", 0, 30_000, 15_000);
    expect(s.value.type === "matrix" && s.value.series.map((x) => [x.metric.size, [...x.v]])).toEqual([[0, [2, 2, 2]]]);
  });

  test("a range query of a range vector is bad_data with Prometheus's message", async () => {
    const e = new QueryEngine(await store());
    const err = await failure(e.range("m[5m]", 0, 60_000, 15_000));
    expect(err.type).toBe("bad_data");
    expect(err.message).toBe('invalid expression type "range vector" for range query, must be Scalar or instant Vector');
  });

  test("an instant query of a range vector returns the raw samples of the window, left-open as in Prometheus 3.x", async () => {
    const e = new QueryEngine(await store());
    const r = await e.instant('m{instance="2"}[1m]', 60_000);
    expect(r.value.type === "matrix" && r.value.series.map((s) => [[...s.t], [...s.v]])).toEqual([
      [
        [15_000, 30_000, 45_000, 60_000],
        [2, 4, 6, 8],
      ],
    ]);
    // 2.x's closed window also held the sample at t − 1m.
    const closed = await new QueryEngine(await store(), { v2Semantics: true }).instant('m{instance="2"}[1m]', 60_000);
    expect(closed.value.type === "matrix" && [...closed.value.series[0]!.t]).toEqual([0, 15_000, 30_000, 45_000, 60_000]);
  });

  test("an instant vector does not see a sample exactly one lookback old (3.x), and did under 2.x", async () => {
    const at = 600_000 + 300_000; // the last sample of m is at 600 s
    const open = await new QueryEngine(await store()).instant('m{instance="2"}', at);
    expect(open.value.type === "vector" && open.value.samples.length).toBe(0);
    const before = await new QueryEngine(await store()).instant('m{instance="2"}', at - 1);
    expect(before.value.type === "vector" && before.value.samples.length).toBe(1);
    const closed = await new QueryEngine(await store(), { v2Semantics: true }).instant('m{instance="2"}', at);
    expect(closed.value.type === "vector" && closed.value.samples.length).toBe(1);
  });

  test("a subquery's first step is after its window's start (3.x), and at it under 2.x", async () => {
    const count = async (v2Semantics: boolean) => {
      const r = await new QueryEngine(await store(), { v2Semantics }).instant('count_over_time(m{instance="2"}[1m:15s])', 60_000);
      return r.value.type === "vector" ? r.value.samples[0]!.v : NaN;
    };
    expect(await count(false)).toBe(4); // 15, 30, 45, 60 s
    expect(await count(true)).toBe(5); // and 0 s
  });

  test("parse errors are bad_data with line and column", async () => {
    const err = await failure(new QueryEngine(await store()).instant("sum(m", 0));
    expect(err.type).toBe("bad_data");
    expect(err.message).toBe("1:6: parse error: unclosed left parenthesis");
  });

  test("loading more samples than maxSamples is an execution error with Prometheus's message", async () => {
    const e = new QueryEngine(await store(), { maxSamples: 100 });
    const err = await failure(e.range("m", 0, 600_000, 15_000));
    expect(err.type).toBe("execution");
    expect(err.message).toBe("query processing would load too many samples into memory in query execution");
    expect((await e.instant("sum(m)", 60_000)).value.type).toBe("vector");
  });

  test("a query past its timeout fails with type timeout", async () => {
    const e = new QueryEngine(await store());
    const err = await failure(e.range("sum(rate(m[1m:1s]))", 0, 600_000, 1_000, { timeoutMs: 0 }));
    expect(err.type).toBe("timeout");
    expect(err.message).toBe("query timed out in expression evaluation");
  });

  test("an aborted signal cancels the query", async () => {
    const e = new QueryEngine(await store());
    const ac = new AbortController();
    ac.abort();
    const err = await failure(e.instant("m", 0, { signal: ac.signal }));
    expect(err.type).toBe("canceled");
  });

  test("runtime matching errors are execution errors", async () => {
    const e = new QueryEngine(await store());
    const dup = await failure(e.instant("m + on(job) m", 60_000));
    expect(dup.type).toBe("execution");
    expect(dup.message).toStartWith("found duplicate series for the match group {job=\"a\"} on the right hand-side of the operation");
    const same = await failure(e.instant("label_replace(m, \"instance\", \"x\", \"\", \"\")", 60_000));
    expect(same.message).toBe("vector cannot contain metrics with the same labelset");
  });

  test("label_replace's regex lets . match a newline, and label names may be any UTF-8, as in 3.x", async () => {
    const s = new MemoryStorage(() => 1e15);
    const app = s.appender();
    app.append(0, Labels.from({ __name__: "n", text: "two\nlines" }), 0, 1);
    await app.commit();
    const e = new QueryEngine(s);
    const r = await e.instant('label_replace(n, "first.line", "$1", "text", "(.*)")', 0);
    expect(r.value.type === "vector" && r.value.samples[0]!.metric.get("first.line")).toBe("two\nlines");
    const counted = await e.instant('count_values("a.b", n)', 0);
    expect(counted.value.type === "vector" && counted.value.samples[0]!.metric.get("a.b")).toBe("1");
    expect((await failure(e.instant('label_replace(n, "", "x", "text", ".*")', 0))).message).toBe("invalid destination label name in label_replace(): ");
    // "\xff" is a byte, as in Go: not UTF-8, so not a label name; "\xc3\xa9" is é.
    expect((await failure(e.instant('label_replace(n, "\\xff", "", "text", "(.*)")', 0))).type).toBe("execution");
    const accented = await e.instant('label_replace(n, "\\xc3\\xa9", "x", "text", "(.*)")', 0);
    expect(accented.value.type === "vector" && accented.value.samples[0]!.metric.get("é")).toBe("x");
  });

  test("stats count the samples a query touched", async () => {
    const r = await new QueryEngine(await store()).instant("sum(rate(m[1m]))", 300_000);
    expect(r.stats.totalQueryableSamples).toBeGreaterThan(20);
    expect(r.stats.peakSamples).toBeGreaterThan(0);
  });
});

describe("date functions", () => {
  test("they compute as Go's time package, also for values that do not fit an int64", async () => {
    const e = new QueryEngine(new MemoryStorage());
    const at = async (q: string) => {
      const r = await e.instant(q, 100_000);
      return r.value.type === "vector" ? r.value.samples[0]?.v : undefined;
    };
    // NaN, ±Inf and |v| ≥ 2^63 become the minimum int64, as Go converts them on amd64 (checked against Prometheus 2.42).
    expect(await at("year(vector(NaN))")).toBe(292277026596);
    expect(await at("month(vector(Inf))")).toBe(12);
    expect(await at("day_of_month(vector(-1e300))")).toBe(4);
    expect(await at("hour(vector(NaN))")).toBe(15);
    expect(await at("year(vector(5e15))")).toBe(158445662);
    expect(await at("day_of_year(vector(951782400))")).toBe(60);
    expect(await at("days_in_month(vector(951782400))")).toBe(29);
    expect(await at("day_of_week(vector(-1))")).toBe(3);
  });
});

describe("aggregations as Prometheus 3.x computes them", () => {
  async function values(vs: number[]): Promise<MemoryStorage> {
    const s = new MemoryStorage(() => 1e15);
    const app = s.appender();
    vs.forEach((v, i) => app.append(0, Labels.from({ __name__: "d", i: String(i) }), 0, v));
    await app.commit();
    return s;
  }

  test("sum and avg use compensated (Kahan) summation, so small values survive huge ones", async () => {
    const e = new QueryEngine(await values([1e100, 1, -1e100, 9]));
    for (const [q, want] of [["sum(d)", 10], ["avg(d)", 2.5]] as const) {
      const r = await e.instant(q, 0);
      expect(r.value.type === "vector" && r.value.samples[0]!.v).toBe(want);
    }
  });

  test("stddev and stdvar of a lone Inf or NaN sample are NaN", async () => {
    const e = new QueryEngine(await values([Infinity]));
    for (const q of ["stddev(d)", "stdvar(d)"]) {
      const r = await e.instant(q, 0);
      expect(r.value.type === "vector" && r.value.samples[0]!.v).toBeNaN();
    }
  });
});

test("a many-to-one comparison without group_left fails even when the comparison filters all but one of the many away", async () => {
  const s = new MemoryStorage(() => 1e15);
  const app = s.appender();
  app.append(0, Labels.from({ __name__: "many", label: "foo", job: "t" }), 0, 0);
  app.append(0, Labels.from({ __name__: "many", label: "bar", job: "t" }), 0, 1);
  app.append(0, Labels.from({ __name__: "one", job: "t" }), 0, 1);
  await app.commit();
  const e = new QueryEngine(s);
  for (const q of ["many > on(job) one", "many >= on(job) one"]) expect((await failure(e.instant(q, 0))).message).toContain("many-to-one matching must be explicit");
});
