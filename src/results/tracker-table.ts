import { existsSync } from "node:fs";
import { join } from "node:path";
import { RUN_FILES } from "../config/layout.js";
import { writeFileAtomicSync } from "../util/atomic.js";
import { formatCsvNumber, readCsv } from "../util/csv.js";
import { DataError } from "../util/errors.js";

/**
 * The trainer's online difficulty trackers as a per-sample table (`train_trackers.csv` in each
 * iteration folder and `_best/`): the trainer's writer and the scoring functions' reader, side by
 * side as in subset-outputs.ts. What the columns mean and the cold-start rule: docs/scoring.md,
 * "Online trackers".
 */

/** One row per train sample, in the order written (positions of the full train subset in `index`). */
export interface TrackerTable {
  /** Position in the (full) train subset. */
  index: Int32Array;
  sourceIndex: Int32Array;
  /** Encoded label. */
  encoded: Int32Array;
  /** Training steps that had the sample in their batch. */
  attempts: Int32Array;
  /** Of those, the steps whose arg-max logit was the label. */
  correct: Int32Array;
  /** Attempts classified wrongly right after an attempt classified correctly. */
  forgetting: Int32Array;
  /** correct / attempts; the cold-start value for an unseen sample (attempts 0). */
  passRate: Float64Array;
  /** Exponential moving average of the sample's training loss; the cold-start value when unseen. */
  emaLoss: Float64Array;
}

const COLUMNS = [
  "index",
  "source_index",
  "encoded",
  "attempts",
  "correct",
  "forgetting",
  "pass_rate",
  "ema_loss",
] as const;

/** The table's path in an iteration folder (or `_best/`). */
export function trackerTablePath(dir: string): string {
  return join(dir, RUN_FILES.trackers);
}

/**
 * Writes `train_trackers.csv` into `dir`, atomically; numbers in full precision (as writeCsv
 * formats them). Every cell is a number, so rows are joined directly: no cell needs quoting, and a
 * table of tens of thousands of samples is written at every evaluation.
 */
export function writeTrackerTable(dir: string, table: TrackerTable): void {
  const lines = [COLUMNS.join(",")];
  for (let i = 0; i < table.index.length; i++) {
    lines.push(
      [
        table.index[i],
        table.sourceIndex[i],
        table.encoded[i],
        table.attempts[i],
        table.correct[i],
        table.forgetting[i],
        table.passRate[i],
        table.emaLoss[i],
      ]
        .map((v) => formatCsvNumber(v as number))
        .join(","),
    );
  }
  writeFileAtomicSync(trackerTablePath(dir), `${lines.join("\n")}\n`);
}

/**
 * Reads `dir`'s `train_trackers.csv` into subset order (row p = position p), checked against the
 * rebuilt train subset: every position exactly once, the same labels. A missing table is a
 * DataError that says why it may be missing.
 */
export function readTrackerTable(
  dir: string,
  subset: { size: number; labels: ArrayLike<number> },
): TrackerTable {
  const path = trackerTablePath(dir);
  if (!existsSync(path)) {
    throw new DataError(
      `${path}: no online tracker table (the run was trained by a version without trackers, or imported); ` +
        "retrain the run, or score it with an output-based function such as CumulativeAccuracy",
    );
  }
  const { columns, rows } = readCsv(path);
  const missing = COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) throw new DataError(`${path}: missing column(s) ${missing.join(", ")}`);
  const n = subset.size;
  if (rows.length !== n) {
    throw new DataError(`${path}: ${rows.length} rows, the rebuilt train subset has ${n} samples`);
  }
  const table: TrackerTable = {
    index: new Int32Array(n).fill(-1),
    sourceIndex: new Int32Array(n),
    encoded: new Int32Array(n),
    attempts: new Int32Array(n),
    correct: new Int32Array(n),
    forgetting: new Int32Array(n),
    passRate: new Float64Array(n),
    emaLoss: new Float64Array(n),
  };
  rows.forEach((row, r) => {
    const number = (column: (typeof COLUMNS)[number]): number => {
      const text = row[column] ?? "";
      const value = text === "" ? Number.NaN : Number(text);
      if (Number.isNaN(value)) {
        throw new DataError(`${path}: row ${r + 1}: ${column} is '${text}', expected a number`);
      }
      return value;
    };
    const p = number("index");
    if (!Number.isInteger(p) || p < 0 || p >= n || table.index[p] !== -1) {
      throw new DataError(`${path}: row ${r + 1}: index ${p} repeated or outside 0..${n - 1}`);
    }
    const label = number("encoded");
    if (label !== subset.labels[p]) {
      throw new DataError(
        `${path}: row ${r + 1} (position ${p}) has label ${label} but the rebuilt train subset has ` +
          `${subset.labels[p]}: the run's config.yaml no longer rebuilds the data it was trained on`,
      );
    }
    table.index[p] = p;
    table.sourceIndex[p] = number("source_index");
    table.encoded[p] = label;
    table.attempts[p] = number("attempts");
    table.correct[p] = number("correct");
    table.forgetting[p] = number("forgetting");
    table.passRate[p] = number("pass_rate");
    table.emaLoss[p] = number("ema_loss");
  });
  return table;
}
