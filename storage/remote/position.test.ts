import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PositionFile } from "./position.ts";

test("a saved position is read back by a new instance (as after a restart)", async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "gleaner-pos-")), "q");
  const p = new PositionFile(dir);
  expect(await p.load()).toBeNull();
  void p.save({ segment: 1, offset: 10 });
  void p.save({ segment: 3, offset: 4096 });
  await p.flush();
  expect(await new PositionFile(dir).load()).toEqual({ segment: 3, offset: 4096 });
  // A shorter line later overwrites the whole longer one.
  await p.save({ segment: 4, offset: 0 });
  await p.close();
  expect(await new PositionFile(dir).load()).toEqual({ segment: 4, offset: 0 });
  expect((await Bun.file(join(dir, "position")).text()).length).toBe(64);
});

test("a damaged position file is an error naming the file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gleaner-pos-"));
  writeFileSync(join(dir, "position"), "segment x\n");
  await expect(new PositionFile(dir).load()).rejects.toThrow(`Cannot read the remote-write position in ${join(dir, "position")}: expected "segment <n> offset <n>", got "segment x\\n"`);
});
