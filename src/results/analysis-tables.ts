import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { FUSION_FILES } from "../config/layout.js";
import { readCsv } from "../util/csv.js";
import { DataError } from "../util/errors.js";
import { readYaml } from "../util/yaml-io.js";

/**
 * Readers of the evaluation files: late fusions (`fusion/<id>/fusion.yaml`), the difficulty-aware
 * evaluation (`summary/difficulty.csv`) and the ensemble-size curves of seed robustness
 * (`curriculum/<type>/_robustness/<id>_ensemble_size.csv`). Errors name the file.
 */

export interface FusedEnsemble {
  members: string[];
  metrics: Record<string, number>;
}

/** `fusion/<id>/fusion.yaml`. */
export interface FusionCard {
  id: string;
  size: number;
  members: string[];
  requested: Record<string, string[]>;
  metrics: Record<string, number>;
  /** An equal-size ensemble of baseline seeds, or why there is none. */
  baseline: (FusedEnsemble & { size: number }) | { size: number; available: number; reason: string };
  ensembles: Record<string, FusedEnsemble>;
  single: Record<string, Record<string, number>>;
}

/** The fusion ids under a `fusion/` folder (those with a fusion.yaml), sorted. */
export function listFusions(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, FUSION_FILES.card)))
    .sort();
}

/** Reads and checks `fusion/<id>/fusion.yaml`. */
export function readFusionCard(dir: string): FusionCard {
  const path = join(dir, FUSION_FILES.card);
  const doc = readYaml<Record<string, unknown>>(path);
  if (!doc || typeof doc !== "object") throw new DataError(`${path}: expected a mapping`);
  for (const key of ["members", "metrics", "baseline", "ensembles"]) {
    if (!(key in doc)) throw new DataError(`${path}: ${key}: missing`);
  }
  if (!Array.isArray(doc.members)) throw new DataError(`${path}: members: expected a list of run names`);
  return doc as unknown as FusionCard;
}

/** One row of `summary/difficulty.csv`. */
export interface DifficultyTableRow {
  run_name: string;
  score: string;
  subset: string;
  /** Fraction of the hardest samples (0.1 = the hardest 10%). */
  hardest: number;
  samples: number;
  metrics: Record<string, number>;
}

const DIFFICULTY_FIXED = ["run_name", "score", "subset", "hardest", "samples"];

/** Reads `summary/difficulty.csv`: fixed columns, then one column per metric. */
export function readDifficultyTable(path: string): { metrics: string[]; rows: DifficultyTableRow[] } {
  const { columns, rows } = readCsv(path);
  for (const c of DIFFICULTY_FIXED) {
    if (!columns.includes(c)) throw new DataError(`${path}: missing column '${c}'`);
  }
  const metrics = columns.filter((c) => !DIFFICULTY_FIXED.includes(c));
  return {
    metrics,
    rows: rows.map((r, i) => {
      const hardest = Number(r.hardest);
      if (!(hardest > 0 && hardest <= 1)) {
        throw new DataError(
          `${path}: row ${i + 2}: hardest: expected a fraction in (0, 1], got '${r.hardest}'`,
        );
      }
      return {
        run_name: r.run_name ?? "",
        score: r.score ?? "",
        subset: r.subset ?? "",
        hardest,
        samples: Number(r.samples),
        metrics: Object.fromEntries(metrics.map((m) => [m, r[m] === "" ? Number.NaN : Number(r[m])])),
      };
    }),
  };
}

/** One row of an ensemble-size curve. */
export interface EnsembleSizePoint {
  k: number;
  pairs: number;
  spearman_mean: number;
  spearman_std: number;
}

/** Reads `<id>_ensemble_size.csv`. */
export function readEnsembleSize(path: string): EnsembleSizePoint[] {
  const { columns, rows } = readCsv(path);
  for (const c of ["k", "pairs", "spearman_mean", "spearman_std"]) {
    if (!columns.includes(c)) throw new DataError(`${path}: missing column '${c}'`);
  }
  return rows.map((r) => ({
    k: Number(r.k),
    pairs: Number(r.pairs),
    spearman_mean: Number(r.spearman_mean),
    spearman_std: Number(r.spearman_std),
  }));
}
