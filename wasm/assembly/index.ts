// Entry point of the AssemblyScript core: every export of core.wasm is listed here.
import { ABI_VERSION } from "./abi";

export function abiVersion(): i32 {
  return ABI_VERSION;
}
