/**
 * Compiles the AssemblyScript core (wasm/assembly/index.ts) into wasm/build/core.wasm.
 *
 * Runs from `npm install` (postinstall), `npm test`, `npm start` and `npm run build`, so a
 * fresh clone never needs a manual step and no binary is committed. Skips the compile when
 * the module is newer than every AssemblyScript source.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
const srcDir = join(root, "wasm/assembly");
const outFile = join(root, "wasm/build/core.wasm");
const force = process.argv.includes("--force");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

if (!force && existsSync(outFile) && statSync(outFile).mtimeMs >= newestSource(srcDir)) {
  process.exit(0);
}

mkdirSync(join(root, "wasm/build"), { recursive: true });
const asc = join(root, "node_modules/assemblyscript/bin/asc.js");
const proc = Bun.spawnSync(
  [
    process.execPath, asc, join(srcDir, "index.ts"),
    "-o", outFile,
    "-O3", "--noAssert", "--runtime", "stub", "--enable", "simd",
    "--exportRuntime", "--initialMemory", "2",
  ],
  { cwd: root, stdout: "inherit", stderr: "inherit" },
);
if (proc.exitCode !== 0) {
  console.error(`build-wasm: asc failed to compile ${srcDir}/index.ts (exit ${proc.exitCode})`);
  process.exit(1);
}
