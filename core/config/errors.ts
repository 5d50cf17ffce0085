/** A config problem, located: `prometheus.yml:14:5: scrape_configs[1].scrape_timeout (15s) ...`. */
export type PathSegment = string | number;

export interface ConfigErrorPlace {
  file: string;
  /** 1-based; 0 when the problem is not in the file's text (e.g. it cannot be read). */
  line: number;
  column: number;
  /** The YAML path, e.g. `scrape_configs[1].scrape_timeout`. */
  path: string;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(message: string, readonly place: ConfigErrorPlace) {
    super(message);
  }
}

/** `["scrape_configs", 1, "scrape_timeout"]` → `scrape_configs[1].scrape_timeout`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? seg : `.${seg}`;
  }
  return out;
}
