import { Rng } from "../../util/rng.js";

/** How equal scores are ordered before normalising ranks. */
export type TieBreak = "first" | "random";

/**
 * Ranks scores and normalises the ranks to [0, 1]: 0 = easiest, 1 = hardest (aucurriculum
 * `rank_and_normalize`). Scores are ranked ascending (low score = easy), or descending when `reverse`
 * (high score = easy, e.g. accuracy). Ties get consecutive ranks: in order of appearance for
 * `tieBreak: "first"` (pandas `rank(method="first")`), in a seeded random order for `"random"`, so
 * large blocks of equal scores (e.g. FirstIteration) are not ordered by dataset position.
 * Rank r (1..N) becomes (r − 1)/(N − 1); a single sample gets 0 (the original's 0/0 = NaN is useless
 * to a sampler). NaN scores rank last (hardest) in order of appearance.
 */
export function rankAndNormalize(
  values: ArrayLike<number>,
  reverse: boolean,
  tieBreak: TieBreak = "first",
  seed = 0,
): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  if (n <= 1) return out;
  // Tie order: position for "first", a seeded permutation for "random".
  const tieKey = tieBreak === "random" ? inversePermutation(new Rng(seed).permutation(n)) : null;
  const order = Array.from({ length: n }, (_, i) => i);
  const sign = reverse ? -1 : 1;
  order.sort((a, b) => {
    const va = values[a] as number;
    const vb = values[b] as number;
    const na = Number.isNaN(va);
    const nb = Number.isNaN(vb);
    if (na !== nb) return na ? 1 : -1;
    if (!na && va !== vb) return sign * (va - vb);
    return tieKey ? (tieKey[a] as number) - (tieKey[b] as number) : a - b;
  });
  for (let r = 0; r < n; r++) out[order[r] as number] = r / (n - 1);
  return out;
}

function inversePermutation(p: Int32Array): Int32Array {
  const inv = new Int32Array(p.length);
  for (let i = 0; i < p.length; i++) inv[p[i] as number] = i;
  return inv;
}

/** How much the ranking of a score depends on tie breaking (reported in each score's card). */
export interface TieStatistics {
  /** Number of samples. */
  count: number;
  /** Number of distinct score values (NaN counts as one value). */
  distinct: number;
  /** Size of the largest block of equal scores. */
  largestTie: number;
  /** Fraction of samples whose score equals at least one other sample's. */
  tiedFraction: number;
}

export function tieStatistics(values: ArrayLike<number>): TieStatistics {
  const counts = new Map<number, number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    const key = Number.isNaN(v) ? Number.NaN : v === 0 ? 0 : v; // -0 and 0 are one value
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let largest = 0;
  let tied = 0;
  for (const c of counts.values()) {
    largest = Math.max(largest, c);
    if (c > 1) tied += c;
  }
  const n = values.length;
  return { count: n, distinct: counts.size, largestTie: largest, tiedFraction: n === 0 ? 0 : tied / n };
}
