import { describe, expect, it } from "vitest";
import { optimizerSpecFor } from "../../src/engine/optimizer-spec.js";
import { cosineLr, countEvaluations, createSchedule, stepLr } from "../../src/training/schedulers.js";

describe("schedulers", () => {
  it("None keeps the base rate", () => {
    const s = createSchedule({ id: "None", type: "None" }, 0.01, 10);
    expect([0, 5, 100].map(s)).toEqual([0.01, 0.01, 0.01]);
  });
  it("StepLR multiplies by gamma every step_size steps", () => {
    const s = createSchedule({ id: "StepLR", type: "StepLR", step_size: 2, gamma: 0.5 }, 0.1, 10);
    expect([0, 1, 2, 3, 4].map(s)).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
    expect(stepLr(1, 59, 30, 0.1)).toBeCloseTo(0.1, 12);
  });
  it("Cosine anneals from the base rate to eta_min over the evaluations", () => {
    const s = createSchedule({ id: "Cosine", type: "Cosine", eta_min: 0.001 }, 0.1, 4);
    expect(s(0)).toBeCloseTo(0.1, 12);
    expect(s(2)).toBeCloseTo(0.001 + (0.099 * (1 + Math.cos(Math.PI / 2))) / 2, 12);
    expect(s(2)).toBeCloseTo(0.0505, 12);
    expect(s(4)).toBeCloseTo(0.001, 12);
    expect(s(9)).toBe(0.001);
    expect(cosineLr(1, 1, 4, 0)).toBeCloseTo((1 + Math.SQRT1_2) / 2, 12);
  });
  it("rejects an eta_min above the base rate", () => {
    expect(() => createSchedule({ id: "Cosine", type: "Cosine", eta_min: 1 }, 0.1, 4)).toThrow(
      /scheduler.eta_min/,
    );
  });
  it("counts evaluations including the last iteration", () => {
    expect(countEvaluations(10, 1)).toBe(10);
    expect(countEvaluations(10, 3)).toBe(4);
  });
});

describe("optimizerSpecFor", () => {
  it("maps the optimizer group and learning rate onto the engine spec", () => {
    expect(
      optimizerSpecFor({
        learning_rate: 0.05,
        optimizer: { id: "SGD-m", type: "SGD", momentum: 0.9, weight_decay: 0.0001 },
      }),
    ).toEqual({ type: "SGD", learningRate: 0.05, momentum: 0.9, weightDecay: 0.0001 });
  });
});
