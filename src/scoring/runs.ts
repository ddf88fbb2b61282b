import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { AGGREGATION_PREFIX, experimentDir, RUN_FILES, trainingDir } from "../config/layout.js";
import { isAggregatedName, matchesAggregatedName } from "../config/naming.js";
import { listRuns } from "../results/experiment.js";
import { isRunFinished } from "../results/run-folder.js";
import { DataError } from "../util/errors.js";
import { readYaml } from "../util/yaml-io.js";

/** A training run a score reads, and the name the user asked for (itself or an aggregated name). */
export interface ResolvedRun {
  requested: string;
  name: string;
  dir: string;
}

/**
 * Resolves `run_name` (one name or a list) to training runs (aucurriculum `AbstractScore.preprocess`):
 * a name found in an aggregation folder (`agg_<keys>/<name>/runs.yaml`) expands to its member runs (an ensemble); otherwise
 * `training/<name>` is the run. An aggregated name (`#` fields) without an aggregation folder matches
 * the training runs it covers. Duplicates are dropped, first occurrence wins.
 */
export function resolveTrainingRuns(
  resultsDir: string,
  experimentId: string,
  runName: string | string[],
): ResolvedRun[] {
  const names = Array.isArray(runName) ? runName : [runName];
  const seen = new Set<string>();
  const out: ResolvedRun[] = [];
  for (const requested of names) {
    for (const name of resolveOne(resultsDir, experimentId, requested)) {
      if (seen.has(name)) continue;
      seen.add(name);
      const dir = join(trainingDir(resultsDir, experimentId), name);
      if (!isRunFinished(dir)) {
        throw new DataError(
          `${dir}: run '${name}' has not finished (no metrics.csv); train it before scoring`,
        );
      }
      out.push({ requested, name, dir });
    }
  }
  return out;
}

function resolveOne(resultsDir: string, experimentId: string, name: string): string[] {
  const root = experimentDir(resultsDir, experimentId);
  const aggDirs = existsSync(root)
    ? readdirSync(root, { withFileTypes: true })
        .filter((e) => e.isDirectory() && e.name.startsWith(AGGREGATION_PREFIX))
        .map((e) => e.name)
        .sort()
    : [];
  for (const agg of aggDirs) {
    const runsFile = join(root, agg, name, RUN_FILES.runs);
    if (existsSync(runsFile)) return readMembers(runsFile);
  }
  const training = trainingDir(resultsDir, experimentId);
  if (existsSync(join(training, name))) return [name];
  if (isAggregatedName(name)) {
    const members = listRuns(resultsDir, experimentId).filter((run) => matchesAggregatedName(name, run));
    if (members.length > 0) return members;
  }
  throw new DataError(
    `Run ${name} does not exist: not in ${training}${aggDirs.length ? ` nor in ${aggDirs.map((a) => join(root, a)).join(", ")}` : ""}`,
  );
}

function readMembers(path: string): string[] {
  const raw = readYaml<unknown>(path);
  const list = Array.isArray(raw) ? raw : (raw as { runs?: unknown } | null)?.runs;
  if (!Array.isArray(list) || list.length === 0 || !list.every((r) => typeof r === "string")) {
    throw new DataError(`${path}: expected a non-empty list of training run names`);
  }
  return list as string[];
}
