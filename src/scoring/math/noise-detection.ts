/**
 * How well a difficulty score finds the samples whose labels were changed on purpose
 * (`dataset.label_noise`): a score is read as a detector, the harder a sample the more suspect.
 *
 * - average precision: Σ_k (R_k − R_{k−1}) P_k over the distinct score thresholds, from the
 *   hardest down (scikit-learn's `average_precision_score`: tied scores enter together);
 * - AUROC: the Mann–Whitney probability that a changed sample scores harder than a clean one, ties
 *   counting one half;
 * - recall in the hardest f of the samples: the share of changed samples among the ⌈f·N⌉ samples
 *   of highest rank (the order a curriculum uses, ties broken as the ranks are).
 */
import { averageRanks } from "../../training/measures/ranks.js";

export interface NoiseDetection {
  /** Changed samples among the scored ones. */
  flipped: number;
  samples: number;
  average_precision: number;
  auroc: number;
  /** Recall in the hardest 1 %, 5 % and 10 % of the samples. */
  recall_hardest_1pct: number;
  recall_hardest_5pct: number;
  recall_hardest_10pct: number;
}

/** How many of `flags` are true. */
function countTrue(flags: ArrayLike<boolean>): number {
  let count = 0;
  for (let i = 0; i < flags.length; i++) if (flags[i]) count++;
  return count;
}

/** Indices of `values` from the highest value down (a stable sort: ties keep index order). */
function highestFirst(values: ArrayLike<number>): number[] {
  return Array.from({ length: values.length }, (_, i) => i).sort(
    (a, b) => (values[b] as number) - (values[a] as number),
  );
}

/** Average precision of `hardness` (higher = more suspect) for the positives `flipped`. */
export function averagePrecision(hardness: ArrayLike<number>, flipped: ArrayLike<boolean>): number {
  const n = hardness.length;
  const positives = countTrue(flipped);
  if (positives === 0) return Number.NaN;
  const order = highestFirst(hardness);
  let tp = 0;
  let seen = 0;
  let recallBefore = 0;
  let ap = 0;
  for (let k = 0; k < n; ) {
    const threshold = hardness[order[k] as number] as number;
    while (k < n && hardness[order[k] as number] === threshold) {
      if (flipped[order[k] as number]) tp++;
      seen++;
      k++;
    }
    const recall = tp / positives;
    ap += (recall - recallBefore) * (tp / seen);
    recallBefore = recall;
  }
  return ap;
}

/** Area under the ROC curve of `hardness` for the positives `flipped` (midranks for ties). */
export function auroc(hardness: ArrayLike<number>, flipped: ArrayLike<boolean>): number {
  const n = hardness.length;
  const rank = averageRanks(hardness);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if (flipped[i]) {
      positives++;
      rankSum += rank[i] as number;
    }
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Share of the positives among the ⌈fraction·N⌉ samples of highest `ranks`. */
export function recallInHardest(
  ranks: ArrayLike<number>,
  flipped: ArrayLike<boolean>,
  fraction: number,
): number {
  const n = ranks.length;
  const positives = countTrue(flipped);
  if (positives === 0) return Number.NaN;
  const order = highestFirst(ranks);
  const top = Math.ceil(fraction * n);
  let found = 0;
  for (let k = 0; k < top; k++) if (flipped[order[k] as number]) found++;
  return found / positives;
}

/**
 * Every detection figure of one score. `mean` is the ranked score, `reverse` true when a high score
 * means easy (so hardness is −mean), `ranks` its normalised ranks (1 = hardest).
 */
export function noiseDetection(
  mean: ArrayLike<number>,
  reverse: boolean,
  ranks: ArrayLike<number>,
  flipped: ArrayLike<boolean>,
): NoiseDetection {
  const hardness = Float64Array.from(mean as ArrayLike<number>, (v) => (reverse ? -v : v));
  return {
    flipped: countTrue(flipped),
    samples: mean.length,
    average_precision: averagePrecision(hardness, flipped),
    auroc: auroc(hardness, flipped),
    recall_hardest_1pct: recallInHardest(ranks, flipped, 0.01),
    recall_hardest_5pct: recallInHardest(ranks, flipped, 0.05),
    recall_hardest_10pct: recallInHardest(ranks, flipped, 0.1),
  };
}

/** Precision and recall of a flag (ConfidentLearning's `label_issue`) for the changed samples. */
export function flagPrecisionRecall(
  flag: ArrayLike<boolean>,
  flipped: ArrayLike<boolean>,
): { flagged: number; precision: number; recall: number } {
  let flagged = 0;
  let hits = 0;
  let positives = 0;
  for (let i = 0; i < flag.length; i++) {
    if (flag[i]) flagged++;
    if (flipped[i]) positives++;
    if (flag[i] && flipped[i]) hits++;
  }
  return {
    flagged,
    precision: flagged > 0 ? hits / flagged : Number.NaN,
    recall: positives > 0 ? hits / positives : Number.NaN,
  };
}
