import type { Subset } from "../data/types.js";
import type { Network } from "../engine/types.js";
import type { SubsetOutputs } from "../results/subset-outputs.js";
import { perSampleCrossEntropy, reduceLosses } from "./criteria.js";
import { argmaxRows, computeMetrics } from "./metrics.js";
import type { MetricValues } from "./types.js";

/**
 * Forward pass in eval mode over every row of `subset`, batched by `batchSize`. `indexMap`
 * translates view positions into base-subset positions (a training view restricted to folds);
 * `onRows` is told after each batch how many rows it held (progress).
 */
export function forwardSubset(
  network: Network,
  subset: Subset,
  batchSize: number,
  classWeights: Float32Array | null,
  indexMap?: Int32Array,
  onRows?: (rows: number) => void,
): SubsetOutputs {
  const numClasses = network.spec.outputDim;
  const n = subset.size;
  const logits = new Float32Array(n * numClasses);
  const targets = new Int32Array(n);
  const indices = new Int32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const positions = new Int32Array(end - start);
    for (let i = 0; i < positions.length; i++) positions[i] = start + i;
    const batch = subset.batch(positions);
    const result = network.forward(batch.x, positions.length, []);
    if (result.logits.length !== positions.length * numClasses) {
      throw new Error(
        `forward pass returned ${result.logits.length} logits for ${positions.length} rows of ${numClasses} classes`,
      );
    }
    logits.set(result.logits, start * numClasses);
    targets.set(batch.y, start);
    for (let i = 0; i < positions.length; i++) {
      const p = batch.index[i] as number;
      indices[start + i] = indexMap ? (indexMap[p] as number) : p;
    }
    onRows?.(positions.length);
  }
  const losses = perSampleCrossEntropy(logits, targets, numClasses, classWeights);
  return { logits, numClasses, targets, indices, losses };
}

/** Metrics of a subset's outputs plus the criterion's mean loss (weighted mean for class weights). */
export function scoreOutputs(
  outputs: SubsetOutputs,
  metricNames: readonly string[],
  classWeights: Float32Array | null,
): { metrics: MetricValues; loss: number } {
  const predictions = argmaxRows(outputs.logits, outputs.numClasses);
  const metrics = computeMetrics(metricNames, predictions, outputs.targets, outputs.numClasses);
  return { metrics, loss: reduceLosses(outputs.losses, outputs.targets, classWeights) };
}

/** `{metric: {all: v}, ...}` as in autrainer's disaggregated results YAMLs. */
export function resultsYaml(
  values: MetricValues,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) out[key] = { all: value };
  return { ...out, ...extra };
}
