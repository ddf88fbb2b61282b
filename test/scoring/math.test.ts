import { describe, expect, it } from "vitest";
import { correlation, kendallTauB } from "../../src/scoring/math/correlation.js";
import { complement, crossValidationFolds } from "../../src/scoring/math/folds.js";
import { knnPredict } from "../../src/scoring/math/knn/index.js";
import { rankAndNormalize, tieStatistics } from "../../src/scoring/math/rank.js";
import { Rng } from "../../src/util/rng.js";
import { naiveKnn } from "../support/naive-knn.js";

describe("rankAndNormalize", () => {
  it("ranks ascending: lowest score is easiest (0), highest hardest (1)", () => {
    expect(Array.from(rankAndNormalize([0.3, 0.1, 0.9, 0.5], false))).toEqual([1 / 3, 0, 1, 2 / 3]);
  });
  it("ranks descending when reverse (high accuracy = easy)", () => {
    expect(Array.from(rankAndNormalize([0.3, 0.1, 0.9, 0.5], true))).toEqual([2 / 3, 1, 0, 1 / 3]);
  });
  it("breaks ties in order of appearance with method 'first', also when reversed", () => {
    expect(Array.from(rankAndNormalize([2, 1, 2, 1, 2], false))).toEqual([0.5, 0, 0.75, 0.25, 1]);
    expect(Array.from(rankAndNormalize([2, 1, 2, 1, 2], true))).toEqual([0, 0.75, 0.25, 1, 0.5]);
  });
  it("gives unique ranks; random tie break is seeded and keeps the order of distinct values", () => {
    const values = [1, 1, 1, 1, 0, 2, 2, 2];
    const a = rankAndNormalize(values, false, "random", 7);
    const b = rankAndNormalize(values, false, "random", 7);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(new Set(a).size).toBe(values.length);
    expect(a[4]).toBe(0);
    for (const i of [0, 1, 2, 3]) for (const j of [5, 6, 7]) expect(a[i]).toBeLessThan(a[j] as number);
    const seeds = new Set(
      [1, 2, 3, 4, 5, 6].map((s) => Array.from(rankAndNormalize(values, false, "random", s)).join()),
    );
    expect(seeds.size).toBeGreaterThan(1);
  });
  it("maps a single sample to 0 and ranks NaN last", () => {
    expect(Array.from(rankAndNormalize([5], false))).toEqual([0]);
    expect(Array.from(rankAndNormalize([Number.NaN, 1, 0], true))).toEqual([1, 0, 0.5]);
  });
});

describe("tieStatistics", () => {
  it("counts distinct values and the largest block of equal scores", () => {
    expect(tieStatistics([0, 0.5, 0.5, 1, 0.5, 0])).toEqual({
      count: 6,
      distinct: 3,
      largestTie: 3,
      tiedFraction: 5 / 6,
    });
    expect(tieStatistics([1, 2, 3])).toMatchObject({ distinct: 3, largestTie: 1, tiedFraction: 0 });
  });
});

describe("knnPredict", () => {
  it("agrees with a naive implementation on random clustered data", () => {
    const rng = new Rng(3);
    const n = 203;
    const dim = 7;
    const y = Int32Array.from({ length: n }, () => rng.int(4));
    const x = Float32Array.from(
      { length: n * dim },
      (_, i) => (y[Math.floor(i / dim)] as number) * 0.4 + rng.normal(),
    );
    const q = Float32Array.from({ length: 37 * dim }, () => rng.normal() + 0.6);
    expect(Array.from(knnPredict(x, y, x, dim, { k: 5 }))).toEqual(Array.from(naiveKnn(x, y, x, dim, 5)));
    expect(Array.from(knnPredict(x, y, q, dim, { k: 30 }))).toEqual(Array.from(naiveKnn(x, y, q, dim, 30)));
  });
  it("agrees with the naive implementation across query and reference blocks, with distance ties", () => {
    const rng = new Rng(9);
    const n = 600;
    const dim = 3;
    const y = Int32Array.from({ length: n }, () => rng.int(3));
    const x = Float32Array.from({ length: n * dim }, () => rng.int(4)); // integer grid: many equal distances
    expect(Array.from(knnPredict(x, y, x, dim, { k: 7 }))).toEqual(Array.from(naiveKnn(x, y, x, dim, 7)));
  });
  it("breaks a vote tie towards the lowest class", () => {
    const x = Float32Array.from([0, 1, 2, 3]);
    const y = Int32Array.from([2, 1, 2, 1]);
    expect(Array.from(knnPredict(x, y, Float32Array.from([1.5]), 1, { k: 4 }))).toEqual([1]);
  });
  it("caps k at the number of references and counts the point itself", () => {
    const x = Float32Array.from([0, 10]);
    expect(Array.from(knnPredict(x, Int32Array.from([0, 1]), x, 1, { k: 1 }))).toEqual([0, 1]);
    expect(Array.from(knnPredict(x, Int32Array.from([1, 0]), x, 1, { k: 30 }))).toEqual([0, 0]);
  });
});

describe("correlation", () => {
  it("Pearson, Spearman and Kendall on hand-made data", () => {
    expect(correlation([1, 2, 3], [2, 4, 6], "pearson")).toBeCloseTo(1, 12);
    // monotone but nonlinear: Spearman and Kendall 1, Pearson < 1
    const a = [1, 2, 3, 4, 5];
    const b = [1, 4, 9, 16, 100];
    expect(correlation(a, b, "spearman")).toBeCloseTo(1, 12);
    expect(correlation(a, b, "kendall")).toBeCloseTo(1, 12);
    expect(correlation(a, b, "pearson")).toBeLessThan(0.95);
    expect(correlation(a, [5, 4, 3, 2, 1], "kendall")).toBeCloseTo(-1, 12);
  });
  it("Kendall tau-b matches the O(n²) definition with ties", () => {
    const rng = new Rng(11);
    const a = Array.from({ length: 60 }, () => rng.int(6));
    const b = Array.from({ length: 60 }, (_, i) => (a[i] as number) + rng.int(4));
    let num = 0;
    let ta = 0;
    let tb = 0;
    for (let i = 0; i < 60; i++) {
      for (let j = i + 1; j < 60; j++) {
        const sa = Math.sign((a[i] as number) - (a[j] as number));
        const sb = Math.sign((b[i] as number) - (b[j] as number));
        num += sa * sb;
        if (sa !== 0) ta++;
        if (sb !== 0) tb++;
      }
    }
    expect(kendallTauB(a, b)).toBeCloseTo(num / Math.sqrt(ta * tb), 12);
  });
});

describe("crossValidationFolds", () => {
  it("holds out every sample exactly once, folds of ⌊n/k⌋ and the remainder last", () => {
    const folds = crossValidationFolds(23, 4, new Rng(5));
    expect(folds.map((f) => f.length)).toEqual([5, 5, 5, 8]);
    const all = folds.flatMap((f) => Array.from(f)).sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(Array.from(complement(23, folds[0] as Int32Array)).length).toBe(18);
    expect(crossValidationFolds(23, 4, new Rng(5))).toEqual(folds);
    expect(crossValidationFolds(23, 4, new Rng(6))).not.toEqual(folds);
  });
  it("rejects fewer than 2 splits", () => {
    expect(() => crossValidationFolds(10, 1, new Rng(1))).toThrow(
      "Number of splits must be at least 2, got '1'",
    );
  });
});
