import { describe, expect, it } from "vitest";
import {
  balancedClassWeights,
  criterionClassWeights,
  perSampleCrossEntropy,
  reduceLosses,
} from "../../src/training/criteria.js";

describe("perSampleCrossEntropy", () => {
  it("equals -log softmax(z)_y computed directly", () => {
    const logits = Float32Array.from([1, 2, 3, 0.5, -1, 0]);
    const labels = Int32Array.from([2, 0]);
    const out = perSampleCrossEntropy(logits, labels, 3);
    const direct = (row: number[], y: number) =>
      -Math.log(Math.exp(row[y] as number) / row.reduce((s, v) => s + Math.exp(v), 0));
    expect(out[0]).toBeCloseTo(direct([1, 2, 3], 2), 6);
    expect(out[1]).toBeCloseTo(direct([0.5, -1, 0], 0), 6);
  });
  it("stays finite for huge logits", () => {
    const out = perSampleCrossEntropy(Float32Array.from([1000, 0, -1000, 1000]), Int32Array.from([1, 0]), 2);
    expect(out[0]).toBeCloseTo(1000, 3);
    expect(out[1]).toBeCloseTo(2000, 3);
  });
  it("multiplies by the class weight of the label (PyTorch reduction none)", () => {
    const logits = Float32Array.from([0, 0, 0, 0]);
    const w = Float32Array.from([0.25, 0.75]);
    const out = perSampleCrossEntropy(logits, Int32Array.from([0, 1]), 2, w);
    expect(out[0]).toBeCloseTo(0.25 * Math.log(2), 6);
    expect(out[1]).toBeCloseTo(0.75 * Math.log(2), 6);
  });
  it("rejects logits that do not fit the labels", () => {
    expect(() => perSampleCrossEntropy(new Float32Array(5), new Int32Array(2), 3)).toThrow(/5 logits/);
  });
});

describe("balancedClassWeights", () => {
  it("is the normalised inverse class frequency", () => {
    // counts 3, 1 -> 1/3, 1 -> normalised 0.25, 0.75
    const w = balancedClassWeights([0, 0, 0, 1], 2);
    expect(w[0]).toBeCloseTo(0.25, 6);
    expect(w[1]).toBeCloseTo(0.75, 6);
  });
  it("gives an absent class weight 0 and produces no NaN", () => {
    const w = balancedClassWeights([0, 0, 2], 3);
    expect(Array.from(w).every(Number.isFinite)).toBe(true);
    expect(w[1]).toBe(0);
    expect(w[0]).toBeCloseTo(1 / 3, 6);
    expect(w[2]).toBeCloseTo(2 / 3, 6);
    const losses = perSampleCrossEntropy(new Float32Array(9), Int32Array.from([0, 0, 2]), 3, w);
    expect(Number.isFinite(reduceLosses(losses, Int32Array.from([0, 0, 2]), w))).toBe(true);
  });
  it("is null for plain CrossEntropy", () => {
    expect(criterionClassWeights("CrossEntropy", [0, 1], 2)).toBeNull();
    expect(criterionClassWeights("BalancedCrossEntropy", [0, 1], 2)).toEqual(Float32Array.from([0.5, 0.5]));
  });
});

describe("reduceLosses", () => {
  it("is the mean without weights and sum(w l)/sum(w) with weights", () => {
    expect(reduceLosses(Float32Array.from([1, 2, 3]), Int32Array.from([0, 0, 1]))).toBeCloseTo(2, 6);
    const w = Float32Array.from([0.25, 0.75]);
    // losses already weighted: 0.25*1, 0.25*2, 0.75*3
    const weighted = Float32Array.from([0.25, 0.5, 2.25]);
    expect(reduceLosses(weighted, Int32Array.from([0, 0, 1]), w)).toBeCloseTo(3 / 1.25, 6);
  });
});
