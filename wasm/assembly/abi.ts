// Constants shared by the AssemblyScript core and its TypeScript bindings (wasm/index.ts).
// This file must compile under both asc and tsc: untyped integer constants only
// (asc infers i32 for them, tsc infers number).

/** Bumped whenever the memory layout or an export's signature changes. */
export const ABI_VERSION = 1;
