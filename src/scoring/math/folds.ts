import type { Rng } from "../../util/rng.js";

/**
 * Splits positions 0..n−1 into k folds: a seeded random permutation cut into consecutive slices of
 * ⌊n/k⌋ (the last fold takes the remainder), so every sample is held out exactly once (CVLoss).
 * aucurriculum indexes its permutation twice; the semantics (a random partition) are the same.
 */
export function crossValidationFolds(n: number, k: number, rng: Rng): Int32Array[] {
  if (!Number.isInteger(k) || k < 2) throw new Error(`Number of splits must be at least 2, got '${k}'`);
  if (n < k) throw new Error(`cannot split ${n} samples into ${k} folds`);
  const permutation = rng.permutation(n);
  const size = Math.floor(n / k);
  return Array.from({ length: k }, (_, s) =>
    permutation.slice(s * size, s === k - 1 ? n : (s + 1) * size).sort(),
  );
}

/** All positions of 0..n−1 that are not in `fold` (the training positions of a split). */
export function complement(n: number, fold: Int32Array): Int32Array {
  const held = new Uint8Array(n);
  for (const i of fold) held[i] = 1;
  const out = new Int32Array(n - fold.length);
  let p = 0;
  for (let i = 0; i < n; i++) if (!held[i]) out[p++] = i;
  return out;
}
