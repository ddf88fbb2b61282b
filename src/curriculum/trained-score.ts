import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { RUN_FILES, scoreFile } from "../config/layout.js";
import type { RunConfig } from "../config/schema.js";
import { readTrainedScore } from "../results/run-folder.js";
import { ConfigError } from "../util/errors.js";
import { fileSha256 } from "../util/fingerprint.js";
import { writeYaml } from "../util/yaml-io.js";

/**
 * The score a curriculum run trained on, in one place: the pace manager records it when training
 * begins (`curriculum_score.yaml`: the file and its SHA-256) and refuses to resume on a score that
 * changed; the assembly asks here, before reusing a finished run, whether its score is still the
 * same (the trainer and its resume planning know nothing of scores).
 */

/**
 * Records the score file a curriculum run trains on, with its fingerprint
 * (`curriculum_score.yaml`), so a finished run whose score changed since is reported instead of
 * reused; a resumed run must find the same score it started on.
 */
export function recordScoreFile(runDir: string, path: string, scoring: { id: string; type?: string }): void {
  const recorded = join(runDir, RUN_FILES.curriculumScore);
  const sha256 = fileSha256(path);
  const before = readTrainedScore(runDir);
  if (before) {
    if (before.sha256 === sha256) return;
    throw new ConfigError(
      "curriculum.scoring",
      `${path} changed since this unfinished run started training on it (sha256 ${String(before.sha256).slice(0, 12)} then, ` +
        `${sha256.slice(0, 12)} now); delete the run folder to train on the new score`,
      recorded,
    );
  }
  writeYaml(recorded, { id: scoring.id, type: scoring.type ?? scoring.id, file: path, sha256 });
}

/**
 * Why a finished curriculum run's score is not the one it was trained on (its file changed or is
 * gone since), or null (the same score, a run without a curriculum, or a run of an earlier version
 * that recorded none). The score file is found beside the run: `<experiment>/curriculum/...`.
 */
function scoreChange(dir: string, config: RunConfig): string | null {
  const before = config.curriculum.id === "None" ? null : readTrainedScore(dir);
  if (!before) return null;
  const experiment = dirname(dirname(dir));
  const path = scoreFile(dirname(experiment), basename(experiment), config.curriculum.scoring);
  if (!existsSync(path)) {
    return `the finished run was trained on ${path}, which is gone; recompute that score, or delete the run folder to retrain it on another`;
  }
  const now = fileSha256(path);
  if (before.sha256 === now) return null;
  return (
    `the finished run was trained on ${path}, which has changed since (sha256 ${String(before.sha256).slice(0, 12)} then, ` +
    `${now.slice(0, 12)} now); its results are not those of the current score: delete the run folder to retrain it, ` +
    "or use another experiment_id"
  );
}

/**
 * The reuse check of a finished run: a ConfigError (naming `curriculum_score.yaml`) when the score
 * it trained on has changed or is gone since; nothing for a run without a curriculum.
 */
export function checkFinishedRunScore(dir: string, config: RunConfig): void {
  const changed = scoreChange(dir, config);
  if (changed) throw new ConfigError("curriculum.scoring", changed, join(dir, RUN_FILES.curriculumScore));
}
