/**
 * The send position of one queue, kept in `<storage>/remote/<queue>/position`: the WAL
 * (segment, offset) up to which every record's samples were acknowledged by the receiver (or
 * dropped for good). A restart resumes there, so it loses nothing and re-sends at most the
 * batches that were in flight when it stopped.
 *
 * One fixed-size line rewritten in place by a single pwrite (a few dozen bytes at offset 0,
 * so a crash leaves the old line or the new one): saving after every acknowledged batch
 * costs one system call.
 */
import { mkdir, open, readFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { WalPosition } from "../tsdb/wal/index.ts";

export class PositionFile {
  readonly path: string;
  #saving: Promise<void> | null = null;
  #want: WalPosition | null = null;
  #saved: WalPosition | null = null;
  #fh: FileHandle | null = null;

  constructor(readonly dir: string) {
    this.path = join(dir, "position");
  }

  /** The saved position, or null when there is none; throws SyntaxError naming the file when it is damaged. */
  async load(): Promise<WalPosition | null> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
    const m = /^segment (\d+) offset (\d+) *\n$/.exec(text);
    if (m === null) throw new SyntaxError(`Cannot read the remote-write position in ${this.path}: expected "segment <n> offset <n>", got ${JSON.stringify(text.slice(0, 80))}`);
    this.#saved = { segment: Number(m[1]), offset: Number(m[2]) };
    return this.#saved;
  }

  /** Saves `pos` soon; calls coalesce (one write in flight, the latest position wins). */
  save(pos: WalPosition): Promise<void> {
    this.#want = pos;
    this.#saving ??= this.#loop().finally(() => {
      this.#saving = null;
    });
    return this.#saving;
  }

  /** Resolves when every position asked for is on disk. */
  async flush(): Promise<void> {
    while (this.#saving !== null) await this.#saving;
  }

  async #loop(): Promise<void> {
    if (this.#fh === null) {
      await mkdir(this.dir, { recursive: true });
      // Not append mode: positional writes there go to the end on Linux.
      this.#fh = await open(this.path, "r+").catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
        return open(this.path, "w+");
      });
    }
    while (this.#want !== null) {
      const pos = this.#want;
      this.#want = null;
      if (this.#saved !== null && this.#saved.segment === pos.segment && this.#saved.offset === pos.offset) continue;
      // Always LINE bytes long, so each write covers the whole previous line.
      const line = `segment ${pos.segment} offset ${pos.offset}`.padEnd(LINE - 1) + "\n";
      await this.#fh.write(line, 0);
      this.#saved = pos;
    }
  }

  /** Closes the file (after the last save). */
  async close(): Promise<void> {
    await this.flush();
    await this.#fh?.close();
    this.#fh = null;
  }
}

const LINE = 64;
