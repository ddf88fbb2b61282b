import { describe, expect, it } from "vitest";
import {
  accuracy,
  argmaxRows,
  computeMetrics,
  isImprovement,
  macroF1,
  unweightedAverageRecall,
} from "../../src/training/metrics.js";

const i32 = (values: number[]) => Int32Array.from(values);

describe("accuracy", () => {
  it("is the fraction of matching predictions", () => {
    expect(accuracy(i32([0, 1, 2, 2]), i32([0, 1, 1, 2]))).toBe(0.75);
  });
  it("is 0 on an empty set and rejects mismatched lengths", () => {
    expect(accuracy(i32([]), i32([]))).toBe(0);
    expect(() => accuracy(i32([0]), i32([0, 1]))).toThrow(/1 predictions but 2 labels/);
  });
});

describe("unweighted average recall", () => {
  it("averages per-class recall so a rare class counts as much as a frequent one", () => {
    // class 0: 4 samples, 4 right (recall 1); class 1: 1 sample, 0 right (recall 0).
    const labels = i32([0, 0, 0, 0, 1]);
    const predictions = i32([0, 0, 0, 0, 0]);
    expect(accuracy(predictions, labels)).toBe(0.8);
    expect(unweightedAverageRecall(predictions, labels, 2)).toBe(0.5);
  });
  it("ignores classes absent from the labels even when predicted", () => {
    // classes 0 and 1 present; predicting class 2 just lowers class 0's recall.
    expect(unweightedAverageRecall(i32([0, 2, 1, 1]), i32([0, 0, 1, 1]), 3)).toBe((0.5 + 1) / 2);
  });
});

describe("macro F1", () => {
  it("matches a hand computation", () => {
    // labels    0 0 1 1 2
    // predicted 0 1 1 1 1
    // class 0: tp 1, pred 1, act 2 -> p 1, r .5, f1 2/3
    // class 1: tp 2, pred 4, act 2 -> p .5, r 1, f1 2/3
    // class 2: tp 0, pred 0, act 1 -> 0
    expect(macroF1(i32([0, 1, 1, 1, 1]), i32([0, 0, 1, 1, 2]), 3)).toBeCloseTo((2 / 3 + 2 / 3 + 0) / 3, 12);
  });
  it("counts a class that is only predicted (F1 0) and skips a class that appears nowhere", () => {
    // class 0 f1 = 2*(1*.5)/(1.5)=2/3; class 1 only predicted -> 0; class 2 absent -> skipped.
    expect(macroF1(i32([0, 1]), i32([0, 0]), 3)).toBeCloseTo((2 / 3 + 0) / 2, 12);
  });
  it("is 1 for perfect predictions", () => {
    expect(macroF1(i32([2, 0, 1]), i32([2, 0, 1]), 3)).toBe(1);
  });
});

describe("computeMetrics", () => {
  it("returns the named metrics in order and rejects unknown names", () => {
    const out = computeMetrics(["f1", "accuracy"], i32([0, 1]), i32([0, 1]), 2);
    expect(Object.keys(out)).toEqual(["f1", "accuracy"]);
    expect(() => computeMetrics(["mse"], i32([0]), i32([0]), 1)).toThrow(
      /dataset.metrics: unknown metric 'mse'/,
    );
  });
});

describe("argmaxRows and isImprovement", () => {
  it("takes the first maximum of each row", () => {
    expect(Array.from(argmaxRows(Float32Array.from([1, 3, 3, -1, -2, -3]), 3))).toEqual([1, 0]);
  });
  it("lets any number beat NaN, also in the first column", () => {
    const logits = Float32Array.from([
      Number.NaN,
      1,
      2,
      /**/ 0,
      Number.NaN,
      -1,
      /**/ Number.NaN,
      Number.NaN,
      0,
    ]);
    expect(Array.from(argmaxRows(logits, 3))).toEqual([2, 0, 2]);
  });
  it("needs a strict improvement and never accepts NaN", () => {
    expect(isImprovement(0.5, 0.5)).toBe(false);
    expect(isImprovement(0.6, 0.5)).toBe(true);
    expect(isImprovement(Number.NaN, -1e32)).toBe(false);
  });
});
