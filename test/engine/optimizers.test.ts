/** The fused optimiser loops against PyTorch's update rules written out step by step. */
import { describe, expect, it } from "vitest";
import { adamUpdate, sgdUpdate } from "../../src/engine/wasm/optimizers.js";

/** torch.optim.Adam/AdamW for one scalar weight, in float64. */
function torchAdam(w0: number, grads: number[], lr: number, wd: number, decoupled: boolean): number {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  let [w, m, v] = [w0, 0, 0];
  grads.forEach((g0, i) => {
    const t = i + 1;
    let g = g0;
    if (decoupled) w *= 1 - lr * wd;
    else g += wd * w;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const denom = Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps;
    w -= (lr / (1 - b1 ** t)) * (m / denom);
  });
  return w;
}

describe("adamUpdate", () => {
  for (const [name, wd, decoupled] of [
    ["Adam", 0, false],
    ["Adam with L2", 0.1, false],
    ["AdamW", 0.1, true],
  ] as const) {
    it(`${name}: three steps follow torch.optim`, () => {
      const grads = [
        [0.5, -3, 0],
        [0.25, 1, 2],
        [-1, 0.5, 0.125],
      ];
      const start = [1, -2, 0.5];
      const p = Float32Array.from(start);
      const m = new Float32Array(3);
      const v = new Float32Array(3);
      grads.forEach((g, i) => {
        adamUpdate(p, Float32Array.from(g), m, v, {
          lr: 0.01,
          beta1: 0.9,
          beta2: 0.999,
          epsilon: 1e-8,
          weightDecay: wd,
          decoupled,
          step: i + 1,
        });
      });
      start.forEach((w0, j) => {
        const want = torchAdam(
          w0,
          grads.map((g) => g[j] as number),
          0.01,
          wd,
          decoupled,
        );
        expect(p[j]).toBeCloseTo(want, 6);
      });
    });
  }
});

describe("sgdUpdate", () => {
  it("plain SGD is p -= lr * g", () => {
    const p = Float32Array.from([1, 2]);
    sgdUpdate(p, Float32Array.from([0.5, -1]), null, true, {
      lr: 0.1,
      momentum: 0,
      nesterov: false,
      weightDecay: 0,
    });
    expect(p[0]).toBeCloseTo(0.95, 6);
    expect(p[1]).toBeCloseTo(2.1, 6);
  });
  it("momentum buffer starts at the first gradient, then buf = momentum * buf + g", () => {
    const p = Float32Array.from([0]);
    const buf = new Float32Array(1);
    const h = { lr: 1, momentum: 0.5, nesterov: false, weightDecay: 0 };
    sgdUpdate(p, Float32Array.from([1]), buf, true, h);
    expect(buf[0]).toBe(1);
    expect(p[0]).toBe(-1);
    sgdUpdate(p, Float32Array.from([1]), buf, false, h);
    expect(buf[0]).toBe(1.5);
    expect(p[0]).toBe(-2.5);
  });
});
