import { meanOverEvaluations } from "../../training/measures/dynamics.js";
import {
  checkLogits,
  correctFromLogits,
  errorNorm,
  labelProbabilities,
  softmaxRows,
} from "../../training/measures/logits.js";

/**
 * Statistics of training dynamics and of out-of-sample probabilities that only scoring uses (Dataset
 * Cartography's data map, GraNd, confident learning), as pure functions over typed arrays
 * (row-major: `logits[i * c + k]` is class k of sample i; sequences are one array per evaluated
 * iteration), in float64 from the saved float32 logits. The per-sample measures that a re-scored
 * curriculum computes too (softmax, EL2N, margins, AUM, correctness, Forgetting) are
 * src/training/measures/.
 */

/** Per-sample Dataset Cartography statistics over T evaluations. */
export interface CartographyStats {
  /** Mean over evaluations of the probability of the label. */
  confidence: Float64Array;
  /** Population standard deviation (ddof 0) of that probability. */
  variability: Float64Array;
  /** Fraction of evaluations that classify the sample correctly. */
  correctness: Float64Array;
}

/**
 * Dataset Cartography (Swayamdipta et al. 2020) from a sequence of logits: confidence, variability
 * and correctness of every sample, the argmax of each evaluation deciding correctness.
 */
export function cartography(
  sequence: readonly ArrayLike<number>[],
  labels: ArrayLike<number>,
  c: number,
): CartographyStats {
  const T = sequence.length;
  if (T === 0) throw new Error("at least one evaluation is needed");
  const trueProb = Array.from(sequence, (logits) => labelProbabilities(logits, labels, c));
  const confidence = meanOverEvaluations(trueProb);
  const correctness = meanOverEvaluations(sequence.map((logits) => correctFromLogits(logits, labels, c)));
  const variability = Float64Array.from(confidence, (mean, i) => {
    let ss = 0;
    for (const p of trueProb) {
      const d = (p[i] as number) - mean;
      ss += d * d;
    }
    return Math.sqrt(ss / T);
  });
  return { confidence, variability, correctness };
}

/** The data map regions of Dataset Cartography, in the order the report lists them. */
export const REGIONS = ["easy-to-learn", "ambiguous", "hard-to-learn"] as const;
export type Region = (typeof REGIONS)[number];

/**
 * Region of every sample on the data map: `ambiguous` when variability ≥ `variabilityThreshold`,
 * otherwise `easy-to-learn` when confidence ≥ `confidenceThreshold`, else `hard-to-learn`.
 */
export function dataMapRegions(
  confidence: ArrayLike<number>,
  variability: ArrayLike<number>,
  thresholds: { confidence: number; variability: number },
): Region[] {
  return Array.from({ length: confidence.length }, (_, i) => {
    if ((variability[i] as number) >= thresholds.variability) return "ambiguous";
    return (confidence[i] as number) >= thresholds.confidence ? "easy-to-learn" : "hard-to-learn";
  });
}

/**
 * GraNd (Paul et al. 2021) restricted to the last linear layer z = W h + b, exactly: the gradient of
 * the cross-entropy is (p − onehot(y)) hᵀ for W and p − onehot(y) for b, so its Frobenius norm is
 * ‖p − onehot(y)‖₂ · √(‖h‖² + 1). `h` is n × d, the input of that layer.
 */
export function grandLastLayer(
  logits: ArrayLike<number>,
  h: ArrayLike<number>,
  d: number,
  labels: ArrayLike<number>,
  c: number,
): Float64Array {
  const n = checkLogits(logits, labels, c);
  if (h.length !== n * d) throw new Error(`features hold ${h.length} values, expected ${n} × ${d}`);
  const p = softmaxRows(logits, n, c);
  return Float64Array.from({ length: n }, (_, i) => {
    let hh = 0;
    for (let k = 0; k < d; k++) hh += (h[i * d + k] as number) ** 2;
    return errorNorm(p, i, labels[i] as number, c) * Math.sqrt(hh + 1);
  });
}

/** The confident joint and the label issues it finds (Northcutt, Jiang & Chuang 2021). */
export interface ConfidentJoint {
  /** Per-class threshold t_j: the mean of p_j over the samples labelled j (NaN for an absent class). */
  thresholds: Float64Array;
  /** c × c counts, row = given label, column = the class each sample is confidently assigned to. */
  joint: Float64Array;
  /** The confidently assigned class of every sample, −1 when no class clears its threshold. */
  assigned: Int32Array;
  /** 1 when the sample is confidently assigned to a class other than its label. */
  issue: Uint8Array;
  /** Self-confidence p_y of every sample. */
  selfConfidence: Float64Array;
}

/**
 * Confident learning on out-of-sample probabilities `probs` (n × c): a sample x with label i counts
 * in the confident joint at (i, j*), where j* is the class with the highest p_j(x) among those with
 * p_j(x) ≥ t_j; it is a label issue when j* ≠ i. Samples for which no class clears its threshold are
 * not counted (cleanlab's `compute_confident_joint` and `find_label_issues(filter_by="confident_learning")`).
 */
export function confidentJoint(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  c: number,
): ConfidentJoint {
  const n = checkLogits(probs, labels, c);
  const sums = new Float64Array(c);
  const counts = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    if (y < 0 || y >= c) throw new Error(`label ${y} of sample ${i} is outside 0..${c - 1}`);
    sums[y] = (sums[y] as number) + (probs[i * c + y] as number);
    counts[y] = (counts[y] as number) + 1;
  }
  const thresholds = Float64Array.from(sums, (s, j) =>
    (counts[j] as number) > 0 ? s / (counts[j] as number) : Number.NaN,
  );
  const joint = new Float64Array(c * c);
  const assigned = new Int32Array(n).fill(-1);
  const issue = new Uint8Array(n);
  const selfConfidence = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    selfConfidence[i] = probs[i * c + y] as number;
    let best = -1;
    for (let j = 0; j < c; j++) {
      const p = probs[i * c + j] as number;
      if (!(p >= (thresholds[j] as number))) continue; // NaN thresholds never clear
      if (best < 0 || p > (probs[i * c + best] as number)) best = j;
    }
    if (best < 0) continue;
    assigned[i] = best;
    joint[y * c + best] = (joint[y * c + best] as number) + 1;
    if (best !== y) issue[i] = 1;
  }
  return { thresholds, joint, assigned, issue, selfConfidence };
}
