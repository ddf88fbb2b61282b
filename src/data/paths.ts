import { join, resolve } from "node:path";
import { PACKAGE_ROOT } from "../config/package.js";

/** Prefix of config paths that point into the package (e.g. `package:data/sklearn/iris.csv`). */
export const PACKAGE_PREFIX = "package:";

/** A config path: `package:<rel>` inside the package, otherwise relative to the working dir. */
export function resolveDataPath(path: string, cwd: string = process.cwd()): string {
  if (path.startsWith(PACKAGE_PREFIX)) return join(PACKAGE_ROOT, path.slice(PACKAGE_PREFIX.length));
  return resolve(cwd, path);
}
