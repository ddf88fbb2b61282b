/**
 * The per-sample measures of src/training/measures/ (the one implementation that the scoring
 * functions and a re-scored curriculum compute) on hand-made numbers and against numpy/scipy.
 */
import { describe, expect, it } from "vitest";
import {
  areaUnderMargin,
  cumulativeAccuracy,
  firstIteration,
  forgettingEvents,
  meanOverEvaluations,
  stackCorrectness,
} from "../../src/training/measures/dynamics.js";
import {
  correctFromLogits,
  el2n,
  labelProbabilities,
  logitMargins,
  mistakenness,
  softmaxEntropy,
  softmaxRows,
} from "../../src/training/measures/logits.js";
import { averageRanks, pearson, spearman } from "../../src/training/measures/ranks.js";
import { argmaxRow } from "../../src/training/metrics.js";
import { Rng } from "../../src/util/rng.js";
import { expectCloseTo } from "../support/assert.js";
import { L3, labels, pattern, sequence } from "../support/dynamics-pattern.js";
import { numpyScipy, python } from "../support/python.js";
import { describeWith } from "../support/system.js";

const correct = Uint8Array.from(
  [0, 1, 2, 3].flatMap((t) => pattern.map((sample) => (((sample[t] as number[])[0] as number) > 0 ? 1 : 0))),
);

describe("measures of one evaluation's logits", () => {
  it("softmax rows sum to one and survive large logits", () => {
    const p = softmaxRows(Float32Array.from([1000, 1000, -1000]), 1, 3);
    expect(Array.from(p)).toEqual([0.5, 0.5, 0]);
    expect(() => softmaxRows(new Float32Array(5), 2, 3)).toThrow(/5 values, expected 2 × 3/);
  });

  it("EL2N is ‖softmax − onehot‖₂; p_y is the label's probability", () => {
    const logits = Float32Array.from([L3, 0, 0, L3]);
    const y = Int32Array.from([0, 0]);
    const e = el2n(logits, y, 2);
    expect(e[0]).toBeCloseTo(Math.sqrt(2 * 0.25 ** 2), 6);
    expect(e[1]).toBeCloseTo(Math.sqrt(2 * 0.75 ** 2), 6);
    const p = labelProbabilities(logits, y, 2);
    expect(p[0]).toBeCloseTo(0.75, 6);
    expect(p[1]).toBeCloseTo(0.25, 6);
  });

  it("logit margins are z_y − max of the other logits", () => {
    expect(
      Array.from(logitMargins(Float32Array.from([1, 5, 2, 0, 0, 7]), Int32Array.from([2, 0]), 3)),
    ).toEqual([-3, -7]);
    expect(() => logitMargins(new Float32Array(2), Int32Array.from([0, 0]), 1)).toThrow(/two classes/);
  });

  it("correctness is the trainer's argmax against the label: ties to the lowest class, a NaN logit never wins", () => {
    expect(argmaxRow([0.5, 0.5, 0.1], 0, 3)).toBe(0);
    expect(argmaxRow([Number.NaN, 0.2, 0.1], 0, 3)).toBe(1);
    const logits = Float32Array.from([2, 1, 0, /**/ 0, 1, 3, /**/ 1, 1, 0]);
    expect(Array.from(correctFromLogits(logits, Int32Array.from([0, 1, 1]), 3))).toEqual([1, 0, 0]);
  });

  it("entropy and mistakenness of hand-made rows: uniform is ln C, a confident mistake nears 1", () => {
    const logits = Float32Array.from([0, 0, 0, /**/ 30, 0, 0, /**/ 30, 0, 0]);
    const h = softmaxEntropy(logits, 3, 3);
    expect(h[0]).toBeCloseTo(Math.log(3), 12);
    expect(h[1]).toBeCloseTo(0, 10);
    const m = mistakenness(logits, Int32Array.from([1, 0, 2]), 3);
    expect(m[0]).toBeCloseTo((1 / 3 + 1) / 2, 12); // predicted 0 (first of the tie), label 1
    expect(m[1]).toBeCloseTo(0, 10);
    expect(m[2]).toBeCloseTo(1, 10);
    // The prediction is the trainer's arg-max: a NaN logit (a diverged model) never wins.
    const diverged = Float32Array.from([Number.NaN, 1, 2, /**/ Number.NaN, 1, 2]);
    expect(Array.from(mistakenness(diverged, Int32Array.from([2, 0]), 3))).toEqual([0, 1]);
  });
});

describe("measures over evaluations on hand-made sequences", () => {
  it("Forgetting counts right→wrong transitions; a never-learned sample gets T", () => {
    expect(Array.from(forgettingEvents(correct, 4, 4))).toEqual([1, 4, 0, 2]);
  });

  it("a sample right only at the last evaluation has no forgetting event; one evaluation gives 0 or T", () => {
    expect(Array.from(forgettingEvents(Uint8Array.from([0, 0, 1]), 1, 3))).toEqual([0]);
    expect(Array.from(forgettingEvents(Uint8Array.from([1, 0]), 2, 1))).toEqual([0, 1]);
  });

  it("AUM is the mean logit margin z_y − max other", () => {
    const aum = areaUnderMargin(sequence, labels, 2);
    // margins ±ln 3: sample 0 has 3 right, 1 wrong → (3 − 1)/4 · ln 3
    expect(aum[0]).toBeCloseTo((2 / 4) * L3, 6);
    expect(aum[1]).toBeCloseTo(-L3, 6);
    expect(aum[2]).toBeCloseTo(L3, 6);
    expect(aum[3]).toBeCloseTo(0, 6);
    expect(() => areaUnderMargin([], labels, 2)).toThrow(/at least one evaluation/);
  });

  it("the mean over evaluations, and the correctness matrix stacked from one row per evaluation", () => {
    expect(
      Array.from(
        meanOverEvaluations([
          [1, 2],
          [3, 6],
          [5, 1],
        ]),
      ),
    ).toEqual([3, 3]);
    expect(() => meanOverEvaluations([[1, 2], [3]])).toThrow(/holds 1 values, expected 2/);
    const rows = sequence.map((logits) => correctFromLogits(logits, labels, 2));
    expect(stackCorrectness(rows)).toEqual(correct);
  });

  // 4 samples × 3 iterations, row t = iteration t.
  const matrix = Uint8Array.from([1, 0, 1, 0, /**/ 1, 1, 0, 0, /**/ 1, 1, 1, 0]);
  it("CumulativeAccuracy sums correct predictions and counts iterations", () => {
    const { sum, count } = cumulativeAccuracy(matrix, 4, 3);
    expect(Array.from(sum)).toEqual([3, 2, 2, 0]);
    expect(Array.from(count)).toEqual([3, 3, 3, 3]);
  });
  it("FirstIteration is (T − trailing correct run)/T; a sample wrong only at the last iteration scores 1", () => {
    expect(Array.from(firstIteration(matrix, 4, 3))).toEqual([0, 1 / 3, 2 / 3, 1]);
    expect(Array.from(firstIteration(Uint8Array.from([1, 1, 0]), 1, 3))).toEqual([1]);
    expect(() => firstIteration(matrix, 4, 2)).toThrow(/holds 12 values, expected 2 × 4/);
  });
});

describe("rank statistics", () => {
  it("average ranks share ties; Pearson of a line is 1; Spearman of a constant is NaN", () => {
    expect(Array.from(averageRanks([10, 20, 10, 30]))).toEqual([1.5, 3, 1.5, 4]);
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4, 5], [1, 4, 9, 16, 100])).toBe(1);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(spearman([1], [2])).toBeNaN();
    expect(() => spearman([1, 2], [1])).toThrow(/lengths differ/);
  });
});

const ENTROPY = `
import json, sys
import numpy as np
from scipy.special import softmax
from scipy.stats import entropy
z = np.array(json.loads(sys.stdin.read())["logits"], dtype=np.float64)
y = np.array(json.loads(sys.argv[1]))
h = np.array([entropy(softmax(row)) for row in z])
m = np.where(z.argmax(axis=1) == y, -1.0, 1.0)
print(json.dumps({"hardness": h.tolist(), "mistakenness": ((m * np.exp(-h) + 1.0) / 2.0).tolist()}))
`;

const toRows = (x: ArrayLike<number>, d: number) =>
  Array.from({ length: x.length / d }, (_, i) => Array.from(x).slice(i * d, (i + 1) * d));

describeWith(numpyScipy, "the measures equal numpy/scipy on the same numbers", () => {
  it("hardness is scipy's entropy of the softmax, mistakenness (m·exp(−H) + 1) / 2 (FiftyOne Brain), ties in the argmax included", () => {
    const rng = new Rng(3);
    const n = 40;
    const c = 5;
    const logits = Float32Array.from({ length: n * c }, () => rng.normal() * 3);
    // Rows with tied largest logits (the first one is the prediction) and a uniform row.
    logits.set([2, 2, 0, -1, 1], 0);
    logits.set([0, 0, 0, 0, 0], c);
    const labels = Int32Array.from({ length: n }, (_, i) => (i === 0 ? 1 : rng.int(c)));
    const ref = python<{ hardness: number[]; mistakenness: number[] }>(
      ENTROPY,
      [JSON.stringify(Array.from(labels))],
      JSON.stringify({ logits: toRows(logits, c) }),
    );
    const hardness = softmaxEntropy(logits, n, c);
    const mistaken = mistakenness(logits, labels, c);
    expect(ref.hardness).toHaveLength(n);
    expect(ref.mistakenness).toHaveLength(n);
    expectCloseTo(hardness, ref.hardness, 10, "hardness");
    expectCloseTo(mistaken, ref.mistakenness, 10, "mistakenness");
    expect(hardness[1]).toBeCloseTo(Math.log(c), 12);
    expect(mistaken[0]).toBeGreaterThan(0.5); // predicted class 0 (first of the tie), label 1
  });

  it("Spearman equals scipy.stats.spearmanr, ties included", () => {
    const rng = new Rng(3);
    const a = Array.from({ length: 50 }, () => Math.floor(rng.random() * 6));
    const b = Array.from({ length: 50 }, (_, i) => (a[i] as number) + rng.normal() * 2);
    const expected = python<number>(
      "import json,sys; from scipy.stats import spearmanr; d=json.load(sys.stdin); print(json.dumps(float(spearmanr(d['a'], d['b']).statistic)))",
      [],
      JSON.stringify({ a, b }),
    );
    expectCloseTo([spearman(a, b)], [expected], 12, "Spearman");
  });
});
