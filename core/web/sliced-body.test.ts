import { expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { CHUNK_CHARS, GZIP_AT_ONCE_BYTES, gzipBody, textBody, TextChunks } from "./sliced-body.ts";

const lines = (n: number) => Array.from({ length: n }, (_, i) => `{"__name__":"x","instance":"host-${i}:9100","v":"${(i * 7919) % 1000}"}`);

test("TextChunks cuts text into chunks of about 64 KiB that join to the text", () => {
  const parts = lines(20_000);
  const out = new TextChunks();
  for (const p of parts) out.push(p);
  const chunks = out.finish();
  expect(chunks.length).toBeGreaterThan(10);
  for (const c of chunks.slice(0, -1)) expect(c.length).toBeGreaterThanOrEqual(CHUNK_CHARS);
  expect(chunks.join("")).toBe(parts.join(""));
});

test("textBody() is a plain string for one chunk and a stream of the same text for many", async () => {
  expect(textBody(["abc"])).toBe("abc");
  expect(textBody([])).toBe("");
  const chunks = ["{\"a\":", "\"é ü\"", "}"];
  const body = textBody(chunks, 0);
  expect(body).toBeInstanceOf(ReadableStream);
  expect(await new Response(body).text()).toBe(chunks.join(""));
});

test("gzipBody() compresses a small body at once and a big one in slices, both to the same bytes once inflated", async () => {
  const small = new TextEncoder().encode(lines(100).join("\n"));
  const once = await gzipBody(new Response(small).body!);
  expect(once).toBeInstanceOf(Uint8Array);
  expect(new Uint8Array(gunzipSync(once as Uint8Array))).toEqual(small);

  const text = lines(40_000).join("\n");
  const big = new TextEncoder().encode(text);
  expect(big.length).toBeGreaterThan(GZIP_AT_ONCE_BYTES);
  let fired = false;
  setTimeout(() => {
    fired = true;
  }, 0);
  const stream = await gzipBody(new Response(big).body!, 0);
  expect(stream).toBeInstanceOf(ReadableStream);
  const zipped = new Uint8Array(await new Response(stream).arrayBuffer());
  expect(fired).toBe(true);
  expect(new TextDecoder().decode(gunzipSync(zipped))).toBe(text);
});
