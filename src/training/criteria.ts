import type { DatasetConfig } from "../config/schema.js";

/**
 * Cross-entropy criteria. Training uses the engine's batched loss; these pure functions give the
 * per-sample losses written next to the outputs of every evaluation and used by scoring (CELoss).
 */
export type CriterionName = DatasetConfig["criterion"];

/**
 * Per-sample softmax cross-entropy `w[y_i] * (logsumexp(z_i) - z_{i,y_i})` (PyTorch's
 * `CrossEntropyLoss(weight=w, reduction="none")`), computed in float64 with the max subtracted so
 * large logits neither overflow nor lose precision.
 */
export function perSampleCrossEntropy(
  logits: Float32Array,
  labels: Int32Array,
  numClasses: number,
  classWeights?: Float32Array | null,
): Float32Array {
  const n = labels.length;
  if (logits.length !== n * numClasses) {
    throw new Error(`cross-entropy: ${logits.length} logits do not form ${n} rows of ${numClasses} classes`);
  }
  if (classWeights && classWeights.length !== numClasses) {
    throw new Error(`cross-entropy: ${classWeights.length} class weights for ${numClasses} classes`);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * numClasses;
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < numClasses; c++) max = Math.max(max, logits[base + c] as number);
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += Math.exp((logits[base + c] as number) - max);
    const y = labels[i] as number;
    if (y < 0 || y >= numClasses) throw new Error(`cross-entropy: label ${y} outside 0..${numClasses - 1}`);
    const loss = Math.log(sum) + max - (logits[base + y] as number);
    out[i] = classWeights ? (classWeights[y] as number) * loss : loss;
  }
  return out;
}

/**
 * The criterion's reduction of per-sample losses: the plain mean, or with class weights the
 * weighted mean `sum_i w[y_i] l_i / sum_i w[y_i]` (PyTorch's "mean" with `weight`), where the
 * `losses` already hold `w[y_i] l_i`. 0 for an empty set or all-zero weights.
 */
export function reduceLosses(
  losses: Float32Array,
  labels: Int32Array,
  classWeights?: Float32Array | null,
): number {
  let sum = 0;
  let denominator = 0;
  for (let i = 0; i < losses.length; i++) {
    sum += losses[i] as number;
    denominator += classWeights ? (classWeights[labels[i] as number] as number) : 1;
  }
  return denominator > 0 ? sum / denominator : 0;
}

/** Number of samples of each class code. */
export function countClasses(labels: ArrayLike<number>, numClasses: number): Int32Array {
  const counts = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    counts[y] = (counts[y] as number) + 1;
  }
  return counts;
}

/**
 * Balanced class weights `w_c = (1/n_c) / sum_k (1/n_k)` over the classes present (autrainer's
 * BalancedCrossEntropyLoss). A class without samples gets weight 0 rather than a division by zero,
 * so a curriculum subset that lacks a class still trains (the original breaks there: docs/differences.md, item 7).
 */
export function balancedClassWeights(labels: ArrayLike<number>, numClasses: number): Float32Array {
  const counts = countClasses(labels, numClasses);
  let total = 0;
  for (const n of counts) if (n > 0) total += 1 / n;
  const weights = new Float32Array(numClasses);
  if (total === 0) return weights;
  for (let c = 0; c < numClasses; c++) {
    const n = counts[c] as number;
    weights[c] = n > 0 ? 1 / n / total : 0;
  }
  return weights;
}

/** The class weights a criterion trains with on the given training labels (null = unweighted). */
export function criterionClassWeights(
  criterion: CriterionName,
  trainLabels: ArrayLike<number>,
  numClasses: number,
): Float32Array | null {
  return criterion === "BalancedCrossEntropy" ? balancedClassWeights(trainLabels, numClasses) : null;
}
