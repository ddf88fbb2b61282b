import { readCsv, writeCsv } from "../util/csv.js";
import { CurriculaError, DataError } from "../util/errors.js";

/** One row of a run's `sampler.csv`: the evaluation's iteration and the sampler's counts. */
export interface SamplerLogRow {
  iteration: number;
  values: Record<string, number>;
}

/**
 * Checks a sampler's `record()` against the log so far: an object of numbers, no key named
 * `iteration`, and the keys of the first row in the same order. `who` names the sampler in the error.
 */
export function checkSamplerRecord(
  record: unknown,
  first: SamplerLogRow | undefined,
  who: string,
): Record<string, number> {
  if (!record || typeof record !== "object" || Array.isArray(record)) {
    throw new CurriculaError(
      `${who}: record() must return an object of numbers or null, got ${JSON.stringify(record)}`,
    );
  }
  const values = record as Record<string, unknown>;
  for (const [key, value] of Object.entries(values)) {
    if (key === "iteration") throw new CurriculaError(`${who}: record() cannot have a key named "iteration"`);
    if (typeof value !== "number") {
      throw new CurriculaError(`${who}: record().${key} must be a number, got ${JSON.stringify(value)}`);
    }
  }
  const keys = Object.keys(values).join(", ");
  const expected = first ? Object.keys(first.values).join(", ") : keys;
  if (keys !== expected) {
    throw new CurriculaError(
      `${who}: record() returned the keys ${keys || "(none)"}, expected ${expected} as at the first evaluation`,
    );
  }
  return values as Record<string, number>;
}

/**
 * Writes a dynamic sampler's per-evaluation counts (`sampler.csv`: `iteration`, then the record's
 * keys in their order) atomically; every row is checked by {@link checkSamplerRecord}.
 */
export function writeSamplerLog(path: string, rows: readonly SamplerLogRow[]): void {
  for (const row of rows) checkSamplerRecord(row.values, rows[0], path);
  const columns = ["iteration", ...Object.keys(rows[0]?.values ?? {})];
  writeCsv(
    path,
    columns,
    rows.map((row) => ({ iteration: row.iteration, ...row.values })),
  );
}

/**
 * Reads a run's `sampler.csv`, strictly: an integer `iteration` and a number in every other column
 * (an empty cell, as NaN is written, reads as NaN).
 */
export function readSamplerLog(path: string): SamplerLogRow[] {
  const { columns, rows } = readCsv(path);
  if (columns[0] !== "iteration") throw new DataError(`${path}: expected "iteration" as the first column`);
  const keys = columns.slice(1);
  return rows.map((row, r) => {
    const iteration = Number(row.iteration);
    if (!Number.isInteger(iteration)) {
      throw new DataError(`${path}: row ${r + 2}: expected an integer iteration, got "${row.iteration}"`);
    }
    const values: Record<string, number> = {};
    for (const key of keys) {
      const text = row[key] ?? "";
      const value = text === "" ? Number.NaN : Number(text);
      if (text !== "" && Number.isNaN(value)) {
        throw new DataError(`${path}: row ${r + 2}: column "${key}": expected a number, got "${text}"`);
      }
      values[key] = value;
    }
    return { iteration, values };
  });
}
