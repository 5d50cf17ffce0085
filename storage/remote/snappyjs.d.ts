/** Types for snappyjs 0.7 (Snappy *block* format, pure JS), which ships none. */
declare module "snappyjs" {
  /** Compresses to the Snappy block format. A Uint8Array in gives a Uint8Array out. */
  export function compress(uncompressed: Uint8Array): Uint8Array;
  export function compress(uncompressed: ArrayBuffer): ArrayBuffer;
  /**
   * Decompresses a Snappy block; throws Error("Invalid Snappy bitstream") on bad input and
   * when the declared length exceeds `maxLength`.
   */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  export function uncompress(compressed: ArrayBuffer, maxLength?: number): ArrayBuffer;
}
