import { readCsv, writeCsv } from "../util/csv.js";
import { DataError } from "../util/errors.js";

/**
 * Score tables: the rows of one atomic run's `scores.csv` or of a final `<score_id>.csv`. Rows carry
 * `index` (position in the scored subset) and `source_index` (identity in the source data), so tables
 * are aligned by index and checked by source index, never by row position alone.
 */
export interface ScoreRows {
  index: Int32Array;
  sourceIndex: Int32Array;
  encoded: Int32Array;
  decoded: string[];
  /** Function-specific numeric columns in order (e.g. `scores`, `sum`, `count`, `probe_0`). */
  columns: Map<string, Float64Array>;
  /** Text columns of final score files, written after the numeric ones (e.g. Cartography's `region`). */
  text?: Map<string, string[]>;
}

const FIXED = ["index", "source_index", "encoded", "decoded"];

/** Writes `index, source_index, <columns…>, <text columns…>, <trailing…>, encoded, decoded` atomically. */
export function writeScoreRows(path: string, rows: ScoreRows, trailing: readonly string[] = []): void {
  const names = [...rows.columns.keys()].filter((c) => !trailing.includes(c));
  const order = [...names, ...trailing.filter((c) => rows.columns.has(c))];
  const text = [...(rows.text?.keys() ?? [])];
  const header = ["index", "source_index", ...names, ...text, ...order.slice(names.length), "encoded", "decoded"];
  const records = Array.from(rows.index, (index, i) => {
    const record: Record<string, unknown> = {
      index,
      source_index: rows.sourceIndex[i],
      encoded: rows.encoded[i],
      decoded: rows.decoded[i],
    };
    for (const name of order) record[name] = (rows.columns.get(name) as Float64Array)[i];
    for (const name of text) record[name] = (rows.text?.get(name) as string[])[i];
    return record;
  });
  writeCsv(path, header, records);
}

/**
 * Reads a table written by {@link writeScoreRows}. Non-fixed columns are numeric (empty = NaN), except
 * columns holding a non-numeric value, which are read as text (`text`).
 */
export function readScoreRows(path: string): ScoreRows {
  const { columns, rows } = readCsv(path);
  for (const required of FIXED) {
    if (!columns.includes(required)) throw new DataError(`${path}: missing column '${required}'`);
  }
  const n = rows.length;
  const out: ScoreRows = {
    index: new Int32Array(n),
    sourceIndex: new Int32Array(n),
    encoded: new Int32Array(n),
    decoded: new Array<string>(n),
    columns: new Map(),
  };
  const isText = (c: string) => rows.some((row) => row[c] !== "" && Number.isNaN(Number(row[c])));
  const numeric = columns.filter((c) => !FIXED.includes(c) && !isText(c));
  const text = columns.filter((c) => !FIXED.includes(c) && isText(c));
  for (const c of numeric) out.columns.set(c, new Float64Array(n));
  if (text.length > 0) out.text = new Map(text.map((c) => [c, rows.map((row) => row[c] as string)]));
  rows.forEach((row, i) => {
    out.index[i] = integer(path, row, "index", i);
    out.sourceIndex[i] = integer(path, row, "source_index", i);
    out.encoded[i] = integer(path, row, "encoded", i);
    out.decoded[i] = row.decoded as string;
    for (const c of numeric) {
      const text = row[c] as string;
      (out.columns.get(c) as Float64Array)[i] = text === "" ? Number.NaN : Number(text);
    }
  });
  return out;
}

function integer(path: string, row: Record<string, string>, key: string, i: number): number {
  const v = Number(row[key]);
  if (!Number.isInteger(v))
    throw new DataError(`${path}: row ${i + 2}: ${key}: expected an integer, got '${row[key]}'`);
  return v;
}

/** Sorts rows by `index` (subset order). */
export function sortByIndex(rows: ScoreRows): ScoreRows {
  const order = Array.from(rows.index.keys()).sort(
    (a, b) => (rows.index[a] as number) - (rows.index[b] as number),
  );
  return pick(rows, order);
}

/** Concatenates tables (CVLoss folds of one configuration) and sorts them by index. */
export function concatRows(parts: readonly ScoreRows[]): ScoreRows {
  const first = parts[0];
  if (!first) throw new Error("concatRows: no tables");
  const n = parts.reduce((s, p) => s + p.index.length, 0);
  const out: ScoreRows = {
    index: new Int32Array(n),
    sourceIndex: new Int32Array(n),
    encoded: new Int32Array(n),
    decoded: [],
    columns: new Map([...first.columns.keys()].map((c) => [c, new Float64Array(n)])),
  };
  let offset = 0;
  for (const p of parts) {
    out.index.set(p.index, offset);
    out.sourceIndex.set(p.sourceIndex, offset);
    out.encoded.set(p.encoded, offset);
    out.decoded.push(...p.decoded);
    for (const [c, values] of out.columns) {
      const column = p.columns.get(c);
      if (!column) throw new DataError(`score tables to concatenate differ: column '${c}' missing`);
      values.set(column, offset);
    }
    offset += p.index.length;
  }
  return sortByIndex(out);
}

export function pick(rows: ScoreRows, order: readonly number[]): ScoreRows {
  return {
    index: Int32Array.from(order, (i) => rows.index[i] as number),
    sourceIndex: Int32Array.from(order, (i) => rows.sourceIndex[i] as number),
    encoded: Int32Array.from(order, (i) => rows.encoded[i] as number),
    decoded: order.map((i) => rows.decoded[i] as string),
    columns: new Map([...rows.columns].map(([c, v]) => [c, Float64Array.from(order, (i) => v[i] as number)])),
  };
}

/**
 * Checks that a table sorted by index covers positions 0..n−1 exactly once, and that it agrees with a
 * reference table on `source_index` and `encoded` at every index. Errors name both sources.
 */
export function checkAligned(
  rows: ScoreRows,
  label: string,
  reference?: { rows: ScoreRows; label: string },
): void {
  const n = rows.index.length;
  for (let i = 0; i < n; i++) {
    if (rows.index[i] !== i) {
      const dup = i > 0 && rows.index[i] === rows.index[i - 1];
      throw new DataError(
        `${label}: ${dup ? `index ${rows.index[i]} appears twice` : `index ${i} is missing`} ` +
          "(expected every sample of the subset exactly once)",
      );
    }
  }
  if (!reference) return;
  const ref = reference.rows;
  if (ref.index.length !== n) {
    throw new DataError(
      `${label}: ${n} samples, but ${reference.label} has ${ref.index.length} (not the same subset)`,
    );
  }
  for (let i = 0; i < n; i++) {
    if (rows.sourceIndex[i] !== ref.sourceIndex[i] || rows.encoded[i] !== ref.encoded[i]) {
      throw new DataError(
        `${label}: index ${i} is source_index ${rows.sourceIndex[i]} (class ${rows.encoded[i]}), but in ` +
          `${reference.label} it is source_index ${ref.sourceIndex[i]} (class ${ref.encoded[i]}): ` +
          "the runs were scored on different data (dataset seed or split differ; an ensemble of seeds needs " +
          "seeds 'T-D' that share the dataset seed D)",
      );
    }
  }
}
