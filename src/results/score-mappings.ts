import { existsSync } from "node:fs";
import { join } from "node:path";
import { SCORE_MAPPINGS_FILE } from "../config/layout.js";
import { CurriculaError } from "../util/errors.js";
import { acquireLock } from "../util/lock.js";
import { readYaml, writeYaml } from "../util/yaml-io.js";

/**
 * `curriculum/<type>/mappings.yaml`: which atomic runs each finished score id of a scoring type is
 * made of (`<id>: [run, …]`), the reader and the writer of the format. Different score ids of one
 * type may be computed at the same time by different processes, so an entry is recorded under the
 * file's own lock (read, change, write while no one else does), never by a bare rewrite that could
 * drop another process's entry.
 */

/** The mappings of a scoring type's folder: score id → atomic run names (empty when none yet). */
export function readScoreMappings(typeFolder: string): Record<string, unknown> {
  const path = join(typeFolder, SCORE_MAPPINGS_FILE);
  return existsSync(path) ? (readYaml<Record<string, unknown>>(path) ?? {}) : {};
}

/** How long a writer waits for another process's entry (a read and a write) before it gives up. */
const LOCK_WAIT_MS = 60_000;

/** Records `scoreId → runs` in the type folder's mappings.yaml, keeping every other id's entry. */
export async function recordScoreMapping(
  typeFolder: string,
  scoreId: string,
  runs: readonly string[],
): Promise<void> {
  const path = join(typeFolder, SCORE_MAPPINGS_FILE);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const lock = acquireLock(path);
    if (!("heldBy" in lock)) {
      try {
        const mappings = readScoreMappings(typeFolder);
        mappings[scoreId] = [...runs];
        writeYaml(path, mappings);
        return;
      } finally {
        lock.release();
      }
    }
    if (Date.now() > deadline) {
      throw new CurriculaError(
        `${path}: could not record '${scoreId}': the file is locked by ${lock.heldBy}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
