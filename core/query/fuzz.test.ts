import { describe, expect, test } from "bun:test";
import { Labels } from "../model/labels.ts";
import { MemoryStorage } from "../../storage/memory.ts";
import { QueryEngine, QueryError } from "./engine.ts";
import { randomExpr, rng } from "./random-expr.ts";

async function storage(): Promise<MemoryStorage> {
  const s = new MemoryStorage(() => 1e15);
  const app = s.appender();
  const series = [
    { __name__: "foo", job: "api", instance: "0" },
    { __name__: "foo", job: "db", instance: "1" },
    { __name__: "bar", job: "api", a: "x" },
    { __name__: "http_requests_total", job: "api", le: "0.5" },
    { __name__: "http_requests_total", job: "api", le: "+Inf" },
    { __name__: "up", job: "api", instance: "0" },
    { __name__: "x:y", on: "b" },
  ];
  for (let k = 0; k < series.length; k++) {
    const l = Labels.from(series[k]!);
    for (let i = 0; i < 40; i++) {
      if ((i + k) % 7 === 3) app.appendStale(0, l, i * 15_000);
      else app.append(0, l, i * 15_000, k % 2 === 0 ? i * (k + 1) : Math.sin(i + k) * 10);
    }
  }
  await app.commit();
  return s;
}

describe("fuzz", () => {
  test("random expressions only ever fail with a QueryError, never an engine bug", async () => {
    const engine = new QueryEngine(await storage(), { maxSamples: 100_000 });
    const r = rng(42);
    const problems: string[] = [];
    let evaluated = 0;
    for (let k = 0; k < 6000; k++) {
      const q = randomExpr(r);
      for (const run of [() => engine.instant(q, 300_000), () => engine.range(q, 0, 600_000, 30_000)]) {
        try {
          await run();
          evaluated++;
        } catch (err) {
          if (!(err instanceof QueryError)) problems.push(`${q}: threw ${String(err)}`);
          else if (err.type === "internal") problems.push(`${q}: internal error ${err.message}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(evaluated).toBeGreaterThan(500);
  });
});
