/**
 * Hand-made dynamics of four samples with label 0 over T = 4 evaluations (two classes), shared by
 * the tests of the per-sample measures (test/training/measures.test.ts) and of the scores built on
 * them (test/scoring/dynamics-math.test.ts):
 *   0 learned then forgotten then relearned: right, right, wrong, right
 *   1 never learned: wrong at every evaluation
 *   2 always right
 *   3 learned and forgotten twice: right, wrong, right, wrong
 * Two-class logits [ln 3, 0] give p = (0.75, 0.25).
 */
export const L3 = Math.log(3);
const RIGHT = [L3, 0];
const WRONG = [0, L3];
export const pattern = [
  [RIGHT, RIGHT, WRONG, RIGHT],
  [WRONG, WRONG, WRONG, WRONG],
  [RIGHT, RIGHT, RIGHT, RIGHT],
  [RIGHT, WRONG, RIGHT, WRONG],
];
export const labels = Int32Array.from([0, 0, 0, 0]);
/** The logits of each evaluation, row-major (sample, class). */
export const sequence = [0, 1, 2, 3].map((t) =>
  Float32Array.from(pattern.flatMap((sample) => sample[t] as number[])),
);
