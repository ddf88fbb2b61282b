import { existsSync } from "node:fs";
import { describe, it } from "vitest";

/**
 * The one skip policy of the tests. A test that needs something of the system (a Debian package's
 * file, the torch addon, numpy and scipy, a browser) declares it with `describeWith`: where the
 * dependency is usable the tests run; where it is not, they are skipped with the reason printed on a
 * developer's machine, and under `CI=true` (CI installs everything) they fail with the reason
 * instead, so nothing is skipped silently in CI.
 */

/** Something of the system some tests need: `problem` is null when it is usable, else why not. */
export interface SystemDependency {
  /** What it is and how to get it, e.g. `dataset-fashion-mnist (apt-get install dataset-fashion-mnist)`. */
  name: string;
  problem: string | null;
}

/** True under CI (`CI` set), where a missing dependency fails its tests instead of skipping them. */
export const onCI = Boolean(process.env.CI);

/** A file that a Debian package installs. */
export function systemFile(path: string, pkg: string): SystemDependency {
  return {
    name: `${pkg} (apt-get install ${pkg})`,
    problem: existsSync(path) ? null : `${path} not found: install the Debian package ${pkg}`,
  };
}

/**
 * `describe` for tests that need `dependency`: runs `body` when it is usable; otherwise skips it with
 * the reason printed, or, under CI, registers one failing test that names the dependency and the reason.
 */
export function describeWith(dependency: SystemDependency, name: string, body: () => void): void {
  if (dependency.problem === null) {
    describe(name, body);
    return;
  }
  if (onCI) {
    describe(name, () => {
      it(`needs ${dependency.name}, which CI installs`, () => {
        throw new Error(`${dependency.problem} (required under CI)`);
      });
    });
    return;
  }
  console.warn(`skipping '${name}': ${dependency.problem}`);
  describe.skip(name, body);
}
