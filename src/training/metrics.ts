import { ConfigError } from "../util/errors.js";

/**
 * Classification metrics as pure functions over encoded predictions and labels. All three are
 * "higher is better" (autrainer's ascending metrics); the tracking metric picks `_best` with a
 * strict improvement.
 */
export const METRIC_NAMES = ["accuracy", "uar", "f1"] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** Starting value of the best-so-far tracker (autrainer's -1e32 for ascending metrics). */
export const WORST_METRIC_VALUE = -1e32;

function checkLengths(predictions: Int32Array, labels: Int32Array): void {
  if (predictions.length !== labels.length) {
    throw new Error(`metrics: ${predictions.length} predictions but ${labels.length} labels`);
  }
}

/** Per-class confusion counts: true positives, predicted counts and label counts. */
function classCounts(
  predictions: Int32Array,
  labels: Int32Array,
  numClasses: number,
): { tp: Float64Array; predicted: Float64Array; actual: Float64Array } {
  const tp = new Float64Array(numClasses);
  const predicted = new Float64Array(numClasses);
  const actual = new Float64Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    const p = predictions[i] as number;
    actual[y] = (actual[y] as number) + 1;
    predicted[p] = (predicted[p] as number) + 1;
    if (y === p) tp[y] = (tp[y] as number) + 1;
  }
  return { tp, predicted, actual };
}

/** Fraction of samples whose prediction equals the label (0 for an empty set). */
export function accuracy(predictions: Int32Array, labels: Int32Array): number {
  checkLengths(predictions, labels);
  if (labels.length === 0) return 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct / labels.length;
}

/**
 * Unweighted average recall: the mean over the classes present in `labels` of that class's recall,
 * so every class counts equally however rare (Schuller et al., Interspeech 2009 challenge metric).
 */
export function unweightedAverageRecall(
  predictions: Int32Array,
  labels: Int32Array,
  numClasses: number,
): number {
  checkLengths(predictions, labels);
  const { tp, actual } = classCounts(predictions, labels, numClasses);
  let sum = 0;
  let present = 0;
  for (let c = 0; c < numClasses; c++) {
    const n = actual[c] as number;
    if (n > 0) {
      sum += (tp[c] as number) / n;
      present++;
    }
  }
  return present === 0 ? 0 : sum / present;
}

/**
 * Macro F1: the unweighted mean of per-class F1 over the classes that occur in the labels or the
 * predictions (scikit-learn's and audmetric's label set); precision or recall of 0/0 count as 0.
 */
export function macroF1(predictions: Int32Array, labels: Int32Array, numClasses: number): number {
  checkLengths(predictions, labels);
  const { tp, predicted, actual } = classCounts(predictions, labels, numClasses);
  let sum = 0;
  let present = 0;
  for (let c = 0; c < numClasses; c++) {
    const a = actual[c] as number;
    const p = predicted[c] as number;
    if (a === 0 && p === 0) continue;
    present++;
    const t = tp[c] as number;
    const precision = p > 0 ? t / p : 0;
    const recall = a > 0 ? t / a : 0;
    sum += precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  }
  return present === 0 ? 0 : sum / present;
}

/** Computes the named metrics, in the order given. */
export function computeMetrics(
  names: readonly string[],
  predictions: Int32Array,
  labels: Int32Array,
  numClasses: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of names) {
    switch (name) {
      case "accuracy":
        out[name] = accuracy(predictions, labels);
        break;
      case "uar":
        out[name] = unweightedAverageRecall(predictions, labels, numClasses);
        break;
      case "f1":
        out[name] = macroF1(predictions, labels, numClasses);
        break;
      default:
        throw new ConfigError(
          "dataset.metrics",
          `unknown metric '${name}' (expected one of ${METRIC_NAMES.join(", ")})`,
        );
    }
  }
  return out;
}

/**
 * Index of the largest value of row `row` of a row-major matrix `width` wide (first maximum wins,
 * as numpy/torch argmax; NaN loses to any number, so a diverged logit does not decide the class).
 */
export function argmaxRow(values: ArrayLike<number>, row: number, width: number): number {
  const base = row * width;
  let best = 0;
  let bestValue = values[base] as number;
  for (let c = 1; c < width; c++) {
    const v = values[base + c] as number;
    if (v > bestValue || (Number.isNaN(bestValue) && !Number.isNaN(v))) {
      best = c;
      bestValue = v;
    }
  }
  return best;
}

/** Row-wise argmax of row-major logits (see `argmaxRow`). */
export function argmaxRows(logits: Float32Array, numClasses: number): Int32Array {
  const n = Math.floor(logits.length / numClasses);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = argmaxRow(logits, i, numClasses);
  return out;
}

/** True when `value` strictly improves on `best` (all metrics here are higher-is-better; NaN never improves). */
export function isImprovement(value: number, best: number): boolean {
  return !Number.isNaN(value) && value > best;
}

/** Confusion counts, `numClasses × numClasses` row-major: row = true class, column = predicted. */
export function confusionMatrix(
  predictions: Int32Array,
  labels: Int32Array,
  numClasses: number,
): Float64Array {
  checkLengths(predictions, labels);
  const out = new Float64Array(numClasses * numClasses);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    const p = predictions[i] as number;
    if (y < 0 || y >= numClasses || p < 0 || p >= numClasses) {
      throw new RangeError(`confusionMatrix: class ${y} or prediction ${p} outside 0..${numClasses - 1}`);
    }
    out[y * numClasses + p] = (out[y * numClasses + p] as number) + 1;
  }
  return out;
}

/** Precision, recall, F1 and support of each class from confusion counts (0/0 counts as 0). */
export function perClassMetrics(
  confusion: ArrayLike<number>,
  numClasses: number,
): { precision: number; recall: number; f1: number; support: number }[] {
  return Array.from({ length: numClasses }, (_, c) => {
    let actual = 0;
    let predicted = 0;
    for (let k = 0; k < numClasses; k++) {
      actual += confusion[c * numClasses + k] as number;
      predicted += confusion[k * numClasses + c] as number;
    }
    const tp = confusion[c * numClasses + c] as number;
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = actual > 0 ? tp / actual : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support: actual };
  });
}
