// Label scratch list of the sample being parsed: per label nameStart, nameEnd, valueStart,
// valueEnd (absolute addresses; the value without its quotes, still escaped).

import { alloc, free } from "../alloc";

export let lblPtr: usize = 0;
let lblCap: i32 = 0;
export let lblN: i32 = 0;

export function setLblN(n: i32): void {
  lblN = n;
}

export function pushLabel(ns: usize, ne: usize, vs: usize, ve: usize): void {
  if (lblN == lblCap) {
    const n = lblCap == 0 ? 64 : lblCap * 2;
    const np = alloc(<usize>n * 16);
    if (lblPtr != 0) {
      memory.copy(np, lblPtr, <usize>lblCap * 16);
      free(lblPtr, <usize>lblCap * 16);
    }
    lblPtr = np;
    lblCap = n;
  }
  const r = lblPtr + (<usize>lblN << 4);
  store<u32>(r, <u32>ns);
  store<u32>(r + 4, <u32>ne);
  store<u32>(r + 8, <u32>vs);
  store<u32>(r + 12, <u32>ve);
  lblN++;
}

/** Word w (0 name start, 1 name end, 2 value start, 3 value end) of label i. */
@inline export function lbl(i: i32, w: i32): usize {
  return <usize>load<u32>(lblPtr + (<usize>i << 4) + (<usize>w << 2));
}
