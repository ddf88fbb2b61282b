import { existsSync, readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { writeFileAtomicSync } from "./atomic.js";
import { DataError } from "./errors.js";

export type CsvRow = Record<string, string>;

/**
 * Reads a CSV file into its records (the header first), each a list of strings. A file without any
 * double quote (what every table of the results tree is unless a text holds a comma, quote or line
 * break) is split by lines and commas directly, several times faster than the full parser that
 * reads every other file; both skip empty lines and refuse a record of another length than the header.
 */
export function readCsvRecords(path: string): string[][] {
  if (!existsSync(path)) throw new DataError(`${path}: file not found`);
  const text = readFileSync(path, "utf8");
  if (!text.includes('"')) {
    const records: string[][] = [];
    let width = -1;
    let line = 0;
    for (const raw of text.split("\n")) {
      line++;
      const record = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (record === "") continue;
      const fields = record.split(",");
      if (width < 0) width = fields.length;
      else if (fields.length !== width)
        throw new DataError(
          `${path}: invalid CSV: line ${line} has ${fields.length} fields, the header has ${width}`,
        );
      records.push(fields);
    }
    return records;
  }
  try {
    return parse(text, { skip_empty_lines: true }) as string[][];
  } catch (error) {
    throw new DataError(`${path}: invalid CSV: ${(error as Error).message}`);
  }
}

/** Reads a CSV file with a header row into records of strings. */
export function readCsv(path: string): { columns: string[]; rows: CsvRow[] } {
  const [header, ...body] = readCsvRecords(path);
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
