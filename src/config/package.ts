import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The nearest folder above this module whose package.json is curricula's; two levels up when none
 * is (this module is `<root>/src/config/` or `<root>/dist/config/`).
 */
function findPackageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "curricula")
          return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    if (dirname(dir) === dir) return resolve(here, "..", "..");
  }
}

/**
 * Where curricula is installed (the folder of its package.json, `configs/` and `data/`), found from
 * this module's location, so it is the same from `src/` (tests), `dist/` (the CLI), an installed
 * copy under node_modules and the benchmarks' compiled copy under node_modules/.cache.
 */
export const PACKAGE_ROOT: string = findPackageRoot();

/** The packaged configs (`configs/<group>/<Name>.yaml`), searched after a project's `conf/`. */
export const PACKAGED_CONFIG_DIR: string = join(PACKAGE_ROOT, "configs");

/** A project's local config folder (shadows the packaged configs by name). */
export const LOCAL_CONFIG_DIRNAME = "conf";

let cachedVersion: string | undefined;

/** The package version from package.json. */
export function packageVersion(): string {
  if (cachedVersion === undefined) {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version?: string };
    cachedVersion = pkg.version ?? "0.0.0";
  }
  return cachedVersion;
}

/** Config search path: the local folder (`-cp` or `./conf`) first, then the packaged configs. */
export function configSearchPath(configPath?: string, cwd: string = process.cwd()): string[] {
  const local = resolve(cwd, configPath ?? LOCAL_CONFIG_DIRNAME);
  return local === PACKAGED_CONFIG_DIR ? [local] : [local, PACKAGED_CONFIG_DIR];
}
