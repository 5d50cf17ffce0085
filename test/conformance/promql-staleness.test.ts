/**
 * Staleness against the reference: Debian's Prometheus scrapes a target whose series come
 * and go (so its TSDB holds real stale markers), its samples are dumped with promtool and
 * loaded into gleaner's store, and the same range queries must give the same results.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Labels } from "../../core/model/labels.ts";
import { QueryEngine } from "../../core/query/engine.ts";
import { MemoryStorage } from "../../storage/memory.ts";
import { freePort, missingPeers, PEERS, startPeer, type RunningPeer } from "../support/peers.ts";

const PROMTOOL = { binary: "/usr/bin/promtool", pkg: "prometheus" };
const skip = await missingPeers(PEERS.prometheus, PROMTOOL);
const SCRAPES = 90;

const QUERIES = [
  "g", "c_total", "up", 'g{id="2"}', "count(g)", "sum by (id) (g)", 'absent(g{id="3"})', "g offset 700ms", "timestamp(g)",
  "count_over_time(g[1s])", "last_over_time(g[3s])", "rate(c_total[2s])", "increase(c_total[3s])", "irate(c_total[1s])", "resets(c_total[5s])",
  "changes(g[2s])", "max_over_time(g[5s])", "present_over_time(g[500ms])", 'absent_over_time(g{id="1"}[500ms])', "g and c_total",
  "g or on(id) c_total", "g * on(id) group_left c_total", "max_over_time(g[3s:500ms])", "rate(c_total[2s:200ms])", "deriv(g[3s])", "g @ end()",
];

describe.skipIf(skip !== null)("stale markers written by Prometheus 2.42", () => {
  let prom: RunningPeer | null = null;
  let engine: QueryEngine;
  let dir: string;
  let range: { start: number; end: number };
  let staleMarkers = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gleaner-promql-stale-"));
    // Series id=k is present for 2k scrapes out of every 3k+2, so it goes stale and comes back.
    let scrapes = 0;
    const target = Bun.serve({
      port: await freePort(),
      hostname: "127.0.0.1",
      fetch() {
        const n = scrapes++;
        const lines = ["# TYPE g gauge"];
        for (let id = 1; id <= 3; id++) if (n % (3 * id + 2) < 2 * id) lines.push(`g{id="${id}"} ${(n * id) % 13}`);
        lines.push("# TYPE c_total counter");
        for (let id = 1; id <= 2; id++) if (id === 1 || n % 20 < 14) lines.push(`c_total{id="${id}"} ${n < 60 ? n * id : (n - 60) * id}`);
        return new Response(lines.join("\n") + "\n", { headers: { "content-type": "text/plain; version=0.0.4" } });
      },
    });
    const data = join(dir, "data");
    writeFileSync(join(dir, "scrape.yml"), `global: {scrape_interval: 100ms, scrape_timeout: 100ms}\nscrape_configs:\n  - job_name: t\n    static_configs: [{targets: ["127.0.0.1:${target.port}"]}]\n`);
    writeFileSync(join(dir, "serve.yml"), "global: {}\n");
    const args = (config: string) => (port: number) => [`--config.file=${join(dir, config)}`, `--storage.tsdb.path=${data}`, "--storage.tsdb.retention.time=100y", `--web.listen-address=127.0.0.1:${port}`];
    const scraper = await startPeer(PEERS.prometheus, args("scrape.yml"));
    while (scrapes < SCRAPES) await Bun.sleep(100);
    await scraper.stop();
    target.stop(true);
    const dump = Bun.spawnSync([PROMTOOL.binary, "tsdb", "dump", data]);
    if (dump.exitCode !== 0) throw new Error(`promtool tsdb dump failed: ${dump.stderr.toString()}`);
    const store = new MemoryStorage(() => 1e15);
    const app = store.appender();
    let tmin = Infinity;
    let tmax = -Infinity;
    for (const line of dump.stdout.toString().split("\n")) {
      const m = /^\{(.*)\} (\S+) (\d+)$/.exec(line);
      if (m === null) continue;
      const pairs: Array<[string, string]> = [];
      for (const p of m[1]!.matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) pairs.push([p[1]!, JSON.parse(`"${p[2]}"`) as string]);
      const t = Number(m[3]);
      tmin = Math.min(tmin, t);
      tmax = Math.max(tmax, t);
      // Every value the target serves is a number: a NaN in the dump is a stale marker.
      if (m[2] === "NaN") {
        app.appendStale(0, Labels.from(pairs), t);
        staleMarkers++;
      } else app.append(0, Labels.from(pairs), t, Number(m[2]));
    }
    await app.commit();
    // Compared with Debian's Prometheus 2.42: its closed windows.
    engine = new QueryEngine(store, { v2Semantics: true });
    range = { start: Math.ceil((tmin + 3000) / 100) * 100, end: Math.floor(tmax / 100) * 100 };
    prom = await startPeer(PEERS.prometheus, args("serve.yml"));
  }, 60_000);

  afterAll(async () => {
    await prom?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("range queries over scraped data with stale markers give Prometheus's results", async () => {
    const diffs: string[] = [];
    for (const q of QUERIES) {
      for (const step of [100, 300, 700]) {
        const res = (await (await fetch(`${prom!.url}/api/v1/query_range?query=${encodeURIComponent(q)}&start=${range.start / 1000}&end=${range.end / 1000}&step=${step / 1000}`)).json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } };
        let ours;
        try {
          ours = await engine.range(q, range.start, range.end, step);
        } catch (err) {
          diffs.push(`${q}: we failed: ${(err as Error).message}`);
          continue;
        }
        if (res.status !== "success" || ours.value.type !== "matrix") {
          diffs.push(`${q}: Prometheus failed: ${res.error}`);
          continue;
        }
        const ref = new Map(res.data.result.map((s) => [Labels.from(s.metric).key, s.values]));
        let problem = ref.size === ours.value.series.length ? "" : `${ours.value.series.length} series, Prometheus ${ref.size}`;
        for (const s of ours.value.series) {
          if (problem !== "") break;
          const values = ref.get(s.metric.key);
          if (values === undefined || values.length !== s.t.length) problem = `${s.metric}: ${s.t.length} points, Prometheus ${values?.length}`;
          else
            for (let i = 0; i < values.length && problem === ""; i++) {
              const [t, v] = values[i]!;
              const x = Number(v);
              if (Math.round(t * 1000) !== s.t[i] || !(x === s.v[i] || Math.abs(x - s.v[i]!) / (Math.abs(x) + Math.abs(s.v[i]!)) < 1e-9)) problem = `${s.metric} at ${t}: ${s.v[i]}, Prometheus ${v}`;
            }
        }
        if (problem !== "") diffs.push(`${q} [step ${step}ms]: ${problem}`);
      }
    }
    expect(diffs).toEqual([]);
    expect(staleMarkers).toBeGreaterThan(10);
  });
});
