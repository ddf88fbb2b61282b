import { argmaxRow } from "../../training/metrics.js";

/** Re-exported for the scoring functions: the trainer's argmax, so scores and dev metrics agree. */
export { argmaxRow };

/**
 * Per-sample statistics of a correctness matrix: `correct[t * n + i]` is 1 when sample i was
 * classified correctly at the t-th evaluated iteration (t ascending), 0 otherwise; `n` samples, `t`
 * iterations. Pure functions so CumulativeAccuracy and FirstIteration can be checked by hand.
 */

/** Builds the correctness row of one iteration: argmax of each row of logits equals the label. */
export function correctFromLogits(logits: Float32Array, labels: Int32Array, numClasses: number): Uint8Array {
  const n = labels.length;
  if (logits.length !== n * numClasses) {
    throw new Error(`logits hold ${logits.length} values, expected ${n} × ${numClasses}`);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = argmaxRow(logits, i, numClasses) === labels[i] ? 1 : 0;
  return out;
}

/**
 * Sum and count of correct predictions per sample (CumulativeAccuracy keeps both so an ensemble can
 * pool them: mean = Σ sums / Σ counts).
 */
export function cumulativeAccuracy(
  correct: Uint8Array,
  n: number,
  iterations: number,
): { sum: Float64Array; count: Float64Array } {
  checkShape(correct, n, iterations);
  const sum = new Float64Array(n);
  const count = new Float64Array(n).fill(iterations);
  for (let t = 0; t < iterations; t++) {
    for (let i = 0; i < n; i++) sum[i] = (sum[i] as number) + (correct[t * n + i] as number);
  }
  return { sum, count };
}

/**
 * FirstIteration score (T − L)/T where L is the length of the trailing run of correct predictions,
 * counted backwards from the last iteration: 0 = learnt at the first iteration and never forgotten,
 * 1 = wrong at the last iteration.
 */
export function firstIteration(correct: Uint8Array, n: number, iterations: number): Float64Array {
  checkShape(correct, n, iterations);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let trailing = 0;
    for (let t = iterations - 1; t >= 0 && correct[t * n + i] === 1; t--) trailing++;
    out[i] = (iterations - trailing) / iterations;
  }
  return out;
}

function checkShape(correct: Uint8Array, n: number, iterations: number): void {
  if (iterations < 1) throw new Error("at least one iteration is needed");
  if (correct.length !== n * iterations) {
    throw new Error(`correctness matrix holds ${correct.length} values, expected ${iterations} × ${n}`);
  }
}
