/**
 * Growing a reused output buffer: the WAL codec and the remote-write encoder write into one
 * scratch buffer each and grow it by doubling when a record does not fit.
 */

/** `buf` when `extra` more bytes fit after `used`; otherwise a copy of its first `used` bytes in a buffer at least twice as large. */
export function withRoom(buf: Uint8Array<ArrayBuffer>, used: number, extra: number): Uint8Array<ArrayBuffer> {
  if (used + extra <= buf.length) return buf;
  let cap = Math.max(1, buf.length) * 2;
  while (cap < used + extra) cap *= 2;
  const grown = new Uint8Array(cap);
  grown.set(buf.subarray(0, used));
  return grown;
}
