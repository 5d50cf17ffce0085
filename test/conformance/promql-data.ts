/**
 * A deterministic data set for differential PromQL tests: counters (one with a reset),
 * gauges, a series with 10-minute gaps and classic histogram buckets, 1 hour at 15 s.
 * Written as OpenMetrics for `promtool tsdb create-blocks-from openmetrics`, and loaded
 * into gleaner's stores sample by sample.
 */
import { Labels } from "../../core/model/labels.ts";
import { rng } from "../../core/query/random-expr.ts";
import type { Storage } from "../../storage/types.ts";

/** Seconds. */
export const DATA_START = 1795300000;
export const DATA_STEP = 15;
const N = 240;

export interface DataSeries {
  name: string;
  labels: Record<string, string>;
  points: Array<[number, number]>;
}

export function dataSet(): DataSeries[] {
  const r = rng(7);
  const out: DataSeries[] = [];
  const at = (k: number) => DATA_START + k * DATA_STEP;
  for (const instance of ["a", "b", "c"]) {
    for (const job of ["api", "db"]) {
      let v = 0;
      const counter: Array<[number, number]> = [];
      for (let k = 0; k < N; k++) {
        v += Math.floor(r() * 10);
        if (k === 100 && instance === "b") v = 3;
        counter.push([at(k), v]);
      }
      out.push({ name: "req_total", labels: { instance, job }, points: counter });
      out.push({ name: "mem_bytes", labels: { instance, job }, points: Array.from({ length: N }, (_, k) => [at(k), Math.round(1000 + 500 * Math.sin(k / 10 + instance.charCodeAt(0)) + r() * 50)]) });
      const flaky: Array<[number, number]> = [];
      for (let k = 0; k < N; k++) if (k % 80 < 40) flaky.push([at(k), k]);
      out.push({ name: "flaky", labels: { instance, job }, points: flaky });
    }
  }
  for (const job of ["api", "db"]) {
    const les = ["0.1", "0.5", "1", "5", "+Inf"];
    const counts = les.map(() => 0);
    const points: Array<Array<[number, number]>> = les.map(() => []);
    for (let k = 0; k < N; k++) {
      const observations = Math.floor(r() * 20);
      for (let o = 0; o < observations; o++) {
        const x = r() * r() * 8;
        les.forEach((le, i) => {
          if (x <= (le === "+Inf" ? Infinity : Number(le))) counts[i]!++;
        });
      }
      les.forEach((_, i) => points[i]!.push([at(k), counts[i]!]));
    }
    les.forEach((le, i) => out.push({ name: "lat_seconds_bucket", labels: { job, le }, points: points[i]! }));
  }
  return out;
}

export function openMetrics(data: DataSeries[]): string {
  const lines: string[] = [];
  const byName = new Map<string, DataSeries[]>();
  for (const s of data) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  for (const [name, series] of byName) {
    lines.push(`# TYPE ${name} gauge`);
    for (const s of series) {
      const l = Object.entries(s.labels).map(([k, v]) => `${k}="${v}"`).join(",");
      for (const [t, v] of s.points) lines.push(`${name}{${l}} ${v} ${t}`);
    }
  }
  lines.push("# EOF");
  return lines.join("\n") + "\n";
}

export async function load(storage: Storage, data: DataSeries[]): Promise<void> {
  const app = storage.appender();
  for (const s of data) {
    const l = Labels.from({ __name__: s.name, ...s.labels });
    for (const [t, v] of s.points) app.append(0, l, t * 1000, v);
  }
  await app.commit();
}
