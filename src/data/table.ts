import { existsSync, readFileSync, statSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { DataError } from "../util/errors.js";

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
