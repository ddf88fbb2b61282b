import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Subset } from "../data/types.js";
import type { RunConfig } from "../config/schema.js";
import { readCsv } from "../util/csv.js";
import { CurriculaError, DataError } from "../util/errors.js";

/**
 * The score file a curriculum run trains with:
 * `<results_dir>/<experiment_id>/curriculum/<scoring.type ?? scoring.id>/<scoring.id>.csv`
 * (always the same experiment, always the train split, as the reference).
 */
export function scoreFilePath(
  config: Pick<RunConfig, "results_dir" | "experiment_id" | "curriculum">,
): string {
  const scoring = config.curriculum.scoring;
  const folder = scoring.type && scoring.type !== "None" ? scoring.type : scoring.id;
  return join(config.results_dir, config.experiment_id, "curriculum", folder, `${scoring.id}.csv`);
}

function numberColumn(
  path: string,
  rows: Record<string, string>[],
  column: string,
  integer: boolean,
): Float64Array {
  const out = new Float64Array(rows.length);
  rows.forEach((row, r) => {
    const text = row[column] ?? "";
    const value = text.trim() === "" ? Number.NaN : Number(text);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      throw new DataError(
        `${path}: row ${r + 2}, column "${column}": expected ${integer ? "an integer" : "a number"}, got "${text}"`,
      );
    }
    out[r] = value;
  });
  return out;
}

/**
 * Reads the `ranks` of a score file by position of the training subset (0 easiest … 1 hardest).
 * Rows are matched by `index` and every `source_index` must equal the subset's: scores of another
 * dataset, split or seed are refused instead of being aligned by row position silently (the
 * original's behaviour).
 */
export function readScoreRanks(
  path: string,
  train: Pick<Subset, "size" | "sourceIndex">,
  scoringId: string,
): Float64Array {
  if (!existsSync(path)) {
    throw new CurriculaError(
      `score file not found: ${path} (curriculum.scoring=${scoringId}); compute it first with: curricula curriculum curriculum/scoring=${scoringId}`,
    );
  }
  const { columns, rows } = readCsv(path);
  for (const column of ["index", "source_index", "ranks"]) {
    if (!columns.includes(column)) {
      throw new DataError(`${path}: missing column "${column}" (columns: ${columns.join(", ")})`);
    }
  }
  if (rows.length !== train.size) {
    throw new DataError(
      `${path}: ${rows.length} scored samples but the training subset has ${train.size}; the scores were computed on another dataset or split (recompute them with curricula curriculum curriculum/scoring=${scoringId})`,
    );
  }
  const index = numberColumn(path, rows, "index", true);
  const source = numberColumn(path, rows, "source_index", true);
  const ranks = numberColumn(path, rows, "ranks", false);
  const out = new Float64Array(train.size).fill(Number.NaN);
  for (let r = 0; r < rows.length; r++) {
    const i = index[r] as number;
    if (i < 0 || i >= train.size) {
      throw new DataError(
        `${path}: row ${r + 2}: index ${i} outside the training subset (0..${train.size - 1})`,
      );
    }
    if (!Number.isNaN(out[i] as number)) {
      throw new DataError(`${path}: row ${r + 2}: index ${i} appears twice`);
    }
    if (source[r] !== train.sourceIndex[i]) {
      throw new DataError(
        `${path}: row ${r + 2}: index ${i} has source_index ${source[r]} but the training subset holds source sample ${train.sourceIndex[i]} there; the scores were computed on another dataset, split or seed (recompute them with curricula curriculum curriculum/scoring=${scoringId})`,
      );
    }
    out[i] = ranks[r] as number;
  }
  return out;
}
