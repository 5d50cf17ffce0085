// Query evaluation in time slices: it yields to the event loop, gives what unsliced evaluation
// gives, and checks cancellation and the deadline between slices.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../log/logger.ts";
import { Registry } from "../metrics/registry.ts";
import { Labels } from "../model/labels.ts";
import { MemoryStorage } from "../../storage/memory.ts";
import { Tsdb } from "../../storage/tsdb/index.ts";
import { QueryEngine, QueryError, type QueryResult } from "./engine.ts";

const SERIES = 3000;
const STEP = 15_000;
const END = 40 * STEP;

/** `m` counters over SERIES series in 3 jobs, and `h_bucket` histograms (4 buckets) per instance of the first 50. */
async function fill(s: { appender(): ReturnType<MemoryStorage["appender"]> }): Promise<void> {
  for (let k = 0; k <= 40; k++) {
    const app = s.appender();
    for (let i = 0; i < SERIES; i++) {
      app.append(0, Labels.from({ __name__: "m", job: `j${i % 3}`, instance: String(i) }), k * STEP, k * (i % 7) + i);
    }
    for (let i = 0; i < 50; i++) {
      for (const [b, le] of ["0.1", "1", "10", "+Inf"].entries()) {
        app.append(0, Labels.from({ __name__: "h_bucket", instance: String(i), le }), k * STEP, k * (b + 1) * (i + 1));
      }
    }
    await app.commit();
  }
}

let memory: MemoryStorage;
beforeAll(async () => {
  memory = new MemoryStorage(() => 1e15);
  await fill(memory);
});

async function failure(p: Promise<unknown>): Promise<QueryError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof QueryError) return err;
    throw err;
  }
  throw new Error("the query succeeded");
}

/** A result as plain data: labels as text, columns as arrays (NaN kept as a string). */
function plain(r: QueryResult): unknown {
  const num = (x: number) => (Number.isNaN(x) ? "NaN" : x);
  const v = r.value;
  switch (v.type) {
    case "vector":
      return { ...r, value: v.samples.map((s) => [String(s.metric), s.t, num(s.v)]) };
    case "matrix":
      return { ...r, value: v.series.map((s) => [String(s.metric), [...s.t], [...s.v].map(num)]) };
    default:
      return { ...r, value: { ...v, v: typeof v.v === "number" ? num(v.v) : v.v } };
  }
}

/** A query of every kind of node. */
const QUERIES = [
  "m",
  "-m",
  "m offset 1m",
  'timestamp(m{job="j1"})',
  "rate(m[1m])",
  "avg_over_time(m[2m])",
  "quantile_over_time(0.5, m[2m])",
  "max_over_time(rate(m[1m])[3m:30s])",
  "absent_over_time(nope[1m])",
  "sum by (job) (m)",
  "avg without (instance) (m)",
  "count(m)",
  "stddev by (job) (m)",
  "topk(3, m)",
  "bottomk by (job) (2, m)",
  "quantile by (job) (0.9, m)",
  "count_values by (job) (\"v\", m % 5)",
  "m * 2",
  "2 - m",
  "m > bool 100",
  "m / on(job, instance) m",
  "m + ignoring(instance) group_left sum by (job) (m)",
  'm and m{job="j0"}',
  'm or m{job="j0"} * 3',
  'm unless m{job="j2"}',
  "abs(m - 1000)",
  "clamp(m, 10, 100)",
  "round(m / 3)",
  'label_replace(m, "x", "$1", "instance", "(.*)1")',
  'label_join(m, "x", "-", "job", "instance")',
  "histogram_quantile(0.9, rate(h_bucket[2m]))",
  "sort_desc(m)",
  "absent(nope)",
  "scalar(count(m))",
  "vector(time())",
];

describe("sliced query evaluation", () => {
  test("with a 0 ms slice, a timer set before a query over many series fires before the query resolves", async () => {
    const e = new QueryEngine(memory, { sliceMs: 0 });
    let fired = false;
    setTimeout(() => {
      fired = true;
    }, 0);
    const r = await e.instant("sum by (job) (rate(m[2m]))", END);
    expect(fired).toBe(true);
    expect(r.value.type === "vector" && r.value.samples.length).toBe(3);
  });

  test("without slicing (an infinite slice) the same query resolves before that timer fires", async () => {
    const e = new QueryEngine(memory, { sliceMs: Infinity });
    let fired = false;
    const timer = setTimeout(() => {
      fired = true;
    }, 0);
    await e.instant("sum by (job) (rate(m[2m]))", END);
    expect(fired).toBe(false);
    clearTimeout(timer);
  });

  test("results are identical sliced at every look at the clock and unsliced, for every kind of node", async () => {
    const sliced = new QueryEngine(memory, { sliceMs: 0 });
    const whole = new QueryEngine(memory, { sliceMs: Infinity });
    for (const q of QUERIES) {
      expect({ q, r: plain(await sliced.instant(q, END)) }).toEqual({ q, r: plain(await whole.instant(q, END)) });
      expect({ q, r: plain(await sliced.range(q, 5 * STEP, END, 2 * STEP)) }).toEqual({ q, r: plain(await whole.range(q, 5 * STEP, END, 2 * STEP)) });
    }
    // A range vector (raw samples) in an instant query.
    expect(plain(await sliced.instant("m[1m]", END))).toEqual(plain(await whole.instant("m[1m]", END)));
  });

  test("errors are the same sliced as unsliced", async () => {
    const sliced = new QueryEngine(memory, { sliceMs: 0 });
    const whole = new QueryEngine(memory, { sliceMs: Infinity });
    for (const q of ["m + on(job) m", "m + on(job) group_left m", "rate(m[1m]) or label_replace(m, \"instance\", \"\", \"\", \"\")", "label_replace(rate(m[1m]), \"instance\", \"\", \"\", \"\")"]) {
      const a = await failure(sliced.instant(q, END));
      const b = await failure(whole.instant(q, END));
      expect({ type: a.type, message: a.message }).toEqual({ type: b.type, message: b.message });
    }
  });

  test("a query cancelled while it waits between slices fails with canceled", async () => {
    const e = new QueryEngine(memory, { sliceMs: 0 });
    const ac = new AbortController();
    const running = e.range("sum by (job) (rate(m[2m]))", 0, END, STEP, { signal: ac.signal });
    // Runs at the query's first pause: it was not aborted when it started.
    setImmediate(() => ac.abort());
    const err = await failure(running);
    expect(err.type).toBe("canceled");
    expect(err.message).toBe("query was canceled in expression evaluation");
  });

  test("a deadline that passes while a query waits between slices fails it with timeout", async () => {
    const e = new QueryEngine(memory, { sliceMs: 0 });
    const running = e.range("sum by (job) (rate(m[2m]))", 0, END, STEP, { timeoutMs: 50 });
    let heldLoop = false;
    // Other work holds the event loop past the query's deadline during its first pause.
    setImmediate(() => {
      const until = performance.now() + 80;
      while (performance.now() < until);
      heldLoop = true;
    });
    const err = await failure(running);
    expect(heldLoop).toBe(true);
    expect(err.type).toBe("timeout");
    expect(err.message).toBe("query timed out in expression evaluation");
  });

  test("a query over a Tsdb yields while the storage selects and decodes, with the same answer", async () => {
    const db = await Tsdb.open({ dir: mkdtempSync(join(tmpdir(), "gleaner-slices-")), retentionMs: 0, retentionBytes: 0, registry: new Registry(), log: createLogger({ level: "error", format: "logfmt", write: () => {} }), now: () => 1e15, flushIntervalMs: 3_600_000 });
    try {
      await fill(db);
      const sliced = new QueryEngine(db, { sliceMs: 0 });
      let ticks = 0;
      const timer = setInterval(() => ticks++, 0);
      // A selection alone: the evaluation of a raw selector is one pass, the storage does the rest.
      const r = await sliced.instant("count(m)", END);
      clearInterval(timer);
      expect(ticks).toBeGreaterThan(0);
      expect(r).toEqual(await new QueryEngine(db, { sliceMs: Infinity }).instant("count(m)", END));
      expect(r).toEqual(await new QueryEngine(memory).instant("count(m)", END));
    } finally {
      await db.close();
    }
  });

  test("a negative time slice is rejected when the engine is made", () => {
    expect(() => new QueryEngine(memory, { sliceMs: -1 })).toThrow(RangeError);
  });
});
