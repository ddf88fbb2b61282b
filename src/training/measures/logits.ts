import { argmaxRow } from "../metrics.js";

/**
 * Per-sample measures of one evaluation's logits, the one implementation that the scoring
 * functions (src/scoring/functions/) and a curriculum that re-scores itself from its own outputs
 * (src/curriculum/rescore.ts) both compute. Pure functions over row-major typed arrays
 * (`logits[i * c + k]` is class k of sample i), in float64 from the saved float32 logits, so a
 * numpy computation on the same `.npy` files agrees to rounding. A prediction is the trainer's
 * arg-max (`argmaxRow`: the first largest logit), so scores and dev metrics agree on ties.
 */

/** The number of samples, after checking that the logits (or probabilities) hold n × c values. */
export function checkLogits(logits: ArrayLike<number>, labels: ArrayLike<number>, c: number): number {
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

/**
 * Shannon entropy (natural log) of each row's softmax: FiftyOne Brain's `hardness`,
 * `entropy(softmax(logits))` (voxel51/fiftyone-brain, `internal/core/hardness.py`); 0·log 0 counts as 0.
 */
export function softmaxEntropy(logits: ArrayLike<number>, n: number, c: number): Float64Array {
  const out = new Float64Array(n);
  const e = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < c; j++) max = Math.max(max, logits[i * c + j] as number);
    let sum = 0;
    for (let j = 0; j < c; j++) {
      e[j] = Math.exp((logits[i * c + j] as number) - max);
      sum += e[j] as number;
    }
    let h = 0;
    for (let j = 0; j < c; j++) {
      const p = (e[j] as number) / sum;
      if (p > 0) h -= p * Math.log(p);
    }
    out[i] = h;
  }
  return out;
}

/**
 * FiftyOne Brain's classification `mistakenness` from logits (`internal/core/mistakenness.py`): with
 * c = −entropy(softmax(z)) and m = +1 when the prediction differs from the label, −1 when it
 * agrees, (m·exp(c) + 1) / 2. Confident mistakes approach 1, confident agreement 0, uncertain
 * predictions ½.
 */
export function mistakenness(logits: ArrayLike<number>, labels: ArrayLike<number>, c: number): Float64Array {
  const n = labels.length;
  const entropy = softmaxEntropy(logits, n, c);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const m = argmaxRow(logits, i, c) === labels[i] ? -1 : 1;
    out[i] = (m * Math.exp(-(entropy[i] as number)) + 1) / 2;
  }
  return out;
}

/** ‖p_i − onehot(y)‖₂ of row i of row-major probabilities `p` (n × c). */
export function errorNorm(p: Float64Array, i: number, y: number, c: number): number {
  let s = 0;
  for (let k = 0; k < c; k++) {
    const e = (p[i * c + k] as number) - (k === y ? 1 : 0);
    s += e * e;
  }
  return Math.sqrt(s);
}

/** EL2N (Paul et al. 2021): ‖softmax(z) − onehot(y)‖₂ per sample. */
export function el2n(logits: ArrayLike<number>, labels: ArrayLike<number>, c: number): Float64Array {
  const n = checkLogits(logits, labels, c);
  const p = softmaxRows(logits, n, c);
  return Float64Array.from({ length: n }, (_, i) => errorNorm(p, i, labels[i] as number, c));
}

/** The margin z_y − max_{k≠y} z_k of every sample (AUM's per-evaluation margin, Pleiss et al. 2020). */
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

/** The softmax probability of the label, p_y, of every sample (Dataset Cartography's per-evaluation confidence). */
export function labelProbabilities(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  c: number,
): Float64Array {
  const n = checkLogits(logits, labels, c);
  const p = softmaxRows(logits, n, c);
  return Float64Array.from(labels, (y, i) => p[i * c + y] as number);
}

/** 1 where the prediction (the arg-max logit) is the label, 0 elsewhere. */
export function correctFromLogits(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  c: number,
): Uint8Array {
  const n = checkLogits(logits, labels, c);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = argmaxRow(logits, i, c) === labels[i] ? 1 : 0;
  return out;
}
