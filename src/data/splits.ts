import { DataError } from "../util/errors.js";
import type { Rng } from "../util/rng.js";
import type { SubsetName } from "./types.js";

/** Row positions (into the source data) of each subset, ascending. */
export interface SplitRows {
  train: Int32Array;
  dev: Int32Array;
  test: Int32Array;
}

/** Sizes of the held-out parts of `n` samples: ⌊n·fraction⌋ each (as autrainer's ToyDataset). */
export function heldOutCounts(n: number, dev: number, test: number): { dev: number; test: number } {
  return { dev: Math.floor(n * dev), test: Math.floor(n * test) };
}

/**
 * Largest-remainder apportionment: splits `total` over groups in proportion to `weights`, never
 * giving a group more than its `capacity`. Ties go to the lower group index, so the result is
 * deterministic.
 */
export function apportion(
  total: number,
  weights: ArrayLike<number>,
  capacity: ArrayLike<number>,
): Int32Array {
  const k = weights.length;
  const out = new Int32Array(k);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += weights[i] as number;
  if (sum === 0 || total === 0) return out;
  const remainders: { i: number; r: number }[] = [];
  let given = 0;
  for (let i = 0; i < k; i++) {
    const quota = (total * (weights[i] as number)) / sum;
    const base = Math.min(Math.floor(quota), capacity[i] as number);
    out[i] = base;
    given += base;
    remainders.push({ i, r: quota - Math.floor(quota) });
  }
  remainders.sort((a, b) => b.r - a.r || a.i - b.i);
  // Hand out what is left by largest remainder, then round-robin while capacity remains.
  let left = total - given;
  while (left > 0) {
    let progressed = false;
    for (const { i } of remainders) {
      if (left === 0) break;
      if ((out[i] as number) < (capacity[i] as number)) {
        out[i] = (out[i] as number) + 1;
        left--;
        progressed = true;
      }
    }
    if (!progressed) break;
  }
  return out;
}

function sorted(values: number[]): Int32Array {
  return Int32Array.from(values).sort();
}

/**
 * Seeded stratified split of `rows` (source positions) with class codes `labels` (parallel):
 * ⌊n·dev⌋ dev and ⌊n·test⌋ test samples, apportioned over classes by their frequency, the members
 * of each class chosen by one shuffle of that class. Classes are visited in code order, so the
 * result depends only on the data and the rng state.
 */
export function stratifiedSplit(
  labels: Int32Array,
  numClasses: number,
  fractions: { dev: number; test: number },
  rng: Rng,
  rows?: Int32Array,
): SplitRows {
  const n = labels.length;
  const counts = heldOutCounts(n, fractions.dev, fractions.test);
  const members: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < n; i++) {
    const group = members[labels[i] as number];
    if (!group) throw new RangeError(`stratifiedSplit: label ${labels[i]} outside 0..${numClasses - 1}`);
    group.push(rows ? (rows[i] as number) : i);
  }
  const sizes = members.map((m) => m.length);
  const testPer = apportion(counts.test, sizes, sizes);
  const devPer = apportion(
    counts.dev,
    sizes,
    sizes.map((s, c) => s - (testPer[c] as number)),
  );
  const train: number[] = [];
  const dev: number[] = [];
  const test: number[] = [];
  members.forEach((m, c) => {
    const order = rng.shuffle(m.slice());
    const t = testPer[c] as number;
    const d = devPer[c] as number;
    test.push(...order.slice(0, t));
    dev.push(...order.slice(t, t + d));
    train.push(...order.slice(t + d));
  });
  return { train: sorted(train), dev: sorted(dev), test: sorted(test) };
}

/** Seeded unstratified split (used when labels are not known to the splitter). */
export function randomSplit(n: number, fractions: { dev: number; test: number }, rng: Rng): SplitRows {
  const counts = heldOutCounts(n, fractions.dev, fractions.test);
  const order = Array.from(rng.permutation(n));
  return {
    test: sorted(order.slice(0, counts.test)),
    dev: sorted(order.slice(counts.test, counts.test + counts.dev)),
    train: sorted(order.slice(counts.test + counts.dev)),
  };
}

/** autrainer's ToyDataset split: the first rows train, the next ⌊n·dev⌋ dev, the last ⌊n·test⌋ test. */
export function positionalSplit(n: number, fractions: { dev: number; test: number }): SplitRows {
  const counts = heldOutCounts(n, fractions.dev, fractions.test);
  const nTrain = n - counts.dev - counts.test;
  const range = (from: number, to: number) => Int32Array.from({ length: to - from }, (_, i) => from + i);
  return {
    train: range(0, nTrain),
    dev: range(nTrain, nTrain + counts.dev),
    test: range(nTrain + counts.dev, n),
  };
}

/** A DataError when any subset is empty: names the dataset, the subset and how to fix it. */
export function assertNonEmptySplits(
  datasetId: string,
  sizes: Record<SubsetName, number>,
  hint: Partial<Record<SubsetName, string>> = {},
): void {
  for (const name of ["train", "dev", "test"] as const) {
    if (sizes[name] === 0) {
      const why = hint[name] ? ` (${hint[name]})` : "";
      throw new DataError(`dataset '${datasetId}': the ${name} split would be empty${why}`);
    }
  }
}
