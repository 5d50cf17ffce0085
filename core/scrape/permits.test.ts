import { expect, test } from "bun:test";
import { Permits } from "./permits.ts";

test("Permits lets n holders through, queues the rest in order, and a double release frees one permit", async () => {
  const p = new Permits(2);
  const order: string[] = [];
  const a = await p.acquire();
  const b = await p.acquire();
  const c = p.acquire().then((r) => (order.push("c"), r));
  const d = p.acquire().then((r) => (order.push("d"), r));
  await Bun.sleep(1);
  expect(order).toEqual([]);
  expect(p.waiting).toBe(2);
  a();
  a();
  await Bun.sleep(1);
  expect(order).toEqual(["c"]);
  b();
  (await c)();
  (await d)();
  await Promise.all([p.acquire(), p.acquire()]);
  expect(p.waiting).toBe(0);
});

test("Permits refuses a count below 1", () => {
  expect(() => new Permits(0)).toThrow(RangeError);
});
