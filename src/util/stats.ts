/**
 * Mean and sample standard deviation (ddof = 1) of the non-NaN values: std is 0 for a single value
 * (as pandas' NaN → 0 fill in aggregation) and NaN when there is no value at all.
 */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number; n: number } {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    n++;
    sum += v;
  }
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, n: 0 };
  const mean = sum / n;
  if (n < 2) return { mean, std: 0, n };
  let ss = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) ss += (v - mean) * (v - mean);
  }
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}
