import { meanStd } from "../util/stats.js";

export { meanStd };
/**
 * Small numeric helpers behind the charts: bins, densities, mean ± std. Pure functions over arrays,
 * so the numbers a chart shows are tested apart from the drawing.
 */

/** `count` evenly spaced numbers from `start` to `stop`, both included. */
export function linspace(start: number, stop: number, count: number): number[] {
  if (count <= 0) return [];
  if (count === 1) return [start];
  const step = (stop - start) / (count - 1);
  return Array.from({ length: count }, (_, i) => (i === count - 1 ? stop : start + i * step));
}

/** Finite minimum and maximum of `values` ([0, 0] when there is none). */
export function extent(values: ArrayLike<number>): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo === Number.POSITIVE_INFINITY ? [0, 0] : [lo, hi];
}

/**
 * `bins + 1` evenly spaced bin edges covering `values` (or the given domain). A constant sample gets
 * a unit-wide range around its value, so there is always something to draw.
 */
export function binEdges(values: ArrayLike<number>, bins: number, domain?: [number, number]): number[] {
  if (!Number.isInteger(bins) || bins < 1)
    throw new RangeError(`bins must be a positive integer, got ${bins}`);
  let [lo, hi] = domain ?? extent(values);
  if (hi <= lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  return linspace(lo, hi, bins + 1);
}

/**
 * Counts of `values` per bin. Bins are half-open [e_i, e_{i+1}) except the last, which includes its
 * right edge (as numpy and seaborn do). Values outside the edges and non-finite values are dropped.
 */
export function binCounts(values: ArrayLike<number>, edges: readonly number[]): number[] {
  const bins = edges.length - 1;
  if (bins < 1) throw new RangeError("binCounts needs at least two edges");
  const counts = new Array<number>(bins).fill(0);
  const lo = edges[0] as number;
  const hi = edges[bins] as number;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v) || v < lo || v > hi) continue;
    // binary search for the last edge <= v
    let a = 0;
    let b = bins;
    while (b - a > 1) {
      const m = (a + b) >> 1;
      if ((edges[m] as number) <= v) a = m;
      else b = m;
    }
    counts[a] = (counts[a] as number) + 1;
  }
  return counts;
}

/**
 * Gaussian kernel density of `values` evaluated at `grid`, with Scott's rule bandwidth
 * (n^(-1/5) · sample std) times `bwAdjust`, as scipy's `gaussian_kde` used by seaborn's `kdeplot`
 * (Scott, "Multivariate Density Estimation", 1992). A constant sample gets a small fixed bandwidth.
 */
export function gaussianKde(values: ArrayLike<number>, grid: readonly number[], bwAdjust = 1): number[] {
  const n = values.length;
  if (n === 0) return grid.map(() => 0);
  const { std } = meanStd(values);
  let bandwidth = std * n ** -0.2 * bwAdjust;
  if (!(bandwidth > 0)) bandwidth = 0.01 * bwAdjust;
  const norm = 1 / (n * bandwidth * Math.sqrt(2 * Math.PI));
  return grid.map((x) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const z = (x - (values[i] as number)) / bandwidth;
      s += Math.exp(-0.5 * z * z);
    }
    return s * norm;
  });
}
