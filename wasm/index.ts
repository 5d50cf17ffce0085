/**
 * Loads the AssemblyScript core (wasm/build/core.wasm, built by scripts/build-wasm.ts).
 *
 * The module file is embedded by `bun build --compile` through the `type: "file"` import,
 * so the compiled binary needs nothing beside it. Only the files in wasm/ touch WASM
 * memory; everything else goes through their typed bindings.
 *
 * Memory growth detaches every view over `memory.buffer`: bindings must call `views()`
 * again after any export that may allocate.
 */
import wasmPath from "./build/core.wasm" with { type: "file" };
import { ABI_VERSION } from "./assembly/abi.ts";

/** The raw exports of core.wasm. Each binding file narrows the part it uses. */
export type CoreExports = Record<string, unknown> & {
  memory: WebAssembly.Memory;
  abiVersion(): number;
  alloc(size: number): number;
  free(ptr: number, size: number): void;
};

export interface Views {
  u8: Uint8Array;
  u32: Uint32Array;
  i32: Int32Array;
  f64: Float64Array;
  i64: BigInt64Array;
  dv: DataView;
}

export class Core {
  readonly exports: CoreExports;
  #buffer: ArrayBuffer | null = null;
  #views: Views | null = null;

  constructor(instance: WebAssembly.Instance) {
    this.exports = instance.exports as CoreExports;
    const abi = this.exports.abiVersion();
    if (abi !== ABI_VERSION) {
      throw new Error(`core.wasm has ABI version ${abi}, the bindings expect ${ABI_VERSION}: run "npm run build:wasm"`);
    }
  }

  /** Typed views over the current memory; re-created only when memory has grown. */
  views(): Views {
    const buffer = this.exports.memory.buffer;
    if (buffer !== this.#buffer || this.#views === null) {
      this.#buffer = buffer;
      this.#views = {
        u8: new Uint8Array(buffer),
        u32: new Uint32Array(buffer),
        i32: new Int32Array(buffer),
        f64: new Float64Array(buffer),
        i64: new BigInt64Array(buffer),
        dv: new DataView(buffer),
      };
    }
    return this.#views;
  }
}

let compiled: Promise<WebAssembly.Module> | null = null;

function compileModule(): Promise<WebAssembly.Module> {
  compiled ??= Bun.file(wasmPath)
    .arrayBuffer()
    .then((bytes) => WebAssembly.compile(bytes))
    .catch((err: unknown) => {
      compiled = null;
      throw new Error(`cannot load the WebAssembly core from ${wasmPath}: ${(err as Error).message}`);
    });
  return compiled;
}

/**
 * Instantiates a fresh core (its own memory). Cheap after the first call: the compiled
 * module is cached. Workers call this too.
 */
export async function createCore(): Promise<Core> {
  const module = await compileModule();
  const instance = await WebAssembly.instantiate(module, {
    env: {
      abort(_msg: number, _file: number, line: number, column: number): never {
        throw new Error(`core.wasm aborted at ${line}:${column}`);
      },
    },
  });
  return new Core(instance);
}

let shared: Promise<Core> | null = null;

/** The process-wide core instance used by the main thread. */
export function core(): Promise<Core> {
  shared ??= createCore();
  return shared;
}
