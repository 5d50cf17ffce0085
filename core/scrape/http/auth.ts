/**
 * The per-request credentials and custom headers of an HTTP client config (spec §1.4):
 * `basic_auth`, `authorization`, `http_headers`. Files are read on every request, as
 * prometheus/common does, and their content is trimmed of surrounding whitespace (Go's
 * `strings.TrimSpace`), so a trailing newline in a token file is never sent.
 */
import type { HttpClientConfig } from "../../config/types.ts";
import { ScrapeSetupError } from "./errors.ts";

/** Reads a secret file and trims it. */
export async function readSecretFile(path: string, what: string): Promise<string> {
  try {
    return (await Bun.file(path).text()).trim();
  } catch (err) {
    throw new ScrapeSetupError(`unable to read ${what}: unable to read file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

type HeaderPart = readonly [name: string, value: string | (() => Promise<string>)];

/** Basic credentials as Go's `SetBasicAuth`: base64 of the UTF-8 `user:password`, unescaped. */
export function basicAuthValue(username: string, password: string): string {
  return "Basic " + Buffer.from(`${username}:${password}`, "utf8").toString("base64");
}

export class AuthHeaders {
  readonly #parts: HeaderPart[] = [];
  readonly #dynamic: boolean;

  constructor(cfg: HttpClientConfig) {
    for (const [name, h] of Object.entries(cfg.http_headers)) {
      for (const v of h.values) this.#parts.push([name, v]);
      for (const v of h.secrets) this.#parts.push([name, v]);
      for (const f of h.files) this.#parts.push([name, () => readSecretFile(f, `headers file ${f}`)]);
    }
    const ba = cfg.basic_auth;
    if (ba !== undefined) {
      const { username_file: uf, password_file: pf } = ba;
      if (uf === undefined && pf === undefined) {
        this.#parts.push(["Authorization", basicAuthValue(ba.username ?? "", ba.password ?? "")]);
      } else {
        this.#parts.push(["Authorization", async () => {
          const [u, p] = await Promise.all([
            uf === undefined ? ba.username ?? "" : readSecretFile(uf, "basic auth username"),
            pf === undefined ? ba.password ?? "" : readSecretFile(pf, "basic auth password"),
          ]);
          return basicAuthValue(u, p);
        }]);
      }
    }
    const az = cfg.authorization;
    if (az !== undefined) {
      const file = az.credentials_file;
      if (file === undefined) this.#parts.push(["Authorization", `${az.type} ${az.credentials ?? ""}`]);
      else this.#parts.push(["Authorization", async () => `${az.type} ${await readSecretFile(file, "authorization credentials")}`]);
    }
    this.#dynamic = this.#parts.some(([, v]) => typeof v !== "string");
  }

  /** Appends the headers to `into`; only awaits when a file is configured. */
  async apply(into: Headers): Promise<void> {
    if (!this.#dynamic) {
      for (const [name, value] of this.#parts) into.append(name, value as string);
      return;
    }
    const values = await Promise.all(this.#parts.map(([, v]) => (typeof v === "string" ? v : v())));
    this.#parts.forEach(([name], i) => into.append(name, values[i]!));
  }
}
