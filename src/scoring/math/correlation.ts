/**
 * Correlation between two score rankings. Spearman (the default, as aucurriculum's pandas
 * `corr(method="spearman")`) is Pearson on average ranks; Kendall is tau-b (as scipy/pandas) computed
 * in O(n log n) with Knight's algorithm so 60,000-sample scores stay fast. Average ranks and Pearson
 * are src/training/measures/ranks.ts, which a re-scored curriculum's drift uses too.
 */
import { averageRanks, pearson } from "../../training/measures/ranks.js";

export type CorrelationMethod = "spearman" | "kendall" | "pearson";

export const CORRELATION_METHODS: readonly CorrelationMethod[] = ["spearman", "kendall", "pearson"];

export function correlation(a: ArrayLike<number>, b: ArrayLike<number>, method: CorrelationMethod): number {
  if (a.length !== b.length) throw new Error(`correlation: lengths differ (${a.length} vs ${b.length})`);
  switch (method) {
    case "pearson":
      return pearson(a, b);
    case "spearman":
      return pearson(averageRanks(a), averageRanks(b));
    case "kendall":
      return kendallTauB(a, b);
  }
}

/** Kendall's tau-b (Knight 1966): concordant − discordant pairs, corrected for ties in either ranking. */
export function kendallTauB(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n < 2) return Number.NaN;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (x, y) => (a[x] as number) - (a[y] as number) || (b[x] as number) - (b[y] as number),
  );
  const pairs = (t: number) => (t * (t - 1)) / 2;
  let tiesA = 0;
  let tiesBoth = 0;
  for (let s = 0; s < n; ) {
    let e = s + 1;
    while (e < n && a[order[e] as number] === a[order[s] as number]) e++;
    tiesA += pairs(e - s);
    for (let u = s; u < e; ) {
      let v = u + 1;
      while (v < e && b[order[v] as number] === b[order[u] as number]) v++;
      tiesBoth += pairs(v - u);
      u = v;
    }
    s = e;
  }
  // Sort by b (stable merge sort) counting swaps = discordant pairs among pairs untied in a.
  const ys = Float64Array.from(order, (i) => b[i] as number);
  const swaps = mergeSortCount(ys, new Float64Array(n), 0, n);
  let tiesB = 0;
  for (let s = 0; s < n; ) {
    let e = s + 1;
    while (e < n && ys[e] === ys[s]) e++;
    tiesB += pairs(e - s);
    s = e;
  }
  const total = pairs(n);
  const concordantMinusDiscordant = total - tiesA - tiesB + tiesBoth - 2 * swaps;
  const denominator = Math.sqrt((total - tiesA) * (total - tiesB));
  return denominator === 0 ? Number.NaN : concordantMinusDiscordant / denominator;
}

/** Sorts values[lo, hi) ascending; returns the number of strictly inverted pairs. */
function mergeSortCount(values: Float64Array, buffer: Float64Array, lo: number, hi: number): number {
  if (hi - lo < 2) return 0;
  const mid = (lo + hi) >>> 1;
  let count = mergeSortCount(values, buffer, lo, mid) + mergeSortCount(values, buffer, mid, hi);
  let i = lo;
  let j = mid;
  let p = lo;
  while (i < mid && j < hi) {
    if ((values[j] as number) < (values[i] as number)) {
      count += mid - i;
      buffer[p++] = values[j++] as number;
    } else {
      buffer[p++] = values[i++] as number;
    }
  }
  while (i < mid) buffer[p++] = values[i++] as number;
  while (j < hi) buffer[p++] = values[j++] as number;
  values.set(buffer.subarray(lo, hi), lo);
  return count;
}

/** Square matrix of pairwise correlations between named columns (diagonal 1). */
export function correlationMatrix(
  columns: ReadonlyArray<ArrayLike<number>>,
  method: CorrelationMethod,
): Float64Array {
  const m = columns.length;
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    out[i * m + i] = 1;
    for (let j = i + 1; j < m; j++) {
      const r = correlation(columns[i] as ArrayLike<number>, columns[j] as ArrayLike<number>, method);
      out[i * m + j] = r;
      out[j * m + i] = r;
    }
  }
  return out;
}
