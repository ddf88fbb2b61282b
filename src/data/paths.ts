import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

let cachedRoot: string | undefined;

/**
 * The curricula package folder (the one holding its package.json and `data/`), found from this
 * module's own location, so vendored data resolve the same from src/, dist/ and an installed copy.
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "curricula") {
          cachedRoot = dir;
          return dir;
        }
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`cannot find the curricula package root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Prefix of config paths that point into the package (e.g. `package:data/sklearn/iris.csv`). */
export const PACKAGE_PREFIX = "package:";

/** A config path: `package:<rel>` inside the package, otherwise relative to the working dir. */
export function resolveDataPath(path: string, cwd: string = process.cwd()): string {
  if (path.startsWith(PACKAGE_PREFIX)) return join(packageRoot(), path.slice(PACKAGE_PREFIX.length));
  return resolve(cwd, path);
}
