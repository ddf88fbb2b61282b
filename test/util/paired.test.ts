import { describe, expect, it } from "vitest";
import {
  bootstrapInterval,
  cohensDz,
  comparePaired,
  holm,
  minimumPValue,
  normalQuantile,
  pairedDifferences,
  seedsToDetect,
  signFlipPValue,
} from "../../src/util/paired.js";
import { numpyScipy, python } from "../support/python.js";
import { describeWith } from "../support/system.js";

const REFERENCE = [0.925, 0.921, 0.929, 0.93, 0.918, 0.924, 0.927, 0.922];
const TREATMENT = [0.9, 0.897, 0.906, 0.911, 0.889, 0.902, 0.908, 0.895];

/** numpy: the exact two-sided sign-flip p-value of the mean difference, every pattern enumerated. */
const EXACT_P = `
import itertools, json, sys
import numpy as np
out = []
for values in json.loads(sys.argv[1]):
    d = np.array(values, dtype=float)
    obs = abs(d.sum())
    signs = np.array(list(itertools.product([1.0, -1.0], repeat=len(d))))
    sums = np.abs(signs @ d)
    out.append(float(np.mean(sums >= obs - 1e-9 * max(np.abs(d).sum(), 1e-300))))
print(json.dumps(out))
`;

/**
 * scipy.stats.bootstrap's percentile interval of the mean (10,000 resamples) under 12 seeds: the
 * mean of each bound and its spread across seeds (the Monte Carlo error of one interval).
 */
const SCIPY_BOOTSTRAP = `
import json, sys
import numpy as np
from scipy import stats
out = []
for values in json.loads(sys.argv[1]):
    d = np.array(values, dtype=float)
    lows, highs = [], []
    for seed in range(12):
        r = stats.bootstrap((d,), np.mean, n_resamples=10000, method="percentile", confidence_level=0.95, random_state=np.random.default_rng(seed))
        lows.append(r.confidence_interval.low); highs.append(r.confidence_interval.high)
    out.append({"low": float(np.mean(lows)), "low_sd": float(np.std(lows, ddof=1)), "high": float(np.mean(highs)), "high_sd": float(np.std(highs, ddof=1))})
print(json.dumps(out))
`;

describe("paired differences", () => {
  it("are treatment minus reference over the pairs where both are numbers", () => {
    expect(pairedDifferences([1, 2, Number.NaN, 4], [2, 2, 3, 1])).toEqual([1, 0, -3]);
    expect(() => pairedDifferences([1], [1, 2])).toThrow(/differ in length/);
  });
});

describeWith(numpyScipy, "paired statistics against numpy and scipy", () => {
  it("gives the exact sign-flip p-value numpy enumerates, also with ties and zero differences", () => {
    const cases = [
      pairedDifferences(REFERENCE, TREATMENT),
      [0.01, -0.02, 0.03],
      [0.02, 0.02, 0.02, -0.02, 0, 0],
      [0, 0, 0],
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      [0.5, -0.25, 0.25, 0.5, 0.5, -0.5, 0.75, 0.25, 0, 0.125],
    ];
    const expected = python<number[]>(EXACT_P, [JSON.stringify(cases)]);
    cases.forEach((d, i) => {
      const { p, method } = signFlipPValue(d);
      expect(method).toBe("exact");
      expect(p).toBeCloseTo(expected[i] as number, 12);
    });
  });

  it("gives the percentile interval scipy.stats.bootstrap gives, within its Monte Carlo error", () => {
    const samples = [pairedDifferences(REFERENCE, TREATMENT), [0.02, 0.02, -0.01, 0.03, 0.02]];
    const refs = python<Array<{ low: number; low_sd: number; high: number; high_sd: number }>>(
      SCIPY_BOOTSTRAP,
      [JSON.stringify(samples)],
    );
    samples.forEach((d, i) => {
      const ref = refs[i] as (typeof refs)[number];
      const ours = bootstrapInterval(d, { seed: 3 });
      // Both are Monte Carlo estimates of the same bound: 4 standard deviations of one estimate, twice.
      expect(Math.abs(ours.low - ref.low)).toBeLessThanOrEqual(4 * Math.SQRT2 * ref.low_sd + 1e-12);
      expect(Math.abs(ours.high - ref.high)).toBeLessThanOrEqual(4 * Math.SQRT2 * ref.high_sd + 1e-12);
      expect(ours.low).toBeLessThan(ours.high);
    });
  });

  it("computes d_z as numpy's mean over its ddof=1 standard deviation", () => {
    const d = pairedDifferences(REFERENCE, TREATMENT);
    const expected = python<number>(
      "import json,sys; import numpy as np; d=np.array(json.loads(sys.argv[1])); print(json.dumps(float(d.mean()/d.std(ddof=1))))",
      [JSON.stringify(d)],
    );
    expect(cohensDz(d)).toBeCloseTo(expected, 12);
  });

  it("inverts the normal CDF as scipy.stats.norm.ppf does", () => {
    const ps = [1e-6, 0.01, 0.025, 0.2, 0.5, 0.8, 0.975, 0.999];
    const expected = python<number[]>(
      "import json,sys; from scipy import stats; print(json.dumps([float(stats.norm.ppf(p)) for p in json.loads(sys.argv[1])]))",
      [JSON.stringify(ps)],
    );
    ps.forEach((p, i) => {
      expect(normalQuantile(p)).toBeCloseTo(expected[i] as number, 7);
    });
  });
});

describe("paired statistics", () => {
  it("draws the same interval for the same seed and another for another seed", () => {
    const d = [0.13, -0.21, 0.37, 0.052, 0.011, -0.093, 0.27];
    expect(bootstrapInterval(d, { seed: 1, resamples: 500 })).toEqual(
      bootstrapInterval(d, { seed: 1, resamples: 500 }),
    );
    expect(bootstrapInterval(d, { seed: 1, resamples: 500 })).not.toEqual(
      bootstrapInterval(d, { seed: 2, resamples: 500 }),
    );
  });

  it("draws sign patterns beyond 16 pairs, seeded, near the exact value", () => {
    const d = Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? -0.5 : 0.4) + i * 0.01);
    const a = signFlipPValue(d, { seed: 4 });
    expect(a.method).toBe("monte-carlo");
    expect(signFlipPValue(d, { seed: 4 })).toEqual(a);
    // All 2^20 patterns, enumerated here: the Monte Carlo estimate is within 4 binomial SDs of it.
    let obs = 0;
    for (const v of d) obs += v;
    let hits = 0;
    for (let mask = 0; mask < 2 ** 20; mask++) {
      let s = 0;
      for (let i = 0; i < 20; i++) s += mask & (1 << i) ? -(d[i] as number) : (d[i] as number);
      if (Math.abs(s) >= Math.abs(obs) - 1e-9) hits++;
    }
    const exact = hits / 2 ** 20;
    expect(Math.abs(a.p - exact)).toBeLessThan(4 * Math.sqrt((exact * (1 - exact)) / 10_000) + 2e-4);
  });

  it("corrects a table's p-values by Holm's step-down rule (worked by hand)", () => {
    // sorted: 0.01 (×4 = 0.04), 0.02 (×3 = 0.06), 0.03 (×2 = 0.06), 0.5 (×1 = 0.5)
    expect(holm([0.03, 0.5, 0.01, 0.02])).toEqual([0.06, 0.5, 0.04, 0.06]);
    // monotone: 0.04×3 = 0.12 > 0.045×2 = 0.09 → 0.12; capped at 1
    const adjusted = holm([0.04, 0.045, 0.6]);
    expect(adjusted[0]).toBeCloseTo(0.12, 12);
    expect(adjusted[1]).toBeCloseTo(0.12, 12);
    expect(adjusted[2]).toBeCloseTo(0.6, 12);
    expect(holm([0.4, 0.5])).toEqual([0.8, 0.8]);
    const withNaN = holm([Number.NaN, 0.2, 0.1]);
    expect(withNaN[0]).toBeNaN();
    expect(withNaN.slice(1)).toEqual([0.2, 0.2]);
  });

  it("says what n seeds can reach: 2/2^n, 0.25 for three", () => {
    expect(minimumPValue(3)).toBe(0.25);
    expect(minimumPValue(1)).toBe(1);
    expect(signFlipPValue([0.1, 0.2, 0.3]).p).toBe(0.25);
  });

  it("estimates seeds by the normal approximation, never below the permutation floor", () => {
    // d_z = 1: ((1.95996 + 0.84162) / 1)^2 = 7.85 → 8
    expect(seedsToDetect(1)).toBe(8);
    expect(seedsToDetect(-0.5)).toBe(32);
    expect(seedsToDetect(10)).toBe(6);
    expect(seedsToDetect(Number.POSITIVE_INFINITY)).toBe(6);
    expect(seedsToDetect(0)).toBe(Number.POSITIVE_INFINITY);
  });

  it("gives no interval for one seed and says so plainly", () => {
    const one = comparePaired([0.9], [0.88]);
    expect(one.n).toBe(1);
    expect(one.meanDifference).toBeCloseTo(-0.02, 12);
    expect(one.low).toBeNaN();
    expect(one.high).toBeNaN();
    expect(one.p).toBe(1);
    expect(one.minP).toBe(1);
    expect(one.note).toMatch(/one seed only: no interval/);
    expect(comparePaired([], []).note).toMatch(/nothing to compare/);
  });

  it("handles identical conditions: difference 0, p = 1, nothing to detect", () => {
    const same = comparePaired([0.9, 0.8, 0.7], [0.9, 0.8, 0.7]);
    expect(same.meanDifference).toBe(0);
    expect(same.low).toBe(0);
    expect(same.high).toBe(0);
    expect(same.p).toBe(1);
    expect(same.dz).toBe(0);
    expect(same.seedsNeeded).toBe(Number.POSITIVE_INFINITY);
  });
});
