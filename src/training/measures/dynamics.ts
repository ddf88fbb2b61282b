import { logitMargins } from "./logits.js";

/**
 * Per-sample measures of training dynamics: statistics over a run's evaluations, oldest first. A
 * correctness matrix is T × n: `correct[t * n + i]` is 1 when sample i was classified correctly at
 * the t-th evaluation (`correctFromLogits`), 0 otherwise. The scoring functions and a re-scored
 * curriculum (src/curriculum/rescore.ts) compute them here.
 */

/** The per-sample mean of one statistic over evaluations (each an array of n values), summed oldest first. */
export function meanOverEvaluations(stats: readonly ArrayLike<number>[]): Float64Array {
  const first = stats[0];
  if (!first) throw new Error("at least one evaluation is needed");
  const n = first.length;
  const out = new Float64Array(n);
  for (const s of stats) {
    if (s.length !== n) throw new Error(`an evaluation holds ${s.length} values, expected ${n}`);
    for (let i = 0; i < n; i++) out[i] = (out[i] as number) + (s[i] as number);
  }
  for (let i = 0; i < n; i++) out[i] = (out[i] as number) / stats.length;
  return out;
}

/** Area under the margin: the mean over evaluations of the logit margin (Pleiss et al. 2020). */
export function areaUnderMargin(
  sequence: readonly ArrayLike<number>[],
  labels: ArrayLike<number>,
  c: number,
): Float64Array {
  if (sequence.length === 0) throw new Error("at least one evaluation is needed");
  return meanOverEvaluations(sequence.map((logits) => logitMargins(logits, labels, c)));
}

/** T × n correctness matrix from one row of n values per evaluation (oldest first). */
export function stackCorrectness(rows: readonly ArrayLike<number>[]): Uint8Array {
  const n = rows[0]?.length ?? 0;
  const out = new Uint8Array(rows.length * n);
  rows.forEach((row, t) => {
    if (row.length !== n) throw new Error(`an evaluation holds ${row.length} values, expected ${n}`);
    out.set(row, t * n);
  });
  return out;
}

/**
 * Sum and count of correct predictions per sample (Swayamdipta et al. 2020's correctness;
 * CumulativeAccuracy keeps both so an ensemble can pool them: mean = Σ sums / Σ counts).
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

/**
 * Forgetting events (Toneva et al. 2019): how often a sample goes from correct at one evaluation to
 * wrong at the next. A sample never correct at any evaluation gets T, more than any learned sample
 * can reach (at most ⌊T/2⌋ events).
 */
export function forgettingEvents(correct: Uint8Array, n: number, iterations: number): Float64Array {
  checkShape(correct, n, iterations);
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

function checkShape(correct: Uint8Array, n: number, iterations: number): void {
  if (iterations < 1) throw new Error("at least one iteration is needed");
  if (correct.length !== n * iterations) {
    throw new Error(`correctness matrix holds ${correct.length} values, expected ${iterations} × ${n}`);
  }
}
