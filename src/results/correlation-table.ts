import { existsSync } from "node:fs";
import { correlationFile } from "../config/layout.js";
import { readCsv, writeCsv } from "../util/csv.js";
import { readYaml, writeYaml } from "../util/yaml-io.js";

/**
 * A correlation matrix over score files, `curriculum/<name>.csv` (first column `score`, then one
 * column per score id) and its card `<name>.yaml` (method and scores): the writer and the reader of
 * the format, side by side as in score-table.ts.
 */

/** What the scoring layer computed for one matrix (the values row by row, `ids.length`²). */
export interface CorrelationTable {
  ids: readonly string[];
  /** Scores left out because they rank other samples (another dataset or subset). */
  skipped: readonly string[];
  method: string;
  matrix: ArrayLike<number>;
}

/** Writes `<curriculumDir>/<name>.csv` and its card `<name>.yaml`; returns the CSV's path. */
export function writeCorrelationTable(curriculumDir: string, name: string, table: CorrelationTable): string {
  const { ids, matrix } = table;
  const csv = correlationFile(curriculumDir, name);
  const m = ids.length;
  writeCsv(
    csv,
    ["score", ...ids],
    ids.map((id, i) =>
      Object.fromEntries([["score", id], ...ids.map((other, j) => [other, matrix[i * m + j]])]),
    ),
  );
  // What was correlated, beside the matrix (the report titles its heatmap from it).
  writeYaml(csv.replace(/\.csv$/, ".yaml"), {
    method: table.method,
    values: "per-sample mean of each score, oriented so that higher means harder; equal values are ties",
    scores: ids,
    left_out: table.skipped,
  });
  return csv;
}

export interface MatrixData {
  name: string;
  path: string;
  /** The correlation method from the matrix's card `<name>.yaml` (null when there is none). */
  method: string | null;
  rowLabels: string[];
  columnLabels: string[];
  matrix: number[][];
}

/**
 * Reads a correlation matrix CSV. Accepts curricula's layout (first column `score` holds the row
 * labels), pandas' (same with an empty header) and a plain square one (rows in column order).
 */
export function readMatrix(path: string, name: string): MatrixData {
  const { columns, rows } = readCsv(path);
  const first = columns[0] ?? "";
  const firstValues = rows.map((r) => r[first] ?? "");
  const hasRowLabels =
    first === "" ||
    first === "score" ||
    firstValues.some((v) => v.trim() !== "" && !Number.isFinite(Number(v)));
  const columnLabels = hasRowLabels ? columns.slice(1) : columns;
  const rowLabels = hasRowLabels ? firstValues : columnLabels.slice(0, rows.length);
  const matrix = rows.map((r) =>
    columnLabels.map((c) => (r[c] === "" || r[c] === undefined ? Number.NaN : Number(r[c]))),
  );
  if (rowLabels.length !== matrix.length)
    throw new Error(`${path}: ${matrix.length} rows but ${rowLabels.length} labels`);
  const cardPath = path.replace(/\.csv$/, ".yaml");
  let method: string | null = null;
  if (existsSync(cardPath)) {
    const card = readYaml<Record<string, unknown>>(cardPath);
    if (typeof card?.method === "string") method = card.method;
  }
  return { name, path, method, rowLabels, columnLabels, matrix };
}
