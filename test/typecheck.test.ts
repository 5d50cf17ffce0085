import { expect, test } from "bun:test";
import { resolve } from "node:path";

// Bun runs TypeScript without checking types; the strict tsconfig is enforced here so
// `npm test` fails on a type error anywhere in the project.
test("the whole project type-checks under the strict tsconfig", () => {
  const root = resolve(import.meta.dir, "..");
  const tsc = Bun.spawnSync([process.execPath, resolve(root, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", root], { cwd: root });
  const output = tsc.stdout.toString() + tsc.stderr.toString();
  expect(output).toBe("");
  expect(tsc.exitCode).toBe(0);
}, 60_000);
