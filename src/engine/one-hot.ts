/** The cross-entropy target both engines train against. */

/**
 * Rows of the cross-entropy target: w[y_i] / sum_j w[y_j] at the label, 0 elsewhere, so that
 * -sum(target * log_softmax(logits)) is PyTorch's (weighted) mean cross-entropy.
 */
export function weightedOneHot(
  y: Int32Array,
  batchSize: number,
  numClasses: number,
  classWeights: Float32Array | null,
): Float32Array {
  if (y.length !== batchSize) throw new Error(`trainStep: expected ${batchSize} labels, got ${y.length}`);
  if (classWeights && classWeights.length !== numClasses) {
    throw new Error(`trainStep: expected ${numClasses} class weights, got ${classWeights.length}`);
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
    target[i * numClasses + label] = (classWeights ? (classWeights[label] as number) : 1) / total;
  }
  return target;
}
