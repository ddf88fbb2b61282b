import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Where curricula is installed. Resolved from this module's URL, so it is the same from `src/`
 * (tests), `dist/` (the CLI) and an installed copy under node_modules.
 */
export const PACKAGE_ROOT: string = fileURLToPath(new URL("../..", import.meta.url));

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
