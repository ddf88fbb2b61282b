import { describe, expect, it } from "vitest";
import {
  cartography,
  confidentJoint,
  dataMapRegions,
  grandLastLayer,
} from "../../src/scoring/math/dynamics.js";
import { L3, labels, sequence } from "../support/dynamics-pattern.js";

describe("Cartography, data maps and GraNd on hand-made sequences", () => {
  it("Cartography: confidence = mean p_y, variability = population std, correctness = fraction right", () => {
    const { confidence, variability, correctness } = cartography(sequence, labels, 2);
    // p_y is 0.75 when right and 0.25 when wrong (float32 logits: 1e-7 tolerance)
    expect(confidence[0]).toBeCloseTo(0.625, 6);
    expect(variability[0]).toBeCloseTo(Math.sqrt((3 * 0.125 ** 2 + 0.375 ** 2) / 4), 6);
    expect(correctness[0]).toBe(0.75);
    expect(confidence[1]).toBeCloseTo(0.25, 6);
    expect(variability[1]).toBeCloseTo(0, 6);
    expect(correctness[1]).toBe(0);
    expect(confidence[2]).toBeCloseTo(0.75, 6);
    expect(correctness[2]).toBe(1);
    expect(variability[3]).toBeCloseTo(0.25, 6);
    expect(correctness[3]).toBe(0.5);
  });

  it("data map regions: ambiguous by variability first, then easy or hard by confidence", () => {
    expect(
      dataMapRegions([0.9, 0.9, 0.1, 0.5], [0.05, 0.3, 0.05, 0.199], { confidence: 0.5, variability: 0.2 }),
    ).toEqual(["easy-to-learn", "ambiguous", "hard-to-learn", "easy-to-learn"]);
  });

  it("the last-layer GraNd of a known softmax", () => {
    const logits = Float32Array.from([L3, 0, 0, L3]);
    const y = Int32Array.from([0, 0]);
    const g = grandLastLayer(logits, Float32Array.from([3, 4, 0, 0]), 2, y, 2);
    expect(g[0]).toBeCloseTo(Math.sqrt(2 * 0.25 ** 2) * Math.sqrt(26), 6);
    expect(g[1]).toBeCloseTo(Math.sqrt(2 * 0.75 ** 2), 6);
  });
});

describe("confident joint", () => {
  // Three classes; thresholds are the mean self-confidence per given label.
  const probs = Float64Array.from([
    // label 0
    0.9,
    0.05,
    0.05,
    0.7,
    0.2,
    0.1,
    0.1,
    0.8,
    0.1, // looks like class 1: issue
    // label 1
    0.1,
    0.8,
    0.1,
    0.2,
    0.6,
    0.2,
    // label 2
    0.05,
    0.05,
    0.9,
    0.3,
    0.3,
    0.4, // nothing clears its threshold confidently except... see below
  ]);
  const y = Int32Array.from([0, 0, 0, 1, 1, 2, 2]);

  it("thresholds are per-class mean self-confidence; issues are off-diagonal assignments", () => {
    const cj = confidentJoint(probs, y, 3);
    expect(cj.thresholds[0]).toBeCloseTo((0.9 + 0.7 + 0.1) / 3, 12);
    expect(cj.thresholds[1]).toBeCloseTo(0.7, 12);
    expect(cj.thresholds[2]).toBeCloseTo(0.65, 12);
    // sample 2: p1 = 0.8 ≥ 0.7 and p0 = 0.1 < 0.567 → assigned 1, an issue
    expect(Array.from(cj.assigned)).toEqual([0, 0, 1, 1, -1, 2, -1]);
    expect(Array.from(cj.issue)).toEqual([0, 0, 1, 0, 0, 0, 0]);
    expect(cj.joint[0 * 3 + 1]).toBe(1);
    expect(cj.joint[0 * 3 + 0]).toBe(2);
    expect(Array.from(cj.selfConfidence)).toEqual([0.9, 0.7, 0.1, 0.8, 0.6, 0.9, 0.4]);
  });

  it("the most confident of several classes clearing their thresholds is chosen", () => {
    // label 0 with p = (0.6, 0.4): class 0 threshold 0.6, class 1 threshold 0.2 (from the other sample)
    const cj = confidentJoint(Float64Array.from([0.6, 0.4, 0.8, 0.2]), Int32Array.from([0, 1]), 2);
    expect(cj.thresholds[1]).toBeCloseTo(0.2, 12);
    expect(Array.from(cj.assigned)).toEqual([0, 0]);
    expect(Array.from(cj.issue)).toEqual([0, 1]);
  });
});
