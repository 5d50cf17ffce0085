/**
 * The blob of a chunk row that holds several XOR chunks (parts > 1, written by compaction).
 * Each part: uvarint byte length, uvarint (part mint − row mint), uvarint (part maxt − part
 * mint), then the XOR chunk's bytes unchanged. A part's sample count is the XOR chunk's own
 * header (big-endian u16). A row with parts = 1 holds the bare XOR chunk bytes.
 */

export interface Part {
  mint: number;
  maxt: number;
  count: number;
  data: Uint8Array;
}

/** Samples in an XOR chunk, from its 2-byte big-endian header. */
export function xorCount(data: Uint8Array): number {
  return data.length < 2 ? 0 : (data[0]! << 8) | data[1]!;
}

function putUvarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** Packs parts (ordered by mint) relative to `rowMint`, the smallest part mint. */
export function packParts(parts: readonly Part[], rowMint: number): Uint8Array {
  let size = 0;
  const heads: number[][] = [];
  for (const p of parts) {
    const h: number[] = [];
    putUvarint(h, p.data.length);
    putUvarint(h, p.mint - rowMint);
    putUvarint(h, p.maxt - p.mint);
    heads.push(h);
    size += h.length + p.data.length;
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (let i = 0; i < parts.length; i++) {
    const h = heads[i]!;
    out.set(h, o);
    o += h.length;
    out.set(parts[i]!.data, o);
    o += parts[i]!.data.length;
  }
  return out;
}

/**
 * Unpacks a multi-part blob; the parts' data are views into `blob`, not copies.
 * @throws SyntaxError when the blob does not hold exactly `n` well-formed parts.
 */
export function unpackParts(blob: Uint8Array, rowMint: number, n: number): Part[] {
  const out: Part[] = [];
  let o = 0;
  const uvarint = (): number => {
    let v = 0;
    let mul = 1;
    for (let k = 0; k < 8; k++) {
      if (o >= blob.length) break;
      const b = blob[o++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
    throw new SyntaxError(`Cannot unpack a chunk row: a part header ends early or is too long at byte ${o}`);
  };
  for (let i = 0; i < n; i++) {
    const len = uvarint();
    const mint = rowMint + uvarint();
    const maxt = mint + uvarint();
    if (o + len > blob.length) throw new SyntaxError(`Cannot unpack a chunk row: part ${i} of ${n} needs ${len} bytes, ${blob.length - o} are left`);
    const data = blob.subarray(o, o + len);
    o += len;
    out.push({ mint, maxt, count: xorCount(data), data });
  }
  if (o !== blob.length) throw new SyntaxError(`Cannot unpack a chunk row: ${blob.length - o} bytes follow its ${n} parts`);
  return out;
}
