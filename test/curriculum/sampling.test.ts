import { describe, expect, it } from "vitest";
import {
  CurriculumSampler,
  classCounts,
  difficultyOrder,
  originalQuotas,
  roundHalfEven,
  selectSubset,
  subsetClassWeights,
} from "../../src/curriculum/index.js";
import { expectCloseTo } from "../support/assert.js";

// 12 samples, 3 classes with 6/4/2 samples; ranks make position p's difficulty = DIFF[p].
const LABELS = Int32Array.from([0, 1, 0, 2, 0, 1, 0, 1, 2, 0, 1, 0]);
const DIFF = [0.9, 0.1, 0.5, 0.3, 0.2, 0.8, 0.0, 0.6, 0.95, 0.4, 0.7, 0.05];
const EASY_FIRST = [6, 11, 1, 4, 3, 9, 2, 7, 10, 5, 0, 8];

describe("difficulty order", () => {
  it("Curriculum sorts easiest first, AntiCurriculum hardest first", () => {
    expect(Array.from(difficultyOrder(DIFF, "Curriculum", 1))).toEqual(EASY_FIRST);
    expect(Array.from(difficultyOrder(DIFF, "AntiCurriculum", 1))).toEqual([...EASY_FIRST].reverse());
  });

  it("breaks ties by subset position in both directions", () => {
    expect(Array.from(difficultyOrder([0.5, 0.1, 0.5, 0.1], "Curriculum", 1))).toEqual([1, 3, 0, 2]);
    expect(Array.from(difficultyOrder([0.5, 0.1, 0.5, 0.1], "AntiCurriculum", 1))).toEqual([0, 2, 1, 3]);
  });

  it("RandomCurriculum is a permutation fixed by the seed and independent of the ranks", () => {
    const a = difficultyOrder(DIFF, "RandomCurriculum", 7);
    expect(Array.from(a).sort((x, y) => x - y)).toEqual([...Array(12).keys()]);
    expect(
      difficultyOrder(
        DIFF.map((d) => 1 - d),
        "RandomCurriculum",
        7,
      ),
    ).toEqual(a);
    expect(difficultyOrder(DIFF, "RandomCurriculum", 8)).not.toEqual(a);
  });
});

describe("subset selection", () => {
  const order = Int32Array.from(EASY_FIRST);

  it("Unbalanced takes the first `size` samples of the order", () => {
    expect(Array.from(selectSubset(order, LABELS, 3, 5, "Unbalanced"))).toEqual(EASY_FIRST.slice(0, 5));
  });

  it("Balanced takes ⌊size/C⌋ per class, all of a smaller class, never more than size", () => {
    const subset = selectSubset(order, LABELS, 3, 10, "Balanced"); // k = 3; class 2 has only 2
    expect(Array.from(classCounts(LABELS, 3, subset))).toEqual([3, 3, 2]);
    // the easiest of each class, in difficulty order
    expect(Array.from(subset)).toEqual([6, 11, 1, 4, 3, 7, 10, 8]);
    expect(Array.from(classCounts(LABELS, 3, selectSubset(order, LABELS, 3, 2, "Balanced")))).toEqual([
      0, 0, 0,
    ]);
  });

  it("Original keeps the class shares with round-half-even", () => {
    // shares 6/12, 4/12, 2/12 of size 6 → 3, 2, 1
    expect(Array.from(classCounts(LABELS, 3, selectSubset(order, LABELS, 3, 6, "Original")))).toEqual([
      3, 2, 1,
    ]);
    // size 3 → 1.5, 1.0, 0.5 → 2 (half to even), 1, 0 (half to even)
    expect(Array.from(classCounts(LABELS, 3, selectSubset(order, LABELS, 3, 3, "Original")))).toEqual([
      2, 1, 0,
    ]);
  });

  it("Original never exceeds size when rounding up overshoots", () => {
    expect(Array.from(originalQuotas([4, 4, 4], 5))).toEqual([2, 2, 1]); // 1.67 each → 2,2,2 → one back
    for (let size = 0; size <= 30; size++) {
      const q = originalQuotas([7, 7, 7, 3, 1], size);
      expect(q.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(size);
    }
  });

  it("every mode returns the whole set at size ≥ N and at most size otherwise", () => {
    for (const mode of ["Unbalanced", "Balanced", "Original"] as const) {
      expect(selectSubset(order, LABELS, 3, 12, mode)).toHaveLength(12);
      expect(selectSubset(order, LABELS, 3, 50, mode)).toHaveLength(12);
      for (let size = 0; size < 12; size++) {
        expect(selectSubset(order, LABELS, 3, size, mode).length).toBeLessThanOrEqual(size);
      }
    }
  });

  it("roundHalfEven rounds halves to the even neighbour", () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4, 2.6, -0.5, -1.5].map(roundHalfEven)).toEqual([0, 2, 2, 4, 2, 3, 0, -2]);
  });
});

describe("balanced class weights", () => {
  it("are normalised inverse frequencies of the subset; an absent class gets 0", () => {
    const w = subsetClassWeights(LABELS, 3, [6, 11, 1]); // classes 0, 0, 1; class 2 absent
    expect(Array.from(w)).toEqual([Math.fround(1 / 3), Math.fround(2 / 3), 0]);
    expect(w.every((v) => Number.isFinite(v))).toBe(true);
  });

  it("with all classes equal to (1/n_c) / Σ(1/n_k)", () => {
    const w = subsetClassWeights(LABELS, 3);
    const inv = [1 / 6, 1 / 4, 1 / 2];
    const total = inv.reduce((a, b) => a + b, 0);
    expectCloseTo(
      w,
      inv.map((v) => v / total),
      6,
      "class weights",
    );
  });
});

describe("CurriculumSampler", () => {
  const make = (type: "Curriculum" | "AntiCurriculum", size: number, seed = 3) =>
    new CurriculumSampler({
      order: difficultyOrder(DIFF, type, seed),
      labels: LABELS,
      numClasses: 3,
      mode: "Unbalanced",
      seed,
      initialSize: 0.25,
      size,
    });

  it("the first pass of Curriculum holds exactly the easiest samples, shuffled", () => {
    const pass = Array.from(make("Curriculum", 4).nextPass());
    expect([...pass].sort((a, b) => a - b)).toEqual(EASY_FIRST.slice(0, 4).sort((a, b) => a - b));
  });

  it("the first pass of AntiCurriculum holds exactly the hardest samples", () => {
    const pass = Array.from(make("AntiCurriculum", 4).nextPass());
    expect([...pass].sort((a, b) => a - b)).toEqual(EASY_FIRST.slice(-4).sort((a, b) => a - b));
  });

  it("reshuffles every pass and follows size changes", () => {
    const s = make("Curriculum", 12);
    const passes = Array.from({ length: 5 }, () => Array.from(s.nextPass()));
    expect(new Set(passes.map((p) => p.join())).size).toBeGreaterThan(1);
    s.setSize(6, 3);
    expect(s.nextPass()).toHaveLength(6);
    expect(s.getState()).toMatchObject({ size: 6, iteration: 3 });
  });

  it("a restored state gives the same passes as an uninterrupted sampler", () => {
    const straight = make("Curriculum", 5);
    straight.nextPass();
    straight.nextPass();
    const saved = JSON.parse(JSON.stringify(straight.getState()));
    straight.setSize(9, 2);
    const rest = [straight.nextPass(), straight.nextPass()];
    const resumed = make("Curriculum", 12, 3);
    resumed.setState(saved);
    resumed.setSize(9, 2);
    expect([resumed.nextPass(), resumed.nextPass()]).toEqual(rest);
  });

  it("the same seed gives the same passes; another seed other passes", () => {
    expect(make("Curriculum", 12, 3).nextPass()).toEqual(make("Curriculum", 12, 3).nextPass());
    expect(make("Curriculum", 12, 3).nextPass()).not.toEqual(make("Curriculum", 12, 4).nextPass());
  });

  it("an empty subset is the reference's error", () => {
    const s = new CurriculumSampler({
      order: Int32Array.from(EASY_FIRST),
      labels: LABELS,
      numClasses: 3,
      mode: "Balanced",
      seed: 1,
      initialSize: 0.1,
      size: 1,
    });
    expect(() => s.nextPass()).toThrow(
      "Unable to sample a training subset of size 1 with Balanced sampling and initial dataset fraction of 0.1",
    );
  });
});
