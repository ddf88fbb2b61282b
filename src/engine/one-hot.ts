/** The cross-entropy target both engines train against. */

/**
 * Rows of the cross-entropy target: w[y_i] / sum_j w[y_j] at the label, 0 elsewhere, so that
 * -sum(target * log_softmax(logits)) is PyTorch's (weighted) mean cross-entropy. Per-sample loss
 * weights `s` (a dynamic sampler's, e.g. InfoBatch's rescaling) multiply the numerator only:
 * sum_i s_i w[y_i] l_i / sum_i w[y_i], PyTorch's `(s * CrossEntropyLoss(weight=w,
 * reduction="none")(z, y)).sum() / w[y].sum()`.
 */
export function weightedOneHot(
  y: Int32Array,
  batchSize: number,
  numClasses: number,
  classWeights: Float32Array | null,
  sampleWeights: Float32Array | null = null,
): Float32Array {
  if (y.length !== batchSize) throw new Error(`trainStep: expected ${batchSize} labels, got ${y.length}`);
  if (classWeights && classWeights.length !== numClasses) {
    throw new Error(`trainStep: expected ${numClasses} class weights, got ${classWeights.length}`);
  }
  if (sampleWeights && sampleWeights.length !== batchSize) {
    throw new Error(`trainStep: expected ${batchSize} sample weights, got ${sampleWeights.length}`);
  }
  const target = new Float32Array(batchSize * numClasses);
  let total = 0;
  for (let i = 0; i < batchSize; i++) {
    const label = y[i] as number;
    if (!(label >= 0 && label < numClasses && Number.isInteger(label))) {
      throw new Error(`trainStep: label ${label} at batch position ${i} is outside [0, ${numClasses})`);
    }
    const w = classWeights ? (classWeights[label] as number) : 1;
    if (!(w >= 0)) throw new Error(`trainStep: class weight of class ${label} is ${w}; expected >= 0`);
    total += w;
  }
  if (!(total > 0)) throw new Error("trainStep: the class weights of this batch sum to 0");
  for (let i = 0; i < batchSize; i++) {
    const label = y[i] as number;
    const w = classWeights ? (classWeights[label] as number) : 1;
    if (sampleWeights === null) {
      target[i * numClasses + label] = w / total;
      continue;
    }
    const s = sampleWeights[i] as number;
    if (!(s >= 0 && Number.isFinite(s))) {
      throw new Error(
        `trainStep: sample weight at batch position ${i} is ${s}; expected a finite value >= 0`,
      );
    }
    target[i * numClasses + label] = (w * s) / total;
  }
  return target;
}
