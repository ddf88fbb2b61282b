import { existsSync } from "node:fs";
import { join } from "node:path";
import { experimentDir, REVIEW_FILES } from "../config/layout.js";
import { readCsv, writeCsv } from "../util/csv.js";
import { DataError } from "../util/errors.js";

/**
 * Review tags: what a person said about samples while looking at them (`curricula explore`), in
 * `<results_dir>/<experiment_id>/review/tags.csv` with the columns `source_index, tag, new_label,
 * time`. Samples are named by source index, so tags survive a new split or new runs.
 */
export const REVIEW_TAGS = ["mislabelled", "ambiguous", "fine", "relabel"] as const;

export interface ReviewTag {
  sourceIndex: number;
  tag: "mislabelled" | "ambiguous" | "fine" | "relabel";
  /** The class name the sample should have (tag `relabel`); null otherwise. */
  newLabel: string | null;
  /** When it was tagged (ISO 8601). */
  time: string;
}

const COLUMNS = ["source_index", "tag", "new_label", "time"] as const;

/** `<results_dir>/<experiment_id>/review/tags.csv`. */
export function reviewTagsPath(resultsDir: string, experiment: string): string {
  return join(experimentDir(resultsDir, experiment), REVIEW_FILES.tags);
}

function isTag(text: string): text is ReviewTag["tag"] {
  return (REVIEW_TAGS as readonly string[]).includes(text);
}

/** The tags of a file (none when it does not exist); a bad row is an error naming the row and column. */
export function readReviewTags(path: string): ReviewTag[] {
  if (!existsSync(path)) return [];
  const { columns, rows } = readCsv(path);
  for (const column of COLUMNS) {
    if (!columns.includes(column)) {
      throw new DataError(`${path}: missing column '${column}' (expected ${COLUMNS.join(", ")})`);
    }
  }
  return rows.map((row, i) => {
    const where = `${path}: row ${i + 2}`;
    const sourceIndex = Number(row.source_index);
    if (row.source_index === "" || !Number.isInteger(sourceIndex) || sourceIndex < 0) {
      throw new DataError(`${where}: source_index: expected an integer ≥ 0, got '${row.source_index}'`);
    }
    const tag = row.tag ?? "";
    if (!isTag(tag)) {
      throw new DataError(`${where}: tag: expected one of ${REVIEW_TAGS.join(", ")}, got '${tag}'`);
    }
    const newLabel = row.new_label ?? "";
    if (tag === "relabel" && newLabel === "") {
      throw new DataError(`${where}: new_label: a relabel tag needs the new class name`);
    }
    return { sourceIndex, tag, newLabel: tag === "relabel" ? newLabel : null, time: row.time ?? "" };
  });
}

/**
 * Writes tags atomically: one row per sample, the last tag given for it winning, and a sample whose
 * last tag is `fine` left out (fine clears a tag). Rows are in source-index order.
 */
export function writeReviewTags(path: string, tags: readonly ReviewTag[]): void {
  const last = new Map<number, ReviewTag>();
  for (const tag of tags) {
    last.delete(tag.sourceIndex);
    last.set(tag.sourceIndex, tag);
  }
  const kept = [...last.values()]
    .filter((t) => t.tag !== "fine")
    .sort((a, b) => a.sourceIndex - b.sourceIndex);
  writeCsv(
    path,
    COLUMNS,
    kept.map((t) => ({
      source_index: t.sourceIndex,
      tag: t.tag,
      new_label: t.tag === "relabel" ? t.newLabel : "",
      time: t.time,
    })),
  );
}
