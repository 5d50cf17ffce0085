/**
 * Regenerates wasm/testdata/xor-prometheus.json: random series written to OpenMetrics text,
 * turned into a TSDB block by Prometheus's own promtool, and the XOR chunk bytes read back
 * out of the block's chunk segment file. wasm/xor.test.ts checks that our codec decodes
 * those bytes to the same samples and re-encodes them to the same bytes.
 *
 *   apt-get install prometheus   # Debian bookworm: 2.42.0+ds-5+deb12u1, brings promtool
 *   bun wasm/testdata/make-xor-fixture.ts
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const T0 = 1_699_999_200_000; // ms, a 2h block boundary: every series stays inside one block
let seed = 20261122;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

function text(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (Number.isNaN(v)) return "NaN";
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

const valueKinds: Record<string, (i: number, prev: number) => number> = {
  counter: (i, p) => (i === 0 ? Math.floor(rnd() * 1e6) : p + Math.floor(rnd() * 300)),
  gauge: () => Math.round((rnd() - 0.5) * 1e7) / 1e3,
  tiny: () => rnd() * 1e-9,
  mixedExp: () => (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20),
  steps: (i, p) => (i === 0 || rnd() < 0.2 ? Math.floor(rnd() * 8) : p),
  specials: () => pick([0, -0, 1, -1, Infinity, -Infinity, NaN, 0.5, 2 ** 53, 1e308, 5e-324]),
  seconds: () => T0 / 1000 + rnd() * 1000,
};

const lines: string[] = [];
const series: Record<string, [string, string][]> = {};
let id = 0;
for (const kind of Object.keys(valueKinds)) {
  for (let k = 0; k < 9; k++, id++) {
    const n = 1 + Math.floor(rnd() * (k < 2 ? 3 : 100));
    const name = `s{kind="${kind}",id="${id}"}`;
    const step = pick([1000, 15000, 15000, 30000]);
    const jitter = pick([0, 0, 5, 50, 2000]);
    let t = T0 + id; // unique first timestamp: maps chunks back to series
    let v = 0;
    const s: [string, string][] = [];
    for (let i = 0; i < n; i++) {
      v = valueKinds[kind]!(i, v);
      s.push([text(v), (t / 1000).toFixed(3)]);
      t += step + Math.floor(rnd() * (2 * jitter + 1)) - jitter + (rnd() < 0.03 ? Math.floor(rnd() * 700_000) : 0);
    }
    series[name] = s;
  }
}
lines.push("# TYPE s gauge");
for (const [name, s] of Object.entries(series)) for (const [v, ts] of s) lines.push(`${name} ${v} ${ts}`);
lines.push("# EOF");

const dir = mkdtempSync(join(tmpdir(), "xor-fixture-"));
await Bun.write(join(dir, "in.om"), lines.join("\n") + "\n");
const run = Bun.spawnSync(["promtool", "tsdb", "create-blocks-from", "openmetrics", join(dir, "in.om"), join(dir, "out")]);
if (run.exitCode !== 0) throw new Error(`promtool failed: ${run.stderr.toString()}`);
const version = Bun.spawnSync(["promtool", "--version"]).stdout.toString().split("\n")[0];
const block = readdirSync(join(dir, "out")).find((d) => d.startsWith("01"))!;
const seg = new Uint8Array(await Bun.file(join(dir, "out", block, "chunks", "000001")).arrayBuffer());

// Segment: 8-byte header, then per chunk: uvarint length, encoding byte, data, CRC32. Chunks
// come in index order (series sorted by label set), each series' chunks in time order;
// a series may have several (the head cuts chunks by predicted time, not only at 120).
const order = Object.keys(series).sort((a, b) => {
  const la = a.match(/kind="(\w+)",id="(\d+)"/)!;
  const lb = b.match(/kind="(\w+)",id="(\d+)"/)!;
  // Labels sorted by name: id before kind; values compared as strings.
  return la[2]! < lb[2]! ? -1 : la[2]! > lb[2]! ? 1 : la[1]! < lb[1]! ? -1 : la[1]! > lb[1]! ? 1 : 0;
});
const chunks: Record<string, string[]> = {};
let si = 0;
let consumed = 0;
for (let p = 8; p < seg.length; ) {
  let len = 0;
  let shift = 0;
  let b: number;
  do {
    b = seg[p++]!;
    len |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  const enc = seg[p++]!;
  const data = seg.subarray(p, p + len);
  p += len + 4;
  if (enc !== 1) throw new Error(`unexpected chunk encoding ${enc}`);
  const count = (data[0]! << 8) | data[1]!;
  if (consumed === series[order[si]!]!.length) {
    si++;
    consumed = 0;
  }
  const name = order[si]!;
  (chunks[name] ??= []).push(Buffer.from(data).toString("hex"));
  consumed += count;
  if (consumed > series[name]!.length) throw new Error(`chunks of ${name} hold more samples than it has`);
}
if (si !== order.length - 1 || consumed !== series[order[si]!]!.length) throw new Error("chunks do not cover every series");
rmSync(dir, { recursive: true });
const out = { about: `XOR chunks written by ${version} (promtool tsdb create-blocks-from openmetrics); see make-xor-fixture.ts`, series, chunks };
// One line per series keeps the file diffable.
const obj = (o: Record<string, unknown>) => `{\n${Object.entries(o).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(",\n")}\n }`;
await Bun.write(
  join(import.meta.dir, "xor-prometheus.json"),
  `{\n "about": ${JSON.stringify(out.about)},\n "series": ${obj(out.series)},\n "chunks": ${obj(out.chunks)}\n}\n`,
);
console.log(`${Object.values(chunks).flat().length} chunks, ${lines.length - 2} samples`);
