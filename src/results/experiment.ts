import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { isTemporaryName, trainingDir } from "../config/layout.js";
import { isRunFinished } from "./run-folder.js";

/**
 * The one listing of an experiment's `training/` folder: every reader of the run folders (the
 * library's rm-failed, postprocess, fusion, the pace summary, the study, the report, scoring) asks
 * here instead of reading the folder itself.
 */
export interface ListRunsOptions {
  /** `true`: finished runs only (with `metrics.csv`); `false`: unfinished ones only; left out: all. */
  finished?: boolean;
  /**
   * `"name"` (the default): by name, code unit by code unit (`Array.prototype.sort`);
   * `"natural"`: digits compared as numbers (seed 10 after seed 9), `localeCompare` with `numeric`.
   */
  order?: "name" | "natural";
}

/**
 * The run folders under `<resultsDir>/<experimentId>/training`: folders only, without hidden names
 * (`.locks/`) and half-written atomic folders (`*.tmp-*`). No `training/` folder (or a file by that
 * name) lists no runs.
 */
export function listRuns(resultsDir: string, experimentId: string, options: ListRunsOptions = {}): string[] {
  const dir = trainingDir(resultsDir, experimentId);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw error;
  }
  const names = entries.filter((name) => {
    if (name.startsWith(".") || isTemporaryName(name)) return false;
    const path = join(dir, name);
    if (!isDirectory(path)) return false;
    return options.finished === undefined || isRunFinished(path) === options.finished;
  });
  return options.order === "natural"
    ? names.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    : names.sort();
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory(); // a symbolic link is no run folder: nothing is deleted through it
  } catch {
    return false; // removed between the listing and the check
  }
}
