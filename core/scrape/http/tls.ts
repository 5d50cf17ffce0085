/**
 * `tls_config` → Bun's fetch `tls` option. Files are read again on every use, as Prometheus
 * does, so a rotated CA or client certificate takes effect without a reload; while their
 * content is unchanged the same options object comes back (and the same connections stay).
 */
import { constants } from "node:crypto";
import type { TlsConfig } from "../../config/types.ts";
import { ScrapeSetupError } from "./errors.ts";

type Version = TlsConfig["min_version"];
const ORDER: Version[] = ["TLS10", "TLS11", "TLS12", "TLS13"];
/** Bun's fetch has no minVersion/maxVersion: versions are switched off with OpenSSL flags. */
const NO_VERSION: Record<Version, number> = {
  TLS10: constants.SSL_OP_NO_TLSv1,
  TLS11: constants.SSL_OP_NO_TLSv1_1,
  TLS12: constants.SSL_OP_NO_TLSv1_2,
  TLS13: constants.SSL_OP_NO_TLSv1_3,
};

/** The `secureOptions` bits that keep the handshake within [min, max]. */
export function versionOptions(min: Version, max: Version | undefined): number {
  const lo = ORDER.indexOf(min);
  const hi = max === undefined ? ORDER.length - 1 : ORDER.indexOf(max);
  if (hi < lo) throw new RangeError(`Cannot configure TLS: max_version (${max}) is lower than min_version (${min})`);
  let bits = 0;
  ORDER.forEach((v, i) => {
    if (i < lo || i > hi) bits |= NO_VERSION[v];
  });
  return bits;
}

async function readFile(path: string, what: string): Promise<string> {
  try {
    return await Bun.file(path).text();
  } catch (err) {
    throw new ScrapeSetupError(`unable to read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export class TlsSettings {
  readonly #cfg: TlsConfig;
  readonly #hasFiles: boolean;
  #options: BunFetchRequestInitTLS | null = null;
  #key = "";

  constructor(cfg: TlsConfig) {
    this.#cfg = cfg;
    this.#hasFiles = cfg.ca_file !== undefined || cfg.cert_file !== undefined || cfg.key_file !== undefined;
    if (!this.#hasFiles) this.#options = this.#build(cfg.ca, cfg.cert, cfg.key);
  }

  /** True when `current()` reads files (and so is worth awaiting). */
  get dynamic(): boolean {
    return this.#hasFiles;
  }

  /** The options for this request; the same object while the files are unchanged. */
  async current(): Promise<BunFetchRequestInitTLS> {
    if (!this.#hasFiles) return this.#options!;
    const c = this.#cfg;
    const [ca, cert, key] = await Promise.all([
      c.ca_file === undefined ? c.ca : readFile(c.ca_file, "CA cert"),
      c.cert_file === undefined ? c.cert : readFile(c.cert_file, "client cert"),
      c.key_file === undefined ? c.key : readFile(c.key_file, "client key"),
    ]);
    const key2 = `${ca ?? ""}\0${cert ?? ""}\0${key ?? ""}`;
    if (this.#options === null || key2 !== this.#key) {
      this.#options = this.#build(ca, cert, key);
      this.#key = key2;
    }
    return this.#options;
  }

  #build(ca: string | undefined, cert: string | undefined, key: string | undefined): BunFetchRequestInitTLS {
    const c = this.#cfg;
    const out: BunFetchRequestInitTLS = {
      rejectUnauthorized: !c.insecure_skip_verify,
      secureOptions: versionOptions(c.min_version, c.max_version),
    };
    if (ca !== undefined && ca !== "") out.ca = ca;
    if (cert !== undefined && cert !== "") out.cert = cert;
    if (key !== undefined && key !== "") out.key = key;
    // Go's ServerName sets both the SNI and the name the certificate is checked against.
    if (c.server_name !== undefined && c.server_name !== "") out.serverName = c.server_name;
    return out;
  }
}

/**
 * A keep-alive connection pool whose TLS options follow the config's files: when a CA,
 * certificate or key file changes, new connections use the new one.
 */
export class TlsSession {
  readonly #tls: TlsSettings;
  #session: Bun.FetchSession | null = null;
  #sessionTls: BunFetchRequestInitTLS | null = null;

  constructor(cfg: TlsConfig) {
    this.#tls = new TlsSettings(cfg);
  }

  async get(): Promise<Bun.FetchSession> {
    const tls = await this.#tls.current();
    if (this.#session === null || tls !== this.#sessionTls) {
      this.#session?.close();
      this.#session = new Bun.FetchSession({ tls });
      this.#sessionTls = tls;
    }
    return this.#session;
  }

  close(): void {
    this.#session?.close();
    this.#session = null;
  }
}
