import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { writeCorrelationTable } from "../results/correlation-table.js";
import { readScoreRows, type ScoreRows } from "../results/score-table.js";
import { ConfigError } from "../util/errors.js";
import { type CorrelationMethod, correlationMatrix } from "./math/correlation.js";
import { plotCorrelation } from "./plots.js";

/** A final score file found under `<results>/<exp>/curriculum/<type>/<id>.csv`. */
export interface ScoreFile {
  id: string;
  type: string;
  path: string;
}

/** Every final score file of an experiment, sorted by id. */
export function listScoreFiles(curriculumDir: string): ScoreFile[] {
  if (!existsSync(curriculumDir)) return [];
  const out: ScoreFile[] = [];
  for (const type of readdirSync(curriculumDir)) {
    const dir = join(curriculumDir, type);
    if (!statSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir)) {
      if (file.endsWith(".csv") && statSync(join(dir, file)).isFile()) {
        out.push({ id: basename(file, ".csv"), type, path: join(dir, file) });
      }
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The ids of a matrix: `all` or an explicit list. */
export type MatrixSelection = "all" | string[];

export interface MatrixResult {
  name: string;
  ids: string[];
  /** Scores left out of an `all` matrix because they rank other samples (another dataset or subset). */
  skipped: string[];
  csv: string;
  matrix: Float64Array;
}

/**
 * Writes `<curriculumDir>/<name>.csv` (first column `score`, then one column per score id) and a
 * heatmap `<name>.svg/.png`, and `<name>.yaml` (method and scores): the correlation of the scores'
 * per-sample means, oriented so that higher means harder (see orientedScores; not their position-broken
 * `ranks`). Scores must rank the same samples
 * (same `source_index` at every index); an explicitly listed score that does not is an error, an
 * `all` matrix keeps the scores compatible with `anchor` (default: the first id) and reports the rest.
 */
export async function writeCorrelationMatrix(
  curriculumDir: string,
  name: string,
  selection: MatrixSelection,
  method: CorrelationMethod,
  options: { anchor?: string; plot?: boolean } = {},
): Promise<MatrixResult | null> {
  const files = listScoreFiles(curriculumDir);
  const chosen = selection === "all" ? files : files.filter((f) => selection.includes(f.id));
  if (selection !== "all") {
    const missing = selection.filter((id) => !files.some((f) => f.id === id));
    if (missing.length > 0) {
      throw new ConfigError(
        `correlation.${name}`,
        `no score file for ${missing.join(", ")} under ${curriculumDir}`,
      );
    }
  }
  if (chosen.length === 0) return null;
  const tables = new Map<string, ScoreRows>(chosen.map((f) => [f.id, readScoreRows(f.path)]));
  const anchorId =
    options.anchor && tables.has(options.anchor) ? options.anchor : (chosen[0] as ScoreFile).id;
  const anchor = tables.get(anchorId) as ScoreRows;
  const ids: string[] = [];
  const skipped: string[] = [];
  for (const f of chosen) {
    const t = tables.get(f.id) as ScoreRows;
    if (sameSamples(anchor, t)) {
      ids.push(f.id);
    } else if (selection === "all") {
      skipped.push(f.id);
    } else {
      throw new ConfigError(
        `correlation.${name}`,
        `${f.path} ranks other samples than the score ${anchorId} (different dataset, split or subset)`,
      );
    }
  }
  const columns = ids.map((id) => orientedScores(tables.get(id) as ScoreRows, id));
  const matrix = correlationMatrix(columns, method);
  const csv = writeCorrelationTable(curriculumDir, name, { ids, skipped, method, matrix });
  if (options.plot !== false) await plotCorrelation(join(curriculumDir, name), ids, matrix, method);
  return { name, ids, skipped, csv, matrix };
}

function sameSamples(a: ScoreRows, b: ScoreRows): boolean {
  if (a.index.length !== b.index.length) return false;
  const bySourceA = new Map<number, number>();
  a.index.forEach((index, r) => {
    bySourceA.set(index, a.sourceIndex[r] as number);
  });
  for (let r = 0; r < b.index.length; r++) {
    if (bySourceA.get(b.index[r] as number) !== b.sourceIndex[r]) return false;
  }
  return true;
}

/**
 * A score's values in dataset order, oriented so that higher means harder. The `mean` column is
 * used rather than `ranks`: ranks break ties by position, which would invent an order among the
 * many equal values of scores such as CumulativeAccuracy and distort their correlations; the
 * correlation's own ranking then treats ties as ties. The orientation comes from the ranks (for a
 * reversed score, such as CumulativeAccuracy, a high mean is easy).
 */
export function orientedScores(rows: ScoreRows, id: string): Float64Array {
  const ranks = rows.columns.get("ranks");
  const mean = rows.columns.get("mean");
  if (!ranks || !mean) throw new ConfigError("correlation", `score ${id} needs 'mean' and 'ranks' columns`);
  let easiest = 0;
  let hardest = 0;
  for (let r = 0; r < ranks.length; r++) {
    if ((ranks[r] as number) < (ranks[easiest] as number)) easiest = r;
    if ((ranks[r] as number) > (ranks[hardest] as number)) hardest = r;
  }
  const sign = (mean[hardest] as number) < (mean[easiest] as number) ? -1 : 1;
  const out = new Float64Array(rows.index.length);
  rows.index.forEach((index, r) => {
    out[index] = sign * (mean[r] as number);
  });
  return out;
}
