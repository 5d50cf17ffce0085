/**
 * What went wrong with the block store file, named by path, so the TSDB can report it and
 * keep running on the head alone (the samples stay in the head and its WAL).
 */

export type BlockStoreErrorReason =
  | "not-a-database" // not SQLite at all (or a directory)
  | "not-gleaner" // SQLite, but another application's file
  | "newer-schema" // written by a newer gleaner
  | "corrupt" // SQLite found damage (quick_check, SQLITE_CORRUPT, SQLITE_NOTADB)
  | "disk-full" // SQLITE_FULL: the batch was rolled back, nothing committed is lost
  | "io"; // any other SQLite or file-system error

export class BlockStoreError extends Error {
  override name = "BlockStoreError";
  readonly path: string;
  readonly reason: BlockStoreErrorReason;

  constructor(path: string, reason: BlockStoreErrorReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.path = path;
    this.reason = reason;
  }
}

/** Turns a bun:sqlite error into a BlockStoreError that says what could not be done to which file. */
export function wrapSqliteError(path: string, what: string, err: unknown): BlockStoreError {
  if (err instanceof BlockStoreError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  const msg = typeof e.message === "string" ? e.message : String(err);
  const base = code.replace(/_.*$/, "") === "SQLITE" ? code.split("_").slice(0, 2).join("_") : code;
  const reason: BlockStoreErrorReason =
    base === "SQLITE_CORRUPT" || base === "SQLITE_NOTADB" ? "corrupt" : base === "SQLITE_FULL" ? "disk-full" : "io";
  const hint =
    reason === "corrupt"
      ? "the database is corrupt; move it away to start a new block store"
      : reason === "disk-full"
        ? "the disk is full; the batch was rolled back"
        : msg;
  return new BlockStoreError(path, reason, `Cannot ${what} in block store ${path}: ${hint} (${code || "error"}: ${msg})`, { cause: err });
}
