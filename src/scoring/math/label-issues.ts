import { confidentJoint } from "./dynamics.js";

/**
 * Label issues from out-of-sample probabilities by the methods of Northcutt, Jiang & Chuang,
 * "Confident Learning: Estimating Uncertainty in Dataset Labels" (JAIR 2021, §3 and §4), under the
 * names cleanlab's `find_label_issues(filter_by=…)` gives them. With N samples, K classes, given
 * labels ỹ, probabilities p̂ and the confident joint C (`confidentJoint`):
 *
 * - calibration (eq. 3): C̃[i][j] = C[i][j] / Σ_j C[i][j] · |X_{ỹ=i}|, so each row sums to its
 *   label count; the joint is Q̂ = C̃ / Σ C̃. A class with no confident sample (a zero row of C) has
 *   nothing to calibrate: its row stays zero and no sample of it is pruned.
 * - `confident_learning` (C_{ỹ,y*}): the samples counted off the diagonal of C.
 * - `predicted_neq_given` (C_confusion): argmax_j p̂_j(x) ≠ ỹ (the first maximum on ties).
 * - `prune_by_class` (PBC): for each class i, the round(N · Σ_{j≠i} Q̂[i][j]) samples labelled i
 *   with the lowest self-confidence p̂_i(x).
 * - `prune_by_noise_rate` (PBNR, cleanlab's default): for each off-diagonal (i, j), the
 *   round(N · Q̂[i][j]) samples labelled i with the largest margin p̂_j(x) − p̂_i(x); their union.
 * - `both` (C+NR): samples both PBC and PBNR prune.
 *
 * Ties in an ordering go to the lower position first; round() rounds halves up. cleanlab adds
 * options this follows the paper without: it keeps at least `min_examples_per_class` samples of each
 * class and rounds the calibrated joint preserving row totals.
 */
export const FILTER_BY_METHODS = [
  "prune_by_noise_rate",
  "prune_by_class",
  "both",
  "confident_learning",
  "predicted_neq_given",
] as const;
export type FilterBy = (typeof FILTER_BY_METHODS)[number];

/** The calibrated confident joint C̃ (K × K, row-major), rows summing to the label counts. */
export function calibrateConfidentJoint(
  joint: ArrayLike<number>,
  labels: ArrayLike<number>,
  c: number,
): Float64Array {
  const counts = new Float64Array(c);
  for (let i = 0; i < labels.length; i++)
    counts[labels[i] as number] = (counts[labels[i] as number] as number) + 1;
  const out = new Float64Array(c * c);
  for (let i = 0; i < c; i++) {
    let row = 0;
    for (let j = 0; j < c; j++) row += joint[i * c + j] as number;
    if (row === 0) continue;
    for (let j = 0; j < c; j++) out[i * c + j] = ((joint[i * c + j] as number) / row) * (counts[i] as number);
  }
  return out;
}

/** The joint distribution Q̂ = C̃ / Σ C̃ (all zeros when C̃ is). */
export function estimateJoint(calibrated: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let i = 0; i < calibrated.length; i++) total += calibrated[i] as number;
  return Float64Array.from(calibrated as ArrayLike<number>, (v) => (total > 0 ? v / total : 0));
}

/** The first `count` of `members` ordered by `key` descending (ties: lower position first). */
function topBy(members: number[], key: (i: number) => number, count: number): number[] {
  return members
    .map((i) => ({ i, k: key(i) }))
    .sort((a, b) => b.k - a.k || a.i - b.i)
    .slice(0, Math.max(0, count))
    .map((e) => e.i);
}

export interface LabelIssues {
  /** 1 where the method flags the sample. */
  issue: Uint8Array;
  /** The confident joint C and its calibration C̃ (K × K, row-major). */
  joint: Float64Array;
  calibrated: Float64Array;
  thresholds: Float64Array;
  selfConfidence: Float64Array;
}

/** Label issues of probabilities `probs` (N × K, row-major) and labels by one `filter_by` method. */
export function findLabelIssues(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  c: number,
  filterBy: FilterBy,
): LabelIssues {
  const cj = confidentJoint(probs, labels, c);
  const n = labels.length;
  const calibrated = calibrateConfidentJoint(cj.joint, labels, c);
  const q = estimateJoint(calibrated);
  const p = (i: number, k: number) => probs[i * c + k] as number;
  const byClass: number[][] = Array.from({ length: c }, () => []);
  for (let i = 0; i < n; i++) byClass[labels[i] as number]?.push(i);
  const pbnr = () => {
    const mask = new Uint8Array(n);
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < c; j++) {
        if (i === j) continue;
        const count = Math.round(n * (q[i * c + j] as number));
        for (const s of topBy(byClass[i] as number[], (s) => p(s, j) - p(s, i), count)) mask[s] = 1;
      }
    }
    return mask;
  };
  const pbc = () => {
    const mask = new Uint8Array(n);
    for (let i = 0; i < c; i++) {
      let off = 0;
      for (let j = 0; j < c; j++) if (j !== i) off += q[i * c + j] as number;
      const count = Math.round(n * off);
      for (const s of topBy(byClass[i] as number[], (s) => -p(s, i), count)) mask[s] = 1;
    }
    return mask;
  };
  let issue: Uint8Array;
  switch (filterBy) {
    case "confident_learning":
      issue = cj.issue;
      break;
    case "predicted_neq_given": {
      issue = new Uint8Array(n);
      for (let s = 0; s < n; s++) {
        let best = 0;
        for (let k = 1; k < c; k++) if (p(s, k) > p(s, best)) best = k;
        issue[s] = best !== (labels[s] as number) ? 1 : 0;
      }
      break;
    }
    case "prune_by_class":
      issue = pbc();
      break;
    case "prune_by_noise_rate":
      issue = pbnr();
      break;
    case "both": {
      const a = pbc();
      const b = pbnr();
      issue = Uint8Array.from(a, (v, s) => (v && b[s] ? 1 : 0));
      break;
    }
  }
  return {
    issue,
    joint: cj.joint,
    calibrated,
    thresholds: cj.thresholds,
    selfConfidence: cj.selfConfidence,
  };
}
