/** Starts gleaner as a child process, as a user would, and talks to it over HTTP. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");
export const ENTRY = join(ROOT, "cmd/gleaner.ts");

export function tempDir(prefix = "gleaner-e2e-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The command that runs gleaner from source. */
export function sourceCommand(): string[] {
  return [process.execPath, ENTRY];
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runToEnd(cmd: string[], args: string[], cwd = ROOT): Promise<Result> {
  const proc = Bun.spawn([...cmd, ...args], { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

export class Running {
  stderr = "";
  readonly #reader: Promise<void>;

  constructor(readonly proc: Bun.Subprocess<"ignore", "ignore", "pipe">) {
    this.#reader = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stderr) this.stderr += decoder.decode(chunk, { stream: true });
    })();
  }

  /** Waits until stderr matches `re` (or the process exits / times out). */
  async waitFor(re: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const m = re.exec(this.stderr);
      if (m) return m;
      if (this.proc.exitCode !== null) break;
      await Bun.sleep(20);
    }
    throw new Error(`gleaner did not log ${re} (exit ${this.proc.exitCode}); stderr:\n${this.stderr}`);
  }

  async exit(): Promise<number> {
    const code = await this.proc.exited;
    await this.#reader;
    return code;
  }
}

/** Starts `gleaner run` on a free loopback port and waits until it is ready. */
export async function startGleaner(cmd: string[], args: string[], cwd = ROOT): Promise<{ g: Running; base: string }> {
  const proc = Bun.spawn([...cmd, "run", "--web.listen-address=127.0.0.1:0", ...args], { cwd, stdout: "ignore", stderr: "pipe", stdin: "ignore" });
  const g = new Running(proc);
  const m = await g.waitFor(/Server is ready to receive web requests\.\W+address\W+([\d.]+:\d+)/);
  return { g, base: `http://${m[1]}` };
}

let built: Promise<string> | null = null;

/** Builds dist-like `gleaner` once per test run (as `npm run build` does) and returns its path. */
export function compiledBinary(): Promise<string> {
  built ??= (async () => {
    const binary = join(tempDir("gleaner-bin-"), "gleaner");
    const build = await runToEnd([process.execPath], ["build", "--compile", "--minify", ENTRY, "--outfile", binary]);
    if (build.code !== 0) throw new Error(`bun build --compile failed:\n${build.stdout}${build.stderr}`);
    return binary;
  })();
  return built;
}
