import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MODEL_FILES, RUN_FILES } from "../config/layout.js";
import { writeFileAtomicSync } from "../util/atomic.js";
import { fileSha256, textSha256 } from "../util/fingerprint.js";

/**
 * Checksums of a checkpoint: `checksums.json` in its iteration folder holds the SHA-256 of each
 * model and optimiser file, of the trainer state (without its wall-clock timers, so the file is
 * the same for equal runs) and of each file of the `_best/` snapshot the checkpoint restores. It
 * is written atomically before `trainer_state.json`, the file whose presence marks a complete
 * checkpoint, so every complete checkpoint of this version has one; a resume checks it and falls
 * back to an earlier checkpoint when a file was damaged (a flipped byte is never loaded silently).
 */

interface CheckpointChecksums {
  version: 1;
  /** Model and optimiser files of the iteration folder. */
  files: Record<string, string>;
  /** `trainer_state.json` as JSON without `timers`. */
  trainer_state: string;
  /** Files of the `.resume/best_<N>` snapshot; null when the run had no `_best/` yet. */
  best: Record<string, string> | null;
}

/** SHA-256 of a trainer state without its wall-clock parts (`timers`, `timings`: all that differs between equal runs). */
function trainerStateDigest(state: object): string {
  return textSha256(JSON.stringify({ ...state, timers: undefined, timings: undefined }));
}

function digests(dir: string, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...names].sort()) {
    if (existsSync(join(dir, name))) out[name] = fileSha256(join(dir, name));
  }
  return out;
}

function snapshotFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

/** Writes `checksums.json` of the checkpoint in `dir` (its model files written, its state not yet). */
export function writeCheckpointChecksums(dir: string, state: object, bestSnapshot: string): void {
  const checksums: CheckpointChecksums = {
    version: 1,
    files: digests(dir, Object.values(MODEL_FILES)),
    trainer_state: trainerStateDigest(state),
    best: existsSync(bestSnapshot) ? digests(bestSnapshot, snapshotFiles(bestSnapshot)) : null,
  };
  writeFileAtomicSync(join(dir, RUN_FILES.checksums), `${JSON.stringify(checksums, null, 1)}\n`);
}

/**
 * Why the complete checkpoint in `dir`, whose `trainer_state.json` parsed as `state`, cannot be
 * resumed from (a damaged or missing file, named), or null when it is intact. A checkpoint whose
 * state has a best iteration restores a `_best/`, so its snapshot must be there. A checkpoint of an
 * earlier version has no checksums and is checked for presence only.
 */
export function checkpointProblem(
  dir: string,
  state: { best: unknown },
  bestSnapshot: string,
): string | null {
  const hadBest = state.best !== null;
  if (hadBest && !existsSync(bestSnapshot)) return `${bestSnapshot}: missing (the _best/ of this checkpoint)`;
  const path = join(dir, RUN_FILES.checksums);
  if (!existsSync(path)) return null;
  let checksums: CheckpointChecksums;
  try {
    checksums = JSON.parse(readFileSync(path, "utf8")) as CheckpointChecksums;
  } catch (error) {
    return `${RUN_FILES.checksums}: unreadable (${(error as Error).message})`;
  }
  const mismatch = (folder: string, expected: Record<string, string>): string | null => {
    for (const [name, sha] of Object.entries(expected)) {
      const file = join(folder, name);
      if (!existsSync(file)) return `${file}: missing`;
      if (fileSha256(file) !== sha)
        return `${file}: damaged (its SHA-256 differs from ${RUN_FILES.checksums})`;
    }
    return null;
  };
  const inDir = mismatch(dir, checksums.files ?? {});
  if (inDir) return inDir;
  if (trainerStateDigest(state) !== checksums.trainer_state) {
    return `${join(dir, RUN_FILES.trainerState)}: damaged (its SHA-256 differs from ${RUN_FILES.checksums})`;
  }
  return hadBest && checksums.best ? mismatch(bestSnapshot, checksums.best) : null;
}
