import { existsSync } from "node:fs";
import { scoreCardFile } from "../config/layout.js";
import { readCsv, readCsvRecords, writeCsv } from "../util/csv.js";
import { CurriculaError, DataError } from "../util/errors.js";
import { readYaml } from "../util/yaml-io.js";

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
  const header = [
    "index",
    "source_index",
    ...names,
    ...text,
    ...order.slice(names.length),
    "encoded",
    "decoded",
  ];
  const records = Array.from(rows.index, (index, i) => {
    const record: Record<string, unknown> = {
      index,
      source_index: rows.sourceIndex[i],
      encoded: rows.encoded[i],
      decoded: rows.decoded[i],
    };
    for (const name of order) record[name] = (rows.columns.get(name) as Float64Array)[i];
    for (const name of text) record[name] = rows.text?.get(name)?.[i];
    return record;
  });
  writeCsv(path, header, records);
}

/**
 * Reads a table written by {@link writeScoreRows}. Non-fixed columns are numeric (empty = NaN), except
 * columns holding a non-numeric value, which are read as text (`text`). With `sourceIndexFallback`,
 * a table without `source_index` (written by the original toolkit) reads its `index` as the source
 * index.
 */
export function readScoreRows(path: string, options: { sourceIndexFallback?: boolean } = {}): ScoreRows {
  const [header, ...body] = readCsvRecords(path);
  if (!header) throw new DataError(`${path}: empty CSV (expected a header row)`);
  const columns = [...header];
  const at = new Map(columns.map((c, i) => [c, i] as const));
  const fallback = options.sourceIndexFallback === true && !at.has("source_index");
  if (fallback) at.set("source_index", at.get("index") ?? -1);
  for (const required of FIXED) {
    if (!at.has(required)) throw new DataError(`${path}: missing column '${required}'`);
  }
  const n = body.length;
  const out: ScoreRows = {
    index: new Int32Array(n),
    sourceIndex: new Int32Array(n),
    encoded: new Int32Array(n),
    decoded: new Array<string>(n),
    columns: new Map(),
  };
  // Each other column is read as numbers (empty = NaN) until a value is not one: then it is text.
  for (const [c, i] of columns.map((name, i) => [name, i] as const)) {
    if (FIXED.includes(c)) continue;
    const values = new Float64Array(n);
    let numeric = true;
    for (let r = 0; r < n && numeric; r++) {
      const v = (body[r] as string[])[i] ?? "";
      const x = v === "" ? Number.NaN : Number(v);
      if (Number.isNaN(x) && v !== "") numeric = false;
      else values[r] = x;
    }
    if (numeric) out.columns.set(c, values);
    else {
      out.text ??= new Map();
      out.text.set(
        c,
        body.map((record) => record[i] ?? ""),
      );
    }
  }
  const integer = (record: string[], key: string, i: number): number => {
    const raw = record[at.get(key) as number] ?? "";
    const v = Number(raw);
    if (!Number.isInteger(v))
      throw new DataError(`${path}: row ${i + 2}: ${key}: expected an integer, got '${raw}'`);
    return v;
  };
  const decodedAt = at.get("decoded") as number;
  body.forEach((record, i) => {
    out.index[i] = integer(record, "index", i);
    out.sourceIndex[i] = integer(record, "source_index", i);
    out.encoded[i] = integer(record, "encoded", i);
    out.decoded[i] = record[decodedAt] ?? "";
  });
  return out;
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

function numberColumn(
  path: string,
  rows: Record<string, string>[],
  column: string,
  integer: boolean,
): Float64Array {
  const out = new Float64Array(rows.length);
  rows.forEach((row, r) => {
    const text = row[column] ?? "";
    const value = text.trim() === "" ? Number.NaN : Number(text);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      throw new DataError(
        `${path}: row ${r + 2}, column "${column}": expected ${integer ? "an integer" : "a number"}, got "${text}"`,
      );
    }
    out[r] = value;
  });
  return out;
}

/**
 * Reads the `ranks` of a score file by position of the training subset (0 easiest … 1 hardest).
 * Rows are matched by `index` and every `source_index` must equal the subset's: scores of another
 * dataset, split or seed are refused instead of being aligned by row position silently (the
 * original's behaviour).
 */
export function readScoreRanks(
  path: string,
  train: { size: number; sourceIndex: ArrayLike<number> },
  scoringId: string,
): Float64Array {
  if (!existsSync(path)) {
    throw new CurriculaError(
      `score file not found: ${path} (curriculum.scoring=${scoringId}); compute it first with: curricula curriculum curriculum/scoring=${scoringId}`,
    );
  }
  const { columns, rows } = readCsv(path);
  for (const column of ["index", "source_index", "ranks"]) {
    if (!columns.includes(column)) {
      throw new DataError(`${path}: missing column "${column}" (columns: ${columns.join(", ")})`);
    }
  }
  if (rows.length !== train.size) {
    throw new DataError(
      `${path}: ${rows.length} scored samples but the training subset has ${train.size}; the scores were computed on another dataset or split (recompute them with curricula curriculum curriculum/scoring=${scoringId})`,
    );
  }
  const index = numberColumn(path, rows, "index", true);
  const source = numberColumn(path, rows, "source_index", true);
  const ranks = numberColumn(path, rows, "ranks", false);
  const out = new Float64Array(train.size).fill(Number.NaN);
  for (let r = 0; r < rows.length; r++) {
    const i = index[r] as number;
    if (i < 0 || i >= train.size) {
      throw new DataError(
        `${path}: row ${r + 2}: index ${i} outside the training subset (0..${train.size - 1})`,
      );
    }
    if (!Number.isNaN(out[i] as number)) {
      throw new DataError(`${path}: row ${r + 2}: index ${i} appears twice`);
    }
    if (source[r] !== train.sourceIndex[i]) {
      throw new DataError(
        `${path}: row ${r + 2}: index ${i} has source_index ${source[r]} but the training subset holds source sample ${train.sourceIndex[i]} there; the scores were computed on another dataset, split or seed (recompute them with curricula curriculum curriculum/scoring=${scoringId})`,
      );
    }
    out[i] = ranks[r] as number;
  }
  return out;
}

/** The card `<id>.yaml` beside a score file, or null when there is none or it is unreadable. */
export function readScoreCard(scoreCsv: string): Record<string, unknown> | null {
  const path = scoreCardFile(scoreCsv);
  if (!existsSync(path)) return null;
  try {
    const card = readYaml(path);
    return card && typeof card === "object" && !Array.isArray(card)
      ? (card as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Non-finite values (NaN, ±Infinity) of a table's numeric columns: per column, how many and the first samples. */
export interface NonFiniteColumn {
  column: string;
  count: number;
  /** The first few samples holding one, as `index (source_index s)`. */
  samples: string[];
}

/** The columns of `rows` holding NaN or an infinity (empty: every value is finite). */
export function nonFiniteCells(rows: ScoreRows, columns?: readonly string[], shown = 5): NonFiniteColumn[] {
  const out: NonFiniteColumn[] = [];
  for (const [column, values] of rows.columns) {
    if (columns && !columns.includes(column)) continue;
    let count = 0;
    const samples: string[] = [];
    values.forEach((v, i) => {
      if (Number.isFinite(v)) return;
      count++;
      if (samples.length < shown) samples.push(`${rows.index[i]} (source_index ${rows.sourceIndex[i]})`);
    });
    if (count > 0) out.push({ column, count, samples });
  }
  return out;
}

/** One line per column of {@link nonFiniteCells}: `scores: 12 of 100 samples, e.g. 0 (source_index 7), …`. */
export function describeNonFinite(cells: readonly NonFiniteColumn[], total: number): string {
  return cells
    .map(
      (c) =>
        `${c.column}: ${c.count} of ${total} samples, e.g. ${c.samples.join(", ")}${c.count > c.samples.length ? ", …" : ""}`,
    )
    .join("; ");
}
