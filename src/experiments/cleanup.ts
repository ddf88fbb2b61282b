import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { experimentDir, MODEL_FILES, RUN_FILES, trainingDir } from "../config/layout.js";
import { listRuns } from "../results/experiment.js";
import { isRunFinished } from "../results/run-folder.js";
import { CurriculaError } from "../util/errors.js";
import { assertInsideResults, removeInsideResults } from "../util/path-safety.js";
import { acquireLock } from "./run-spec.js";

/**
 * `curricula rm-failed` and `rm-states`: deleting unfinished runs and the model states of finished
 * ones (runs another process trains are left alone).
 */

function checkTraining(resultsDir: string, experimentId: string): string {
  if (!existsSync(resultsDir)) throw new CurriculaError(`Results directory '${resultsDir}' does not exist.`);
  const dir = trainingDir(resultsDir, experimentId);
  if (!existsSync(experimentDir(resultsDir, experimentId))) {
    throw new CurriculaError(
      `Experiment ID '${experimentId}' does not exist in the results directory '${resultsDir}'.`,
    );
  }
  return dir;
}

/** Unfinished run folders (no metrics.csv) that no live process is training. */
export function findFailedRuns(
  resultsDir: string,
  experimentId: string,
): { failed: string[]; busy: string[] } {
  const dir = checkTraining(resultsDir, experimentId);
  const failed: string[] = [];
  const busy: string[] = [];
  for (const name of listRuns(resultsDir, experimentId, { finished: false })) {
    const lock = acquireLock(join(dir, name));
    if ("heldBy" in lock) busy.push(name);
    else {
      lock.release();
      failed.push(name);
    }
  }
  return { failed, busy };
}

/** Deletes the given unfinished run folders (re-checked: finished or locked runs are kept). */
export function removeRuns(resultsDir: string, experimentId: string, names: readonly string[]): string[] {
  const dir = trainingDir(resultsDir, experimentId);
  const removed: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (isRunFinished(path)) continue;
    assertInsideResults(resultsDir, path, "delete");
    const lock = acquireLock(path);
    if ("heldBy" in lock) continue;
    try {
      removeInsideResults(resultsDir, path);
      removed.push(name);
    } finally {
      lock.release();
    }
  }
  return removed;
}

/** Model-state files the trainer writes into iteration folders and `_best/`. */
export const STATE_FILES: readonly string[] = [
  ...Object.values(MODEL_FILES),
  RUN_FILES.trainerState,
  RUN_FILES.checksums,
];

export interface RmStatesOptions {
  /** Also delete `_best/` states (kept by default: scoring loads them). */
  deleteBest?: boolean;
  /** Run names whose states are kept. */
  keepRuns?: string[];
  /** Iteration numbers whose states are kept. */
  keepIterations?: number[];
}

/** State files `rmStates` would delete: finished runs only (unfinished ones need them to resume). */
export function findStateFiles(
  resultsDir: string,
  experimentId: string,
  options: RmStatesOptions = {},
): string[] {
  const dir = checkTraining(resultsDir, experimentId);
  const files: string[] = [];
  for (const name of listRuns(resultsDir, experimentId, { finished: true })) {
    const run = join(dir, name);
    if (options.keepRuns?.includes(name)) continue;
    for (const sub of readdirSync(run)) {
      const m = /^(epoch|step)_(\d+)$/.exec(sub);
      const isBest = sub === "_best";
      if (!m && !isBest) continue;
      if (isBest && !options.deleteBest) continue;
      if (m && options.keepIterations?.includes(Number(m[2]))) continue;
      for (const f of STATE_FILES) {
        const file = join(run, sub, f);
        if (!existsSync(file)) continue;
        assertInsideResults(resultsDir, file, "delete");
        files.push(file);
      }
    }
  }
  return files;
}

/** Deletes model states of finished runs (`curricula rm-states`); returns the deleted files. */
export function rmStates(resultsDir: string, experimentId: string, options: RmStatesOptions = {}): string[] {
  const files = findStateFiles(resultsDir, experimentId, options);
  for (const f of files) removeInsideResults(resultsDir, f, { recursive: false });
  return files;
}

/** Deletes unfinished runs (`curricula rm-failed`, no confirmation); returns their names. */
export function rmFailed(resultsDir: string, experimentId: string): string[] {
  const { failed } = findFailedRuns(resultsDir, experimentId);
  return removeRuns(resultsDir, experimentId, failed);
}
