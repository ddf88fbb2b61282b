import { describe, expect, it } from "vitest";
import { gammaScale, parseLibsvmModel, trueClassMargins } from "../../src/scoring/math/svm.js";
import { loadLibsvm } from "../../src/scoring/svm-loader.js";
import { Rng } from "../../src/util/rng.js";

describe("libsvm helpers", () => {
  it("gamma 'scale' is 1 / (D · Var(X))", () => {
    // values 0, 2, 0, 2: variance 1, D = 2
    expect(gammaScale(Float32Array.from([0, 2, 0, 2]), 2)).toBeCloseTo(0.5, 12);
    expect(gammaScale(Float32Array.from([1, 1, 1, 1]), 2)).toBe(0.5);
  });

  it("the true-class margin from a saved model agrees with libsvm's one-vs-one prediction", async () => {
    const SVM = await loadLibsvm();
    const rng = new Rng(4);
    const dim = 3;
    const n = 90;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const x = Float32Array.from(
      { length: n * dim },
      (_, i) => (labels[Math.floor(i / dim)] as number) * 0.8 * ((i % dim) + 1) * 0.5 + rng.normal(),
    );
    const rows = Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * dim, (i + 1) * dim)));
    const svm = new SVM({
      kernel: SVM.KERNEL_TYPES.RBF,
      type: SVM.SVM_TYPES.C_SVC,
      gamma: gammaScale(x, dim),
      cost: 1,
      quiet: true,
    });
    svm.train(rows, Array.from(labels));
    const predicted = (svm as unknown as { predict(s: number[][]): number[] }).predict(rows);
    const margins = trueClassMargins(parseLibsvmModel(svm.serializeModel(), dim), x, labels);
    svm.free();
    let checked = 0;
    for (let i = 0; i < n; i++) {
      // a positive margin wins every pairwise vote, so libsvm predicts the true class
      if ((margins[i] as number) > 1e-9) {
        expect(predicted[i]).toBe(labels[i]);
        checked++;
      }
      // a wrong prediction means some pairwise vote was lost
      if (predicted[i] !== labels[i]) expect(margins[i]).toBeLessThanOrEqual(1e-9);
    }
    expect(checked).toBeGreaterThan(n / 2);
  });
});
