import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "csv-parse/sync";
import { DataError } from "../util/errors.js";
import { SUBSET_NAMES, type SubsetName } from "./types.js";

/**
 * A CSV file read for a dataset: header, records and the file line of every record, so errors can
 * say "row 12 (line 13)". Rows are numbered from 1 after the header.
 */
export interface Table {
  path: string;
  columns: string[];
  rows: string[][];
  lines: number[];
}

/** Reads a CSV file; `what` says what the file is for in the not-found error. */
export function readTable(path: string, what: string, options: { header?: boolean } = {}): Table {
  if (!existsSync(path)) throw new DataError(`${path}: ${what} not found`);
  if (statSync(path).isDirectory()) throw new DataError(`${path}: ${what} is a folder, expected a CSV file`);
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(readFileSync(path, "utf8"), {
      skip_empty_lines: true,
      info: true,
      trim: true,
      bom: true,
      relax_column_count: options.header === false,
    }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
  } catch (error) {
    throw new DataError(`${path}: invalid CSV: ${(error as Error).message}`);
  }
  if (options.header === false) {
    return { path, columns: [], rows: parsed.map((p) => p.record), lines: parsed.map((p) => p.info.lines) };
  }
  const [head, ...body] = parsed;
  if (!head) throw new DataError(`${path}: empty CSV (expected a header row)`);
  return {
    path,
    columns: head.record,
    rows: body.map((p) => p.record),
    lines: body.map((p) => p.info.lines),
  };
}

/**
 * Position of a required column; a DataError naming the file, the config key, the columns found,
 * and (`holds`: what the column is for) that the key names the column when it is called otherwise.
 */
export function requireColumn(table: Table, column: string, configKey: string, holds?: string): number {
  const at = table.columns.indexOf(column);
  if (at < 0) {
    const hint = holds
      ? `; if the ${holds} are in another column, set ${configKey} to its name (e.g. ${configKey}=${table.columns[0] ?? "NAME"})`
      : "";
    throw new DataError(
      `${table.path}: no column '${column}' (${configKey}); the columns are: ${table.columns.join(", ")}${hint}`,
    );
  }
  return at;
}

/** "row 3 (line 4)" of a table record. */
export function rowRef(table: Table, row: number): string {
  return `row ${row + 1} (line ${table.lines[row]})`;
}

/** Parses a numeric cell or throws a DataError naming file, row and column. */
export function numericCell(table: Table, row: number, column: number): number {
  const text = table.rows[row]?.[column] ?? "";
  const value = text === "" ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) {
    throw new DataError(
      `${table.path}: ${rowRef(table, row)}, column '${table.columns[column] ?? column}': expected a number, got '${text}'`,
    );
  }
  return value;
}

/** The rows of a folder dataset's index CSV (AudioFolder, ImageFolder). */
export interface FileIndex {
  table: Table;
  /** Each row's file, resolved against the dataset's root folder. */
  files: string[];
  labels: string[];
  /** Per row when the index has the split column, else null. */
  split: SubsetName[] | null;
}

/**
 * Reads a folder dataset's index: its path and label columns (required, no empty cell) and its
 * optional split column (train, dev or test). `names` say what the index and its paths are in
 * errors ("image index", "image file paths").
 */
export function readFileIndex(
  indexPath: string,
  root: string,
  columns: { path: string; label: string; split: string },
  names: { index: string; paths: string },
): FileIndex {
  const table = readTable(indexPath, `${names.index} (dataset.index)`);
  const pathAt = requireColumn(table, columns.path, "dataset.path_column", names.paths);
  const labelAt = requireColumn(table, columns.label, "dataset.label_column", "labels");
  const splitAt = table.columns.indexOf(columns.split);
  const files: string[] = [];
  const labels: string[] = [];
  const split: SubsetName[] = [];
  table.rows.forEach((record, r) => {
    const file = record[pathAt] ?? "";
    const label = record[labelAt] ?? "";
    if (file === "")
      throw new DataError(`${indexPath}: ${rowRef(table, r)}, column '${columns.path}': empty path`);
    if (label === "")
      throw new DataError(`${indexPath}: ${rowRef(table, r)}, column '${columns.label}': empty label`);
    files.push(resolve(root, file));
    labels.push(label);
    if (splitAt >= 0) {
      const value = (record[splitAt] ?? "").toLowerCase();
      if (!(SUBSET_NAMES as readonly string[]).includes(value)) {
        throw new DataError(
          `${indexPath}: ${rowRef(table, r)}, column '${columns.split}': expected train, dev or test, got '${record[splitAt] ?? ""}'`,
        );
      }
      split.push(value as SubsetName);
    }
  });
  if (files.length === 0) throw new DataError(`${indexPath}: the ${names.index} lists no files`);
  return { table, files, labels, split: splitAt >= 0 ? split : null };
}
