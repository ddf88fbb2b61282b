import { existsSync } from "node:fs";
import { join } from "node:path";
import { type OutputSubset, outputFile, RUN_FILES } from "../config/layout.js";
import { DataError } from "../util/errors.js";
import { loadNpy, saveNpy } from "../util/npy.js";

/**
 * Per-sample outputs of a subset (`<subset>_outputs.npy`, `_targets.npy`, `_indices.npy`,
 * `_losses.npy` in an iteration folder, `_best/` or `_test/`): the trainer's writer and the readers
 * of scoring, fusion and the report, side by side as in score-table.ts.
 */

/** Per-sample results of one forward pass over a whole subset, in subset order. */
export interface SubsetOutputs {
  /** N × C logits, row-major. */
  logits: Float32Array;
  numClasses: number;
  targets: Int32Array;
  /** Positions of the rows in the (base) subset. */
  indices: Int32Array;
  /** Per-sample criterion losses (class-weighted for BalancedCrossEntropy). */
  losses: Float32Array;
}

/** Writes `<prefix>_outputs.npy` (float32 N×C), `_targets.npy`, `_indices.npy` (int32), `_losses.npy` (float32). */
export function saveOutputs(dir: string, prefix: OutputSubset, outputs: SubsetOutputs): void {
  const n = outputs.targets.length;
  saveNpy(join(dir, outputFile(prefix, "outputs")), outputs.logits, [n, outputs.numClasses]);
  saveNpy(join(dir, outputFile(prefix, "targets")), outputs.targets, [n]);
  saveNpy(join(dir, outputFile(prefix, "indices")), outputs.indices, [n]);
  saveNpy(join(dir, outputFile(prefix, "losses")), outputs.losses, [n]);
}

/**
 * Reads `<subset>_outputs.npy` (+ indices, targets) when they cover every position of the subset;
 * the saved targets must equal the rebuilt labels (else the config no longer rebuilds the same data).
 */
export function readSavedLogits(
  dir: string,
  name: OutputSubset,
  subset: { size: number; labels: ArrayLike<number> },
  numClasses: number,
): Float32Array | null {
  const outputsPath = join(dir, outputFile(name, "outputs"));
  const indicesPath = join(dir, outputFile(name, "indices"));
  if (!existsSync(outputsPath) || !existsSync(indicesPath)) return null;
  const outputs = loadNpy(outputsPath);
  const indices = loadNpy(indicesPath).data;
  if (indices.length !== subset.size || outputs.data.length !== subset.size * numClasses) return null;
  const targetsPath = join(dir, outputFile(name, "targets"));
  const targets = existsSync(targetsPath) ? loadNpy(targetsPath).data : null;
  const logits = new Float32Array(subset.size * numClasses);
  const covered = new Uint8Array(subset.size);
  for (let r = 0; r < indices.length; r++) {
    const p = indices[r] as number;
    if (p < 0 || p >= subset.size || covered[p]) return null;
    covered[p] = 1;
    if (targets && targets[r] !== subset.labels[p]) {
      throw new Error(
        `${targetsPath}: row ${r} (position ${p}) has label ${targets[r]} but the rebuilt ${name} subset has ` +
          `${subset.labels[p]}: the run's config.yaml no longer rebuilds the data it was trained on`,
      );
    }
    logits.set(outputs.data.subarray(r * numClasses, (r + 1) * numClasses) as Float32Array, p * numClasses);
  }
  return logits;
}

/** Where saved outputs of a subset live: the iteration folder, or `_test/` for the best model's test outputs. */
export function savedOutputsDir(runDir: string, iterationDir: string, subset: OutputSubset): string {
  return subset === "test" && iterationDir === join(runDir, RUN_FILES.best)
    ? join(runDir, RUN_FILES.test)
    : iterationDir;
}

/** The saved outputs of one subset in subset order (positions 0 … n−1). */
export interface SubsetOutputFiles {
  /** n × C logits, row = position in the subset. */
  logits: Float32Array;
  /** Label of every position. */
  targets: Int32Array;
  numClasses: number;
}

/**
 * Reads `<subset>_outputs.npy`, `_indices.npy` and `_targets.npy` of a folder (`_test/`, `_best/`,
 * `epoch_N/`) into subset order. Missing files or rows that do not cover positions 0 … n−1 exactly
 * once are errors naming the file.
 */
export function readSubsetOutputs(dir: string, name: OutputSubset): SubsetOutputFiles {
  const path = (kind: "outputs" | "indices" | "targets") => join(dir, outputFile(name, kind));
  for (const kind of ["outputs", "indices", "targets"] as const) {
    if (!existsSync(path(kind))) {
      throw new DataError(
        `${path(kind)}: saved ${name} outputs missing (the run needs save_${name}_outputs: true)`,
      );
    }
  }
  const outputs = loadNpy(path("outputs"));
  const indices = loadNpy(path("indices")).data;
  const targets = loadNpy(path("targets")).data;
  const n = indices.length;
  const c = outputs.shape[1] ?? 0;
  if (outputs.shape.length !== 2 || outputs.shape[0] !== n || targets.length !== n) {
    throw new DataError(
      `${path("outputs")}: shape [${outputs.shape}] does not match ${n} indices and ${targets.length} targets`,
    );
  }
  const logits = new Float32Array(n * c);
  const ordered = new Int32Array(n).fill(-1);
  for (let r = 0; r < n; r++) {
    const p = indices[r] as number;
    if (p < 0 || p >= n || ordered[p] !== -1) {
      throw new DataError(`${path("indices")}: row ${r}: position ${p} repeated or outside 0..${n - 1}`);
    }
    ordered[p] = targets[r] as number;
    logits.set(outputs.data.subarray(r * c, (r + 1) * c) as Float32Array, p * c);
  }
  return { logits, targets: ordered, numClasses: c };
}
