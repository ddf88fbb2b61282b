import { Rng } from "./rng.js";

/**
 * Paired comparisons over seeds: runs of two conditions that share their seeds give one difference
 * per seed, d_i = treatment_i − reference_i. Pure functions of those differences:
 *
 * - the mean paired difference and a bootstrap **percentile** interval (Efron & Tibshirani 1993,
 *   ch. 13: resample the n differences with replacement, take the 2.5th and 97.5th percentiles of
 *   the resampled means, linearly interpolated as numpy's default), seeded through `Rng`;
 * - the sign-flip permutation p-value (Fisher's randomisation test for paired data): under the null
 *   hypothesis each d_i is as likely to be −d_i, so p = share of the sign patterns whose |mean| is at
 *   least the observed |mean|; exact (all 2^n patterns) for n ≤ 16, Monte Carlo beyond
 *   ((1 + hits)/(1 + draws), Phipson & Smyth 2010);
 * - Holm's step-down correction of a table's p-values (Holm 1979);
 * - the paired effect size Cohen's d_z = mean(d) / sd(d) (sd with ddof = 1; Cohen 1988, Lakens 2013);
 * - the smallest p-value n seeds can give (2/2^n, the all-same-sign pattern and its mirror);
 * - the approximate seeds needed to detect an effect of size d_z: the normal approximation
 *   n = ((z_{1−α/2} + z_{power}) / d_z)^2, rounded up, and at least the smallest n whose
 *   permutation floor 2/2^n is ≤ α (6 seeds at α = 0.05).
 */

const DEFAULT_RESAMPLES = 10_000;
/** Up to this many pairs the permutation test enumerates every sign pattern. */
const EXACT_PERMUTATION_LIMIT = 16;

export interface PairedOptions {
  /** Seeds the bootstrap and (n > 16) the Monte Carlo permutation draws. Default 0. */
  seed?: number;
  /** Bootstrap resamples and Monte Carlo sign patterns. Default 10,000. */
  resamples?: number;
  /** Two-sided level of the interval and of the seeds estimate. Default 0.05. */
  alpha?: number;
  /** Power of the seeds estimate. Default 0.8. */
  power?: number;
}

export interface PairedComparison {
  /** Number of pairs (seeds present in both conditions, with finite values). */
  n: number;
  /** Mean of treatment − reference. */
  meanDifference: number;
  /** Bootstrap percentile interval of the mean difference; NaN for n < 2 (no interval from one pair). */
  low: number;
  high: number;
  /** Two-sided sign-flip permutation p-value (NaN without pairs). */
  p: number;
  /** Whether p enumerates every sign pattern ("exact") or draws them ("monte-carlo"). */
  pMethod: "exact" | "monte-carlo" | "none";
  /** Paired Cohen's d_z; NaN for n < 2, ±Infinity when every difference is the same non-zero value. */
  dz: number;
  /** The smallest p-value n pairs can reach (2/2^n; 1 for one pair). */
  minP: number;
  /** Approximate seeds to detect an effect of this size (Infinity when there is none to detect, NaN for n < 2). */
  seedsNeeded: number;
  /** Plain words for what could not be computed (n = 1, no pairs), or "". */
  note: string;
}

/** d_i = treatment_i − reference_i over the pairs where both are finite numbers. */
export function pairedDifferences(reference: ArrayLike<number>, treatment: ArrayLike<number>): number[] {
  if (reference.length !== treatment.length) {
    throw new Error(`paired samples differ in length: ${reference.length} and ${treatment.length}`);
  }
  const out: number[] = [];
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] as number;
    const t = treatment[i] as number;
    if (Number.isFinite(r) && Number.isFinite(t)) out.push(t - r);
  }
  return out;
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length > 0 ? sum / values.length : Number.NaN;
}

/** The q-quantile (0 ≤ q ≤ 1) of sorted values, linearly interpolated (numpy's default). */
function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (h - lo) * (b - a);
}

/** Bootstrap percentile interval of the mean of `d` (NaN bounds for fewer than 2 values). */
export function bootstrapInterval(
  d: readonly number[],
  options: Pick<PairedOptions, "seed" | "resamples" | "alpha"> = {},
): { low: number; high: number } {
  const n = d.length;
  if (n < 2) return { low: Number.NaN, high: Number.NaN };
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const alpha = options.alpha ?? 0.05;
  const rng = Rng.derive(options.seed ?? 0, "paired-bootstrap");
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += d[rng.int(n)] as number;
    means[b] = sum / n;
  }
  means.sort();
  return { low: quantileSorted(means, alpha / 2), high: quantileSorted(means, 1 - alpha / 2) };
}

/**
 * Two-sided sign-flip permutation p-value of the mean of `d`. A pattern counts when its |sum| is
 * at least the observed |sum| (less a rounding tolerance, so patterns equal to the observed one in
 * exact arithmetic count). Zero differences flip to themselves: ties are handled as they come.
 */
export function signFlipPValue(
  d: readonly number[],
  options: Pick<PairedOptions, "seed" | "resamples"> = {},
): { p: number; method: "exact" | "monte-carlo" | "none" } {
  const n = d.length;
  if (n === 0) return { p: Number.NaN, method: "none" };
  let observed = 0;
  let scale = 0;
  for (const v of d) {
    observed += v;
    scale += Math.abs(v);
  }
  const threshold = Math.abs(observed) - 1e-9 * Math.max(scale, 1e-300);
  if (n <= EXACT_PERMUTATION_LIMIT) {
    const patterns = 2 ** n;
    let hits = 0;
    for (let mask = 0; mask < patterns; mask++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += mask & (1 << i) ? -(d[i] as number) : (d[i] as number);
      if (Math.abs(sum) >= threshold) hits++;
    }
    return { p: hits / patterns, method: "exact" };
  }
  const draws = options.resamples ?? DEFAULT_RESAMPLES;
  const rng = Rng.derive(options.seed ?? 0, "paired-sign-flip");
  let hits = 0;
  for (let b = 0; b < draws; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += rng.int(2) === 1 ? -(d[i] as number) : (d[i] as number);
    if (Math.abs(sum) >= threshold) hits++;
  }
  return { p: (1 + hits) / (1 + draws), method: "monte-carlo" };
}

/** The smallest two-sided sign-flip p-value n pairs can reach: 2/2^n (1 for n ≤ 1). */
export function minimumPValue(n: number): number {
  if (n <= 1) return 1;
  return 2 / 2 ** n;
}

/**
 * Holm's step-down adjusted p-values, in the input order: with the m finite p-values sorted
 * ascending, p'_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j)). NaN entries stay NaN and do not count in m.
 */
export function holm(pValues: readonly number[]): number[] {
  const finite = pValues.map((p, i) => ({ p, i })).filter(({ p }) => Number.isFinite(p));
  finite.sort((a, b) => a.p - b.p || a.i - b.i);
  const out = pValues.map(() => Number.NaN);
  const m = finite.length;
  let running = 0;
  finite.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}

/** Paired Cohen's d_z: mean(d) / sd(d), sd with ddof = 1 (NaN for n < 2; 0 when all are 0). */
export function cohensDz(d: readonly number[]): number {
  const n = d.length;
  if (n < 2) return Number.NaN;
  const m = mean(d);
  let ss = 0;
  for (const v of d) ss += (v - m) * (v - m);
  const sd = Math.sqrt(ss / (n - 1));
  if (sd === 0) return m === 0 ? 0 : m > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return m / sd;
}

/** Horner evaluation of c[0] x^k + c[1] x^(k-1) + ... + c[k]. */
function horner(coefficients: readonly number[], x: number): number {
  let out = 0;
  for (const c of coefficients) out = out * x + c;
  return out;
}

const ACKLAM_A = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
  2.506628277459239,
];
const ACKLAM_B = [
  -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572, 1,
];
const ACKLAM_C = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const ACKLAM_D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416, 1];

/** The standard normal quantile (inverse CDF), Acklam's rational approximation (relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (!(p > 0 && p < 1)) return Number.NaN;
  const low = 0.02425;
  if (p < low || p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(Math.min(p, 1 - p)));
    const x = horner(ACKLAM_C, q) / horner(ACKLAM_D, q);
    return p < low ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return (horner(ACKLAM_A, r) * q) / horner(ACKLAM_B, r);
}

/** The smallest number of pairs whose permutation floor 2/2^n is at most α. */
function seedsForFloor(alpha: number): number {
  let n = 1;
  while (minimumPValue(n) > alpha) n++;
  return n;
}

/**
 * Approximate seeds to detect a paired effect d_z with a two-sided test at `alpha` and `power`:
 * ⌈((z_{1−α/2} + z_{power}) / |d_z|)^2⌉, at least seedsForFloor(alpha). Infinity for d_z = 0, NaN
 * for NaN; an infinite d_z (every difference equal) needs only the floor.
 */
export function seedsToDetect(dz: number, alpha = 0.05, power = 0.8): number {
  if (Number.isNaN(dz)) return Number.NaN;
  if (dz === 0) return Number.POSITIVE_INFINITY;
  const floor = seedsForFloor(alpha);
  if (!Number.isFinite(dz)) return floor;
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  return Math.max(floor, Math.ceil((z / Math.abs(dz)) ** 2));
}

/** Every statistic of one paired comparison (treatment − reference), from the paired values. */
export function comparePaired(
  reference: ArrayLike<number>,
  treatment: ArrayLike<number>,
  options: PairedOptions = {},
): PairedComparison {
  const d = pairedDifferences(reference, treatment);
  const n = d.length;
  const alpha = options.alpha ?? 0.05;
  const { low, high } = bootstrapInterval(d, options);
  const { p, method } = signFlipPValue(d, options);
  const dz = cohensDz(d);
  const note =
    n === 0
      ? "no seed ran in both conditions: nothing to compare"
      : n === 1
        ? "one seed only: no interval, and no test can reach significance"
        : "";
  return {
    n,
    meanDifference: mean(d),
    low,
    high,
    p,
    pMethod: method,
    dz,
    minP: n === 0 ? Number.NaN : minimumPValue(n),
    seedsNeeded: n < 2 ? Number.NaN : seedsToDetect(dz, alpha, options.power ?? 0.8),
    note,
  };
}
