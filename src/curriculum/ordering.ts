import type { CurriculumType } from "../config/schema.js";
import { Rng } from "../util/rng.js";

/**
 * Positions of the training subset from the first sample to show to the last:
 * - `Curriculum`: easiest first (ranks ascending; ties keep subset order);
 * - `AntiCurriculum`: hardest first (ranks descending; ties keep subset order), the
 *   anti-curriculum of Wu et al., arXiv 2012.03107;
 * - `RandomCurriculum`: a fixed random order drawn from `seed`, ignoring the ranks. It is the
 *   control of the same paper: same pacing, same subset sizes, no difficulty signal, so any gain
 *   of `Curriculum` over it comes from the ordering and not from the pacing alone.
 */
export function difficultyOrder(ranks: ArrayLike<number>, type: CurriculumType, seed: number): Int32Array {
  const n = ranks.length;
  if (type === "RandomCurriculum") return Rng.derive(seed, "random-curriculum-order").permutation(n);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const sign = type === "AntiCurriculum" ? -1 : 1;
  // Int32Array.prototype.sort is not guaranteed stable with a comparator: break ties explicitly.
  order.sort((a, b) => sign * ((ranks[a] as number) - (ranks[b] as number)) || a - b);
  return order;
}
