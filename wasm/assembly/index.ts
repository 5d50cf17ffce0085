// Entry point of the AssemblyScript core: every export of core.wasm is listed here.
// Each module adds one `export ... from` line; keep them sorted by file.
import { ABI_VERSION } from "./abi";

export { alloc, free } from "./alloc";

export function abiVersion(): i32 {
  return ABI_VERSION;
}
