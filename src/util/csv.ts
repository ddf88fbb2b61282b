import { existsSync, readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { writeFileAtomicSync } from "./atomic.js";
import { DataError } from "./errors.js";

export type CsvRow = Record<string, string>;

/** Reads a CSV file with a header row into records of strings. */
export function readCsv(path: string): { columns: string[]; rows: CsvRow[] } {
  if (!existsSync(path)) throw new DataError(`${path}: file not found`);
  let records: string[][];
  try {
    records = parse(readFileSync(path, "utf8"), { skip_empty_lines: true }) as string[][];
  } catch (error) {
    throw new DataError(`${path}: invalid CSV: ${(error as Error).message}`);
  }
  const [header, ...body] = records;
  if (!header) throw new DataError(`${path}: empty CSV (expected a header row)`);
  const rows = body.map((record) => {
    const row: CsvRow = {};
    header.forEach((name, i) => {
      row[name] = record[i] ?? "";
    });
    return row;
  });
  return { columns: header, rows };
}

/** Formats a number as numpy/pandas would print it in a CSV: integers without ".0", NaN as empty. */
export function formatCsvNumber(value: number): string {
  if (Number.isNaN(value)) return "";
  return String(value);
}

/** Writes rows (objects with the given columns) as CSV, atomically. */
export function writeCsv(
  path: string,
  columns: readonly string[],
  rows: ReadonlyArray<Record<string, unknown>>,
): void {
  const body = rows.map((row) =>
    columns.map((c) => {
      const v = row[c];
      if (typeof v === "number") return formatCsvNumber(v);
      return v === undefined || v === null ? "" : String(v);
    }),
  );
  writeFileAtomicSync(path, stringify([columns as string[], ...body]));
}
