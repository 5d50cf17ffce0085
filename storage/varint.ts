/**
 * Protobuf-style unsigned varints (7 bits a byte, low group first) for non-negative integer
 * numbers up to 2^53, written into a caller's buffer: the WAL codec and the remote-write
 * encoder share it.
 */

/** Writes `v` at `p`; returns the position after it. */
export function putVarint(b: Uint8Array, p: number, v: number): number {
  if (v < 0x80000000) {
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    return p;
  }
  while (v >= 0x80) {
    b[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  b[p++] = v;
  return p;
}
