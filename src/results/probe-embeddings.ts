import { existsSync } from "node:fs";
import { join } from "node:path";
import { probeEmbeddingsFile, SCORE_RUN_FILES } from "../config/layout.js";
import { DataError } from "../util/errors.js";
import { loadNpy, saveNpy } from "../util/npy.js";
import { readScoreRows } from "./score-table.js";

/**
 * PredictionDepth's saved probe embeddings, `curriculum/<type>/<atomic run>/embeddings_<p>.npy`
 * (written with `save_embeddings`), the writer and the reader of the format: float32, n × dim, row
 * r the (pooled) output of probe p for position r of the scored subset as the atomic run rebuilt it.
 * Probes count from 0 (the input) to P − 1 (the softmax output); the atomic run's `scores.csv` has
 * one `probe_<p>` column per probe and, per row, `index` (the position) and `source_index`, which
 * is how a row of the .npy is tied to a sample.
 */

/** Writes probe `probe`'s embedding (n × dim, by subset position) into an atomic run's folder. */
export function writeProbeEmbeddings(
  atomicRunDir: string,
  probe: number,
  values: Float32Array,
  n: number,
  dim: number,
): void {
  saveNpy(join(atomicRunDir, probeEmbeddingsFile(probe)), values, [n, dim]);
}

/** A probe's saved embedding with the source index of each row. */
export interface ProbeEmbedding {
  /** The probe read (0 = the input … probes − 1 = the output). */
  probe: number;
  /** How many probes the run had. */
  probes: number;
  dim: number;
  /** rows × dim, row-major, in the atomic run's subset order. */
  values: Float32Array;
  /** The source index of each row. */
  sourceIndex: Int32Array;
}

/**
 * The deepest hidden probe's saved embedding of an atomic PredictionDepth run: probe P − 2, the last
 * one before the output probe (the penultimate layer the placements matched). Null when the run
 * saved none (no `save_embeddings`), is unfinished (no `scores.csv`), or had no probe between the
 * input and the output. A file whose rows or shape do not match `scores.csv` is a DataError naming it.
 */
export function readDeepestProbeEmbedding(atomicRunDir: string): ProbeEmbedding | null {
  const scoresPath = join(atomicRunDir, SCORE_RUN_FILES.scores);
  if (!existsSync(scoresPath)) return null;
  const rows = readScoreRows(scoresPath);
  const probes = [...rows.columns.keys()].filter((c) => /^probe_\d+$/.test(c)).length;
  const probe = probes - 2;
  if (probe < 1) return null;
  const path = join(atomicRunDir, probeEmbeddingsFile(probe));
  if (!existsSync(path)) return null;
  const npy = loadNpy(path);
  const n = rows.index.length;
  const [count, dim] = npy.shape;
  if (npy.shape.length !== 2 || count !== n || !dim || !(npy.data instanceof Float32Array)) {
    throw new DataError(
      `${path}: expected float32 of shape [${n}, dim] (one row per row of ${SCORE_RUN_FILES.scores}), got shape [${npy.shape.join(", ")}]`,
    );
  }
  // Row r of the .npy is position r: the scores.csv row whose index is r gives its source index.
  const sourceIndex = new Int32Array(n).fill(-1);
  for (let r = 0; r < n; r++) {
    const position = rows.index[r] as number;
    if (position < 0 || position >= n || sourceIndex[position] !== -1) {
      throw new DataError(
        `${scoresPath}: row ${r + 2}: index ${position}: expected each of 0 … ${n - 1} once (the rows of ${path})`,
      );
    }
    sourceIndex[position] = rows.sourceIndex[r] as number;
  }
  return { probe, probes, dim, values: npy.data, sourceIndex };
}
