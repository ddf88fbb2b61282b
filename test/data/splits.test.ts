import { describe, expect, it } from "vitest";
import { encodeLabels, encodeWith, rawToCode, sortClassNames } from "../../src/data/labels.js";
import { apportion, positionalSplit, randomSplit, stratifiedSplit } from "../../src/data/splits.js";
import { Rng } from "../../src/util/rng.js";

describe("label encoding", () => {
  it("sorts class names lexicographically and codes them by position", () => {
    expect(sortClassNames(["class_2", "class_10", "class_1", "class_2"])).toEqual([
      "class_1",
      "class_10",
      "class_2",
    ]);
    const { classNames, codes } = encodeLabels(["cat", "dog", "ant", "dog"]);
    expect(classNames).toEqual(["ant", "cat", "dog"]);
    expect(Array.from(codes)).toEqual([1, 2, 0, 2]);
  });

  it("maps raw integer ids through their sorted names", () => {
    const { classNames, codeOfRaw } = rawToCode(["malignant", "benign"]);
    expect(classNames).toEqual(["benign", "malignant"]);
    expect(Array.from(codeOfRaw)).toEqual([1, 0]);
  });

  it("rejects a label that is not a class", () => {
    expect(() => encodeWith(["a", "b"], ["c"])).toThrow(/'c'/);
  });
});

describe("apportion", () => {
  it("splits a total in proportion, largest remainder first", () => {
    expect(Array.from(apportion(10, [5, 3, 2], [5, 3, 2]))).toEqual([5, 3, 2]);
    // Quotas 1.5, 0.9, 0.6: floors 1, 0, 0, then the two largest remainders.
    expect(Array.from(apportion(3, [5, 3, 2], [5, 3, 2]))).toEqual([1, 1, 1]);
    // Quotas 1.5, 1.5: ties go to the lower index.
    expect(Array.from(apportion(3, [1, 1], [9, 9]))).toEqual([2, 1]);
  });

  it("never exceeds a group's capacity", () => {
    const out = apportion(4, [1, 1, 1, 1], [0, 2, 2, 2]);
    expect(out[0]).toBe(0);
    expect(out.reduce((a, b) => a + b, 0)).toBe(4);
  });
});

describe("splits", () => {
  const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 50 ? 0 : i < 80 ? 1 : 2));

  it("stratifies held-out parts by class frequency and covers every row once", () => {
    const s = stratifiedSplit(labels, 3, { dev: 0.2, test: 0.2 }, new Rng(1));
    expect([s.train.length, s.dev.length, s.test.length]).toEqual([60, 20, 20]);
    const count = (rows: Int32Array, c: number) => Array.from(rows).filter((r) => labels[r] === c).length;
    expect([0, 1, 2].map((c) => count(s.test, c))).toEqual([10, 6, 4]);
    expect([0, 1, 2].map((c) => count(s.dev, c))).toEqual([10, 6, 4]);
    const all = [...s.train, ...s.dev, ...s.test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(s.train)).toEqual([...s.train].sort((a, b) => a - b));
  });

  it("is determined by the rng seed", () => {
    const a = stratifiedSplit(labels, 3, { dev: 0.2, test: 0.2 }, new Rng(7));
    const b = stratifiedSplit(labels, 3, { dev: 0.2, test: 0.2 }, new Rng(7));
    const c = stratifiedSplit(labels, 3, { dev: 0.2, test: 0.2 }, new Rng(8));
    expect(a).toEqual(b);
    expect(Array.from(a.test)).not.toEqual(Array.from(c.test));
  });

  it("rejects labels outside the class range", () => {
    expect(() => stratifiedSplit(Int32Array.of(0, 3), 2, { dev: 0.5, test: 0 }, new Rng(1))).toThrow(
      /label 3/,
    );
  });

  it("random split sizes use floor of the fractions", () => {
    const s = randomSplit(11, { dev: 0.2, test: 0.3 }, new Rng(1));
    expect([s.train.length, s.dev.length, s.test.length]).toEqual([6, 2, 3]);
  });

  it("positional split takes train first, then dev, then test (autrainer ToyDataset)", () => {
    const s = positionalSplit(10, { dev: 0.2, test: 0.3 });
    expect(Array.from(s.train)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(s.dev)).toEqual([5, 6]);
    expect(Array.from(s.test)).toEqual([7, 8, 9]);
  });
});
