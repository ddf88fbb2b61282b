import { balancedClassWeights } from "../training/criteria.js";
import { CurriculaError } from "../util/errors.js";

/** How a subset of `size` samples is split over the classes. */
export type SamplingMode = "Unbalanced" | "Balanced" | "Original";

export const SAMPLING_MODES: readonly SamplingMode[] = ["Unbalanced", "Balanced", "Original"];

/** Rounds to the nearest integer, halves to the even neighbour (Python's and numpy's `round`). */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Per-class sample counts of `labels` (codes 0..numClasses-1). */
export function classCounts(
  labels: ArrayLike<number>,
  numClasses: number,
  positions?: ArrayLike<number>,
): Int32Array {
  const counts = new Int32Array(numClasses);
  const n = positions ? positions.length : labels.length;
  for (let i = 0; i < n; i++) {
    const label = labels[positions ? (positions[i] as number) : i] as number;
    if (!(label >= 0 && label < numClasses)) {
      throw new CurriculaError(`label ${label} outside 0..${numClasses - 1}`);
    }
    counts[label] = (counts[label] as number) + 1;
  }
  return counts;
}

/**
 * Per-class quotas of the Original mode: n_c = round_half_even(p_c · size) with p_c the class's
 * share of the whole training set, as the reference; when rounding up pushes the total past `size`
 * (e.g. three equal classes and size 5 → 2+2+2) the classes rounded up the most give one back
 * (ties: the higher class code first), so the total never exceeds `size`.
 */
export function originalQuotas(totals: ArrayLike<number>, size: number): Int32Array {
  const c = totals.length;
  let n = 0;
  for (let k = 0; k < c; k++) n += totals[k] as number;
  const quotas = new Int32Array(c);
  const excess: number[] = [];
  let sum = 0;
  for (let k = 0; k < c; k++) {
    const exact = n === 0 ? 0 : ((totals[k] as number) / n) * size;
    const quota = roundHalfEven(exact);
    quotas[k] = quota;
    excess.push(quota - exact);
    sum += quota;
  }
  const byExcess = Array.from({ length: c }, (_, k) => k).sort(
    (a, b) => (excess[b] as number) - (excess[a] as number) || b - a,
  );
  for (let j = 0; sum > size; j = (j + 1) % c) {
    const k = byExcess[j] as number;
    if ((quotas[k] as number) > 0) {
      quotas[k] = (quotas[k] as number) - 1;
      sum -= 1;
    }
  }
  return quotas;
}

/**
 * The positions to train on at a subset size, in difficulty order (a prefix of `order` per class):
 * - `Unbalanced`: the first `size` samples of the order;
 * - `Balanced`: ⌊size / C⌋ per class (classes with fewer samples give all they have);
 * - `Original`: per class its share of the training set ({@link originalQuotas}).
 * Never more than `size` positions; `size ≥ N` gives every position.
 */
export function selectSubset(
  order: Int32Array,
  labels: ArrayLike<number>,
  numClasses: number,
  size: number,
  mode: SamplingMode,
): Int32Array {
  const n = order.length;
  if (size >= n) return order.slice();
  if (size <= 0) return new Int32Array(0);
  if (mode === "Unbalanced") return order.slice(0, size);
  let quotas: Int32Array;
  if (mode === "Balanced") {
    quotas = new Int32Array(numClasses).fill(Math.floor(size / numClasses));
  } else if (mode === "Original") {
    quotas = originalQuotas(classCounts(labels, numClasses), size);
  } else {
    throw new CurriculaError(`Unknown sampling strategy: ${String(mode)}`);
  }
  const taken = new Int32Array(numClasses);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const position = order[i] as number;
    const label = labels[position] as number;
    if ((taken[label] as number) < (quotas[label] as number)) {
      taken[label] = (taken[label] as number) + 1;
      out.push(position);
    }
  }
  return Int32Array.from(out);
}

/**
 * BalancedCrossEntropy weights of the current subset (the trainer's balanced weights over the
 * subset's labels): a class absent from the subset gets weight 0 instead of breaking the loss.
 */
export function subsetClassWeights(
  labels: ArrayLike<number>,
  numClasses: number,
  positions?: ArrayLike<number>,
): Float32Array {
  const subsetLabels = positions ? Int32Array.from(positions, (p) => labels[p] as number) : labels;
  return balancedClassWeights(subsetLabels, numClasses);
}
