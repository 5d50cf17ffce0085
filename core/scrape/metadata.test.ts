import { expect, test } from "bun:test";
import { MetadataCache } from "./metadata.ts";

function source(names: string[]) {
  let decoded = 0;
  return {
    get decoded() {
      return decoded;
    },
    familyCount: names.length,
    familyAt: (f: number) => (decoded++, { name: names[f]!, type: 1, help: `help ${names[f]}`, unit: "" }),
  };
}

test("families are decoded when the family list changes or every 10th scrape, not every scrape", () => {
  const cache = new MetadataCache();
  const s = source(["a", "b"]);
  cache.update(s);
  expect(s.decoded).toBe(2);
  for (let i = 0; i < 9; i++) cache.update(s);
  expect(s.decoded).toBe(2);
  cache.update(s);
  expect(s.decoded).toBe(4);
  cache.update(source(["a", "b", "c"]));
  expect(cache.list().map((m) => m.metric)).toEqual(["a", "b", "c"]);
});

test("a family not seen for more than 10 scrapes past the refresh is forgotten", () => {
  const cache = new MetadataCache();
  cache.update(source(["old", "kept"]));
  const now = source(["kept"]);
  for (let i = 0; i < 25; i++) cache.update(now);
  expect(cache.list().map((m) => m.metric)).toEqual(["kept"]);
});
