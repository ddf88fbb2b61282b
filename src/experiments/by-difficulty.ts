import { join } from "node:path";
import { experimentDir, RUN_FILES, SUMMARY_FILES, scoreCardFile, summaryDir } from "../config/layout.js";
import type { DifficultyTableRow } from "../results/analysis-tables.js";
import { readRunConfig } from "../results/run-folder.js";
import { readScoreCard, readScoreRows } from "../results/score-table.js";
import { readSubsetOutputs } from "../results/subset-outputs.js";
import { listScoreFiles } from "../scoring/correlation-matrix.js";
import { argmaxRows, computeMetrics, METRIC_NAMES } from "../training/metrics.js";
import { writeCsv } from "../util/csv.js";
import { ConfigError, DataError } from "../util/errors.js";

/**
 * Difficulty-aware evaluation: each run's metrics on the hardest 10, 25, 50 and 100% of a subset, by a
 * chosen score computed on that subset (e.g. CELoss with `subset: test` over the baseline seeds). It
 * shows where a curriculum helps: on the hard samples, the easy ones, or evenly. The run's saved
 * outputs of the best model are used (`_test/test_*.npy`, `_best/dev_*.npy`, `_best/train_*.npy`),
 * aligned by subset position and checked against the score file's labels.
 */

/** Fractions of the hardest samples evaluated (1 = the whole subset). */
export const DIFFICULTY_QUANTILES = [0.1, 0.25, 0.5, 1] as const;

/** The file postprocess writes: `summary/difficulty.csv`. */
export const DIFFICULTY_FILE = SUMMARY_FILES.difficulty;

/** One row of the table: the reader's row type (src/results/analysis-tables.ts), which this module writes. */
export type DifficultyRow = DifficultyTableRow;

/** A score file to evaluate by: its id, subset (from the card) and ranks by subset position. */
export interface DifficultyScore {
  id: string;
  path: string;
  subset: "train" | "dev" | "test";
  /** ranks[position] (0 easiest … 1 hardest). */
  ranks: Float64Array;
  labels: Int32Array;
}

/** Finds and reads a score by id under `<experiment>/curriculum/`; its card names the subset. */
export function readDifficultyScore(resultsDir: string, experimentId: string, id: string): DifficultyScore {
  const curriculumDir = join(experimentDir(resultsDir, experimentId), "curriculum");
  const file = listScoreFiles(curriculumDir).find((f) => f.id === id);
  if (!file) {
    throw new ConfigError(
      "difficulty",
      `no score file '${id}.csv' under ${curriculumDir}/<type>/ (compute it first, e.g. with subset=test)`,
    );
  }
  const cardPath = scoreCardFile(file.path);
  const card = readScoreCard(file.path);
  const subset = card?.subset;
  if (subset !== "train" && subset !== "dev" && subset !== "test") {
    throw new DataError(
      `${cardPath}: subset: expected train, dev or test (the score card names the scored subset)`,
    );
  }
  const rows = readScoreRows(file.path);
  const n = rows.index.length;
  const ranksColumn = rows.columns.get("ranks");
  if (!ranksColumn) throw new DataError(`${file.path}: missing column 'ranks'`);
  const ranks = new Float64Array(n).fill(Number.NaN);
  const labels = new Int32Array(n);
  rows.index.forEach((p, r) => {
    if (p < 0 || p >= n || !Number.isNaN(ranks[p] as number)) {
      throw new DataError(`${file.path}: row ${r + 2}: index ${p} repeated or outside 0..${n - 1}`);
    }
    ranks[p] = ranksColumn[r] as number;
    labels[p] = rows.encoded[r] as number;
  });
  return { id, path: file.path, subset, ranks, labels };
}

/** Positions of the hardest `fraction` of samples (highest ranks; ⌈fraction·N⌉ of them). */
export function hardestPositions(ranks: ArrayLike<number>, fraction: number): Int32Array {
  const n = ranks.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (ranks[b] as number) - (ranks[a] as number) || a - b,
  );
  return order.subarray(0, Math.ceil(fraction * n));
}

/** Where a run keeps the best model's outputs of a subset. */
function outputsDir(runDir: string, subset: DifficultyScore["subset"]): string {
  return join(runDir, subset === "test" ? RUN_FILES.test : RUN_FILES.best);
}

/** One run's metrics on the hardest quantiles of a score's subset. */
export function evaluateByDifficulty(
  runDir: string,
  runName: string,
  score: DifficultyScore,
): DifficultyRow[] {
  const dir = outputsDir(runDir, score.subset);
  const { logits, targets, numClasses: c } = readSubsetOutputs(dir, score.subset);
  const n = score.ranks.length;
  const saved = join(dir, `${score.subset}_targets.npy`);
  if (targets.length !== n) {
    throw new DataError(
      `${saved}: ${targets.length} ${score.subset} samples, but ${score.path} scores ${n}: ` +
        "the score was computed on another dataset or split",
    );
  }
  for (let p = 0; p < n; p++) {
    if (targets[p] !== score.labels[p]) {
      throw new DataError(
        `${saved}: position ${p} has label ${targets[p]}, but ${score.path} has ${score.labels[p]} there: ` +
          "the score was computed on another dataset or split",
      );
    }
  }
  let metricNames: string[] = [...METRIC_NAMES];
  try {
    const configured = readRunConfig(runDir).dataset.metrics;
    if (Array.isArray(configured) && configured.length > 0) metricNames = configured.map(String);
  } catch {
    // default metrics
  }
  const predictions = argmaxRows(logits, c);
  return DIFFICULTY_QUANTILES.map((hardest) => {
    const positions = hardestPositions(score.ranks, hardest);
    const metrics = computeMetrics(
      metricNames,
      Int32Array.from(positions, (p) => predictions[p] as number),
      Int32Array.from(positions, (p) => score.labels[p] as number),
      c,
    );
    return {
      run_name: runName,
      score: score.id,
      subset: score.subset,
      hardest,
      samples: positions.length,
      metrics,
    };
  });
}

/**
 * Evaluates every run by every named score and writes `summary/difficulty.csv` (one row per run,
 * score and quantile: `run_name, score, subset, hardest, samples, <metrics…>`). Returns its path.
 */
export function writeDifficultyEvaluation(
  resultsDir: string,
  experimentId: string,
  scoreIds: readonly string[],
  runs: readonly { name: string; dir: string }[],
): { path: string; rows: DifficultyRow[] } {
  const scores = scoreIds.map((id) => readDifficultyScore(resultsDir, experimentId, id));
  const rows = scores.flatMap((score) =>
    runs.flatMap((run) => evaluateByDifficulty(run.dir, run.name, score)),
  );
  const metricNames = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))];
  const path = join(summaryDir(resultsDir, experimentId), DIFFICULTY_FILE);
  writeCsv(
    path,
    ["run_name", "score", "subset", "hardest", "samples", ...metricNames],
    rows.map((r) => ({
      run_name: r.run_name,
      score: r.score,
      subset: r.subset,
      hardest: r.hardest,
      samples: r.samples,
      ...r.metrics,
    })),
  );
  return { path, rows };
}
