import { existsSync } from "node:fs";
import { join } from "node:path";
import { RUN_FILES } from "../config/layout.js";
import { readCsv, writeCsv } from "../util/csv.js";
import { DataError } from "../util/errors.js";

/**
 * `score_drift.csv` of a curriculum run that re-scores itself (`curriculum.rescore_every`): one row
 * per re-scoring, the writer (the pace manager, when training ends) and the reader side by side.
 */

/** One re-scoring: the score recomputed at `iteration` against the snapshot before it. */
export interface ScoreDriftRow {
  /** The evaluated iteration whose outputs (and those before it) the score was recomputed from. */
  iteration: number;
  /** The evaluation's number (1 = the first evaluation of the run). */
  evaluation: number;
  /** The iteration of the snapshot compared with; 0 = the score file the run started from. */
  previous_iteration: number;
  /** Spearman correlation (average ranks for ties) of the two snapshots; NaN when one is constant. */
  spearman: number;
}

export const SCORE_DRIFT_COLUMNS = ["iteration", "evaluation", "previous_iteration", "spearman"] as const;

export function writeScoreDrift(runDir: string, rows: readonly ScoreDriftRow[]): void {
  writeCsv(
    join(runDir, RUN_FILES.scoreDrift),
    SCORE_DRIFT_COLUMNS,
    rows.map((r) => ({ ...r })),
  );
}

/** The rows of a run's `score_drift.csv`, or null when the run has none (it did not re-score). */
export function readScoreDrift(runDir: string): ScoreDriftRow[] | null {
  const path = join(runDir, RUN_FILES.scoreDrift);
  if (!existsSync(path)) return null;
  const { columns, rows } = readCsv(path);
  for (const c of SCORE_DRIFT_COLUMNS) {
    if (!columns.includes(c)) throw new DataError(`${path}: missing column '${c}'`);
  }
  return rows.map((row, i) => {
    const value = (c: (typeof SCORE_DRIFT_COLUMNS)[number], empty: number | null) => {
      const text = String(row[c] ?? "");
      if (text === "" && empty !== null) return empty;
      const v = Number(text);
      if (text === "" || !Number.isFinite(v)) {
        throw new DataError(`${path}: row ${i + 1}: '${c}' must be a number, got '${text}'`);
      }
      return v;
    };
    return {
      iteration: value("iteration", null),
      evaluation: value("evaluation", null),
      previous_iteration: value("previous_iteration", null),
      spearman: value("spearman", Number.NaN),
    };
  });
}
