/** Source positions of AST nodes and the parse failure that carries one (shared by the parser and checker). */

/** An AST node's source range, for error positions. */
export const positions = new WeakMap<object, { from: number; to: number }>();

/** "line:col" (1-based) of an offset, as Prometheus prints positions. */
export function lineCol(input: string, pos: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos && i < input.length; i++) {
    if (input[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
  }
  return `${line}:${pos - lineStart + 1}`;
}

/** Selectors and subqueries that already carry an offset (even `offset 0s`). */
export const offsetSet = new WeakSet<object>();

export class ParseFailure extends Error {
  constructor(
    readonly pos: number,
    message: string,
  ) {
    super(message);
  }
}


/** Where a binary expression's operator starts (Prometheus reports binary errors there). */
export const opPositions = new WeakMap<object, number>();
