import { expect, test } from "bun:test";
import { ManualClock } from "../scrape/clock.ts";
import { refreshDiscoverer } from "./refresh.ts";
import type { TargetGroup } from "./types.ts";

test("the first refresh runs at once; sources that disappear are sent as empty groups; errors send nothing", async () => {
  const clock = new ManualClock(0);
  const answers: Array<TargetGroup[] | Error> = [
    [{ source: "a", targets: [{ __address__: "a:1" }], labels: {} }, { source: "b", targets: [{ __address__: "b:1" }], labels: {} }],
    new Error("backend down"),
    [{ source: "a", targets: [{ __address__: "a:2" }], labels: {} }],
  ];
  const sent: string[][] = [];
  const errors: string[] = [];
  const stop = new AbortController();
  const d = refreshDiscoverer(
    { interval: 30_000, refresh: async () => {
      const next = answers.shift() ?? [];
      if (next instanceof Error) throw next;
      return next;
    } },
    { clock, onError: (e) => errors.push((e as Error).message) },
  );
  const running = d.run(stop.signal, (groups) => void sent.push(groups.map((g) => `${g.source}:${g.targets.length}`)));
  await clock.advance(0);
  expect(sent).toEqual([["a:1", "b:1"]]);
  await clock.advance(30_000);
  expect(errors).toEqual(["backend down"]);
  expect(sent).toHaveLength(1);
  await clock.advance(30_000);
  expect(sent[1]).toEqual(["a:1", "b:0"]);
  stop.abort();
  await running;
});
