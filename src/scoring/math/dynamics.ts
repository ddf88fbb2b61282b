import { argmaxRow } from "../../training/metrics.js";

/**
 * Per-sample statistics of training dynamics and of out-of-sample probabilities, as pure functions
 * over typed arrays (row-major: `logits[i * c + k]` is class k of sample i; sequences are one array
 * per evaluated iteration). Every statistic is computed in float64 from the saved float32 logits,
 * so a numpy computation on the same `.npy` files agrees to rounding.
 */

function checkLogits(logits: ArrayLike<number>, labels: ArrayLike<number>, c: number): number {
  const n = labels.length;
  if (logits.length !== n * c) throw new Error(`logits hold ${logits.length} values, expected ${n} × ${c}`);
  return n;
}

/** Row-wise softmax in float64 (max-shifted). */
export function softmaxRows(logits: ArrayLike<number>, n: number, c: number): Float64Array {
  if (logits.length !== n * c) throw new Error(`logits hold ${logits.length} values, expected ${n} × ${c}`);
  const out = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < c; k++) max = Math.max(max, logits[i * c + k] as number);
    let sum = 0;
    for (let k = 0; k < c; k++) {
      const e = Math.exp((logits[i * c + k] as number) - max);
      out[i * c + k] = e;
      sum += e;
    }
    for (let k = 0; k < c; k++) out[i * c + k] = (out[i * c + k] as number) / sum;
  }
  return out;
}

/** The margin z_y − max_{k≠y} z_k of every sample (AUM's per-evaluation margin). */
export function logitMargins(logits: ArrayLike<number>, labels: ArrayLike<number>, c: number): Float64Array {
  const n = checkLogits(logits, labels, c);
  if (c < 2) throw new Error("a margin needs at least two classes");
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    let other = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < c; k++) if (k !== y) other = Math.max(other, logits[i * c + k] as number);
    out[i] = (logits[i * c + y] as number) - other;
  }
  return out;
}

/** Area under the margin: the mean over evaluations of the logit margin (Pleiss et al. 2020). */
export function areaUnderMargin(
  sequence: readonly ArrayLike<number>[],
  labels: ArrayLike<number>,
  c: number,
): Float64Array {
  if (sequence.length === 0) throw new Error("at least one evaluation is needed");
  const n = labels.length;
  const out = new Float64Array(n);
  for (const logits of sequence) {
    const m = logitMargins(logits, labels, c);
    for (let i = 0; i < n; i++) out[i] = (out[i] as number) + (m[i] as number);
  }
  for (let i = 0; i < n; i++) out[i] = (out[i] as number) / sequence.length;
  return out;
}

/**
 * Forgetting events (Toneva et al. 2019): how often a sample goes from correct at one evaluation to
 * wrong at the next. `correct` is T × n (row t = evaluation t). A sample never correct at any
 * evaluation gets T, more than any learned sample can reach (at most ⌊T/2⌋ events).
 */
export function forgettingEvents(correct: Uint8Array, n: number, iterations: number): Float64Array {
  if (iterations < 1) throw new Error("at least one iteration is needed");
  if (correct.length !== n * iterations) {
    throw new Error(`correctness matrix holds ${correct.length} values, expected ${iterations} × ${n}`);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let events = 0;
    let learned = false;
    for (let t = 0; t < iterations; t++) {
      const now = correct[t * n + i] === 1;
      if (now) learned = true;
      if (t > 0 && correct[(t - 1) * n + i] === 1 && !now) events++;
    }
    out[i] = learned ? events : iterations;
  }
  return out;
}

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
  const n = labels.length;
  const trueProb = Array.from(sequence, (logits) => {
    checkLogits(logits, labels, c);
    const p = softmaxRows(logits, n, c);
    return Float64Array.from(labels, (y, i) => p[i * c + y] as number);
  });
  const confidence = new Float64Array(n);
  const variability = new Float64Array(n);
  const correctness = new Float64Array(n);
  for (const [t, logits] of sequence.entries()) {
    const p = trueProb[t] as Float64Array;
    for (let i = 0; i < n; i++) {
      confidence[i] = (confidence[i] as number) + (p[i] as number);
      if (argmaxRow(logits, i, c) === labels[i]) correctness[i] = (correctness[i] as number) + 1;
    }
  }
  for (let i = 0; i < n; i++) {
    const mean = (confidence[i] as number) / T;
    let ss = 0;
    for (let t = 0; t < T; t++) {
      const d = ((trueProb[t] as Float64Array)[i] as number) - mean;
      ss += d * d;
    }
    confidence[i] = mean;
    variability[i] = Math.sqrt(ss / T);
    correctness[i] = (correctness[i] as number) / T;
  }
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

/** EL2N (Paul et al. 2021): ‖softmax(z) − onehot(y)‖₂ per sample. */
export function el2n(logits: ArrayLike<number>, labels: ArrayLike<number>, c: number): Float64Array {
  const n = checkLogits(logits, labels, c);
  const p = softmaxRows(logits, n, c);
  return Float64Array.from({ length: n }, (_, i) => errorNorm(p, i, labels[i] as number, c));
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

function errorNorm(p: Float64Array, i: number, y: number, c: number): number {
  let s = 0;
  for (let k = 0; k < c; k++) {
    const e = (p[i * c + k] as number) - (k === y ? 1 : 0);
    s += e * e;
  }
  return Math.sqrt(s);
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
