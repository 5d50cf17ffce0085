import { expect, test } from "bun:test";
import { Labels } from "./labels.ts";

test("fromSorted() trusts sorted input and falls back to sorting when it is not", () => {
  expect(String(Labels.fromSorted(["__name__", "up", "job", "a"]))).toBe('up{job="a"}');
  expect(Labels.fromSorted(["job", "a", "__name__", "up"]).equals(Labels.from({ __name__: "up", job: "a" }))).toBe(true);
  expect(Labels.fromSorted(["a", "", "b", "x"]).toObject()).toEqual({ b: "x" });
  expect(Labels.fromSorted(["a", "1", "a", "2"]).toObject()).toEqual({ a: "2" });
});
