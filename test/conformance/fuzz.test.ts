// Bounded fuzzing: random mutations, truncations and splices of corpus files through every
// parser. The parser must never throw, trap or hang, and every range it returns must lie
// inside the input or the side arena: it returns samples or an error.
import { expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createCore } from "../../wasm/index.ts";
import { ExpositionParser, Format, PARSE_ERROR_REASONS } from "../../wasm/parser.ts";
import { TESTDATA, TESTDATA_MISSING } from "../support/testdata.ts";

const testdata = TESTDATA;
const root = fileURLToPath(testdata);
const parser = new ExpositionParser(await createCore());

function walk(dir: string): string[] {
  return readdirSync(root + dir).flatMap((n) => (statSync(`${root}${dir}/${n}`).isDirectory() ? walk(`${dir}/${n}`) : [`${dir}/${n}`]));
}

const corpus: Uint8Array[] = [];
async function loadCorpus(): Promise<void> {
  for (const path of [...walk("prometheus-textparse"), ...walk("openmetrics-suite"), ...walk("client-libraries"), ...walk("real-exporters")]) {
    if (path.endsWith(".json") || path.endsWith(".gz")) continue;
    const bytes = await Bun.file(root + path).bytes();
    if (bytes.length <= 64 * 1024) corpus.push(bytes);
  }
}

let seed = Number(process.env.FUZZ_SEED ?? 0x2545f491) | 0 || 1;
function rnd(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}

const SPECIAL = [0x22, 0x7b, 0x7d, 0x0a, 0x5c, 0x23, 0x20, 0x09, 0x00, 0xff, 0x0d, 0x2c, 0x3d, 0x80, 0xc3, 0x65, 0x2e, 0x2d];

function mutate(src: Uint8Array): Uint8Array {
  let b = Uint8Array.from(src);
  const ops = 1 + rnd(4);
  for (let k = 0; k < ops; k++) {
    const op = rnd(6);
    const at = b.length === 0 ? 0 : rnd(b.length);
    if (op === 0 && b.length > 0) b[at] = rnd(256);
    else if (op === 1 && b.length > 0) b[at] = SPECIAL[rnd(SPECIAL.length)]!;
    else if (op === 2) b = b.subarray(0, at);
    else if (op === 3) {
      const other = corpus[rnd(corpus.length)]!;
      const from = rnd(other.length + 1);
      const piece = other.subarray(from, from + rnd(200));
      b = new Uint8Array([...b.subarray(0, at), ...piece, ...b.subarray(at)]);
    } else if (op === 4) b = new Uint8Array([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + rnd(20)))]);
    else b = new Uint8Array([...b.subarray(0, at), SPECIAL[rnd(SPECIAL.length)]!, ...b.subarray(at)]);
  }
  return b;
}

function check(body: Uint8Array, format: Format, strict: boolean): void {
  const r = parser.parse(body, format, { strict });
  if (!r.ok) {
    expect(PARSE_ERROR_REASONS[r.code]).toBeDefined();
    return;
  }
  const { input, side } = r.arenas();
  const inside = (s: number, e: number): boolean => s <= e && ((s >= input[0] && e <= input[1]) || (s >= side[0] && e <= side[1]));
  const start = r.seriesStart;
  const end = r.seriesEnd;
  const exStart = r.exemplarStart;
  const exEnd = r.exemplarEnd;
  for (let i = 0; i < r.count; i++) {
    if (!inside(start[i]!, end[i]!)) throw new Error(`series range of sample ${i} is outside the arenas`);
    if (exEnd[i]! > 0 && !inside(exStart[i]!, exEnd[i]!)) throw new Error(`exemplar range of sample ${i} is outside the arenas`);
  }
  for (let i = 0; i < Math.min(r.count, 3); i++) {
    try {
      r.labels(i);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
    }
  }
}

test.skipIf(TESTDATA_MISSING !== null)("mutated, truncated and spliced corpus files return samples or an error, never a throw", async () => {
  if (corpus.length === 0) await loadCorpus();
  const deadline = performance.now() + Number(process.env.FUZZ_MS ?? 2500);
  let runs = 0;
  while (performance.now() < deadline) {
    const body = mutate(corpus[rnd(corpus.length)]!);
    check(body, Format.Text, false);
    check(body, Format.OpenMetrics, false);
    check(body, Format.OpenMetrics, true);
    check(body, Format.Protobuf, false);
    runs++;
  }
  expect(runs).toBeGreaterThan(100);
});

test("random bytes return samples or an error for every format", () => {
  for (let n = 0; n < 300; n++) {
    const body = new Uint8Array(rnd(300));
    for (let i = 0; i < body.length; i++) body[i] = rnd(256);
    for (const f of [Format.Text, Format.OpenMetrics, Format.Protobuf]) check(body, f, false);
  }
});
