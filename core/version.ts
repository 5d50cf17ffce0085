import pkg from "../package.json" with { type: "json" };

/** gleaner's version, from package.json (bundled into the compiled binary). */
export const VERSION: string = pkg.version;
