// Entry point of the AssemblyScript core: every export of core.wasm is listed here.
// Each module adds one `export ... from` line; keep them sorted by file.
import { ABI_VERSION } from "./abi";

export { alloc, allocHeapBytes, free } from "./alloc";

export function abiVersion(): i32 {
  return ABI_VERSION;
}
export {
  xorAppend, xorAppendBatch, xorAppendBits, xorAppendStale, xorBytesLen, xorBytesPtr, xorCount,
  xorDecode, xorFree, xorFromBytes, xorIterFree, xorIterNew, xorIterNext, xorIterReset,
  xorMaxTime, xorMinTime, xorNew, xorRestoreMany, xorSnapshot,
} from "./xor";
export {
  cacheBeginScrape, cacheCapacity, cacheCount, cacheEvict, cacheFree, cacheInsert, cacheKeyBytes,
  cacheListUnseen, cacheLookup, cacheLookupBatch, cacheNew, cacheTestHooks,
} from "./cache";
export { hash64Into } from "./hash";
export {
  parserDecodeLabels, parserDecodeWords, parserFloatError, parserFormatBuffer, parserFormatFloat,
  parserHeader, parserInput, parserParseFloat, parserRun,
} from "./parse/index";
