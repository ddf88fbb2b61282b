import { existsSync } from "node:fs";
import { reviewTagsFile } from "../config/layout.js";
import { readCsv, writeCsv } from "../util/csv.js";
import { CurriculaError, DataError } from "../util/errors.js";
import { acquireLock } from "../util/lock.js";

/** How long a tag waits for another process writing the same file. */
const LOCK_WAIT_MS = 30_000;

/**
 * Review tags: what a person decided about samples while looking at a run's results (a sample
 * looks mislabelled, is ambiguous, is fine, or should carry another label). The file
 * `<results_dir>/<experiment_id>/review/tags.csv` holds one row per tagged sample, by
 * `source_index` (docs/datasets.md), so the tags stay true across runs, seeds and splits; the
 * dataset keys `exclude` and `relabel` feed them into the next run (src/data/review-edits.ts).
 *
 * Columns `source_index,tag,new_label,time`: `new_label` is set for `relabel` only, `time` is
 * ISO-8601. This module is the only reader and writer of the format.
 */
export interface ReviewTag {
  sourceIndex: number;
  tag: "mislabelled" | "ambiguous" | "fine" | "relabel";
  newLabel: string | null;
  time: string;
}

const COLUMNS = ["source_index", "tag", "new_label", "time"] as const;
const TAGS: readonly ReviewTag["tag"][] = ["mislabelled", "ambiguous", "fine", "relabel"];
/** ISO-8601 date and time with seconds optional, fraction optional and a zone (Z or ±hh:mm). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** `<resultsDir>/<experiment>/review/tags.csv`. */
export function reviewTagsPath(resultsDir: string, experiment: string): string {
  return reviewTagsFile(resultsDir, experiment);
}

/** The problem of one tag's fields, by column, or null when it is well-formed. */
function tagProblem(tag: ReviewTag): { column: (typeof COLUMNS)[number]; problem: string } | null {
  if (!Number.isSafeInteger(tag.sourceIndex) || tag.sourceIndex < 0) {
    return {
      column: "source_index",
      problem: `expected a non-negative integer, got ${JSON.stringify(tag.sourceIndex)}`,
    };
  }
  if (!TAGS.includes(tag.tag)) {
    return { column: "tag", problem: `expected one of ${TAGS.join(", ")}, got ${JSON.stringify(tag.tag)}` };
  }
  if (tag.tag === "relabel" && (typeof tag.newLabel !== "string" || tag.newLabel.length === 0)) {
    return { column: "new_label", problem: "tag relabel needs the new label" };
  }
  if (tag.tag !== "relabel" && tag.newLabel !== null) {
    return {
      column: "new_label",
      problem: `only tag relabel takes a new label (tag is ${tag.tag}, new_label is ${JSON.stringify(tag.newLabel)})`,
    };
  }
  if (typeof tag.time !== "string" || !ISO_TIME.test(tag.time) || Number.isNaN(Date.parse(tag.time))) {
    return {
      column: "time",
      problem: `expected an ISO-8601 time such as 2026-01-31T12:00:00Z, got ${JSON.stringify(tag.time)}`,
    };
  }
  return null;
}

/**
 * Reads a tags file. Every problem is a DataError naming the file, the row (counting the header as
 * row 1) and the column: a missing or unknown column, a source_index that is no non-negative
 * integer, an unknown tag, a relabel without its new label (or a new label on another tag), a time
 * that is not ISO-8601, a sample tagged twice.
 */
export function readReviewTags(path: string): ReviewTag[] {
  const { columns, rows } = readCsv(path);
  for (const column of COLUMNS) {
    if (!columns.includes(column)) {
      throw new DataError(
        `${path}: missing column '${column}' (a tags file has the columns ${COLUMNS.join(",")})`,
      );
    }
  }
  for (const column of columns) {
    if (!(COLUMNS as readonly string[]).includes(column)) {
      throw new DataError(
        `${path}: unknown column '${column}' (a tags file has the columns ${COLUMNS.join(",")})`,
      );
    }
  }
  const rowOf = new Map<number, number>();
  return rows.map((row, i) => {
    const at = `${path}: row ${i + 2}`;
    const text = row.source_index ?? "";
    const tag: ReviewTag = {
      sourceIndex: /^\d+$/.test(text) ? Number(text) : Number.NaN,
      tag: (row.tag ?? "") as ReviewTag["tag"],
      newLabel: row.new_label ? row.new_label : null,
      time: row.time ?? "",
    };
    const problem = tagProblem(tag);
    if (problem) {
      const got =
        problem.column === "source_index"
          ? `expected a non-negative integer, got '${text}'`
          : problem.problem;
      throw new DataError(`${at}, column ${problem.column}: ${got}`);
    }
    const earlier = rowOf.get(tag.sourceIndex);
    if (earlier !== undefined) {
      throw new DataError(
        `${at}, column source_index: sample ${tag.sourceIndex} is tagged again (first in row ${earlier}); a tags file has one row per sample`,
      );
    }
    rowOf.set(tag.sourceIndex, i + 2);
    return tag;
  });
}

/**
 * Writes a tags file atomically (a temporary file renamed into place; missing folders are made):
 * one row per sample, the last of its tags in `tags` winning, sorted by source_index. A sample
 * whose last tag is `fine` gets no row: `fine` clears what was said about it before. A malformed
 * tag is an error naming the sample and the column, and nothing is written.
 */
export function writeReviewTags(path: string, tags: ReviewTag[]): void {
  const last = new Map<number, ReviewTag>();
  tags.forEach((tag, i) => {
    const problem = tagProblem(tag);
    if (problem) {
      throw new DataError(
        `${path}: tag ${i} (source_index ${tag.sourceIndex}), column ${problem.column}: ${problem.problem}; nothing was written`,
      );
    }
    last.set(tag.sourceIndex, tag);
  });
  const rows = [...last.values()]
    .filter((tag) => tag.tag !== "fine")
    .sort((a, b) => a.sourceIndex - b.sourceIndex)
    .map((tag) => ({
      source_index: tag.sourceIndex,
      tag: tag.tag,
      new_label: tag.newLabel ?? "",
      time: tag.time,
    }));
  writeCsv(path, COLUMNS, rows);
}

/**
 * Adds one tag to the tags file and returns the file's tags after it: the file is read and
 * rewritten under the file's lock (src/util/lock.ts), so two processes tagging the same experiment
 * (two explorer servers, a script beside one) never lose each other's tags.
 */
export async function addReviewTag(path: string, tag: ReviewTag): Promise<ReviewTag[]> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const lock = acquireLock(path);
    if (!("heldBy" in lock)) {
      try {
        const saved = existsSync(path) ? readReviewTags(path) : [];
        writeReviewTags(path, [...saved, tag]);
        return readReviewTags(path);
      } finally {
        lock.release();
      }
    }
    if (Date.now() > deadline) {
      throw new CurriculaError(`${path}: could not add a tag: the file is locked by ${lock.heldBy}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
