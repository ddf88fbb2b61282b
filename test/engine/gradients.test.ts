/**
 * Gradient parity: every layer type the built-in models use is trained on tiny inputs on the wasm
 * backend (with curricula's kernels) and on the pure-JS cpu backend; loss and all gradients must
 * agree. The kernels the cpu backend also gets from curricula (Conv2DBackpropFilter) are checked
 * against a naive loop, and MaxPoolGrad against a naive loop with all-negative windows.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { beforeAll, describe, expect, it } from "vitest";
import { initEngine, maxPoolGradNHWC } from "../../src/engine/index.js";
import { attachDropoutRng, SeededConv2D, SeededDropout } from "../../src/engine/layers.js";
import { Rng } from "../../src/util/rng.js";

type Backend = "cpu" | "wasm";

/** Deterministic values in [-0.5, 0.5) (+ offset), independent of the backend. */
function values(n: number, seed: number, offset = 0): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.random() - 0.5 + offset);
}

interface Case {
  name: string;
  inputShape: number[];
  layers: () => tfl.layers.Layer[];
  /** Added to every input value (negative: all-negative pooling windows). */
  inputOffset?: number;
  /** Added to every bias (negative: all-negative pre-pool activations). */
  biasOffset?: number;
  /** Gradients that are zero in exact arithmetic (a conv bias right before batch norm). */
  zeroGrads?: number[];
}

const conv = (args: { filters: number; kernelSize: number; padding?: "same" | "valid"; strides?: number }) =>
  tfl.layers.conv2d({ ...args, padding: args.padding ?? "valid" });

const CASES: Case[] = [
  {
    name: "dense + relu",
    inputShape: [10],
    layers: () => [tfl.layers.dense({ units: 6 }), tfl.layers.reLU(), tfl.layers.dense({ units: 4 })],
  },
  {
    name: "conv2d valid",
    inputShape: [7, 7, 2],
    layers: () => [conv({ filters: 3, kernelSize: 3 }), tfl.layers.flatten(), tfl.layers.dense({ units: 4 })],
  },
  {
    name: "conv2d same",
    inputShape: [6, 6, 2],
    layers: () => [
      conv({ filters: 3, kernelSize: 3, padding: "same" }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4 }),
    ],
  },
  {
    name: "conv2d same 1x1",
    inputShape: [5, 5, 3],
    layers: () => [
      conv({ filters: 2, kernelSize: 1, padding: "same" }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4 }),
    ],
  },
  {
    name: "conv2d stride 2",
    inputShape: [7, 7, 2],
    layers: () => [
      conv({ filters: 3, kernelSize: 3, padding: "same", strides: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4 }),
    ],
  },
  {
    name: "conv stack same + relu",
    inputShape: [6, 6, 2],
    layers: () => [
      conv({ filters: 3, kernelSize: 3, padding: "same" }),
      tfl.layers.reLU(),
      conv({ filters: 2, kernelSize: 3, padding: "same" }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4 }),
    ],
  },
  {
    name: "maxpool after relu",
    inputShape: [8, 8, 2],
    layers: () => [
      conv({ filters: 3, kernelSize: 3, padding: "same" }),
      tfl.layers.reLU(),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4 }),
    ],
  },
  {
    name: "maxpool with all-negative windows",
    inputShape: [8, 8, 2],
    biasOffset: -5,
    layers: () => [
      conv({ filters: 3, kernelSize: 3, padding: "same" }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4 }),
    ],
  },
  {
    name: "maxpool odd size, pool 3 stride 2 same",
    inputShape: [7, 7, 2],
    biasOffset: -2,
    layers: () => [
      conv({ filters: 3, kernelSize: 3 }),
      tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "same" }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4 }),
    ],
  },
  {
    name: "batch norm (training mode) + global average pooling",
    inputShape: [6, 6, 2],
    zeroGrads: [1],
    layers: () => [
      conv({ filters: 3, kernelSize: 3, padding: "same" }),
      tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }),
      tfl.layers.reLU(),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 4 }),
    ],
  },
  {
    name: "batch norm then maxpool (negative values)",
    inputShape: [6, 6, 2],
    zeroGrads: [1],
    layers: () => [
      conv({ filters: 3, kernelSize: 3, padding: "same" }),
      tfl.layers.batchNormalization({}),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4 }),
    ],
  },
  {
    name: "curricula conv layer (unfused training path), same + valid stride 2",
    inputShape: [7, 7, 2],
    layers: () => [
      new SeededConv2D({ filters: 3, kernelSize: 3, padding: "same" }),
      tfl.layers.reLU(),
      new SeededConv2D({ filters: 2, kernelSize: 3, padding: "valid", strides: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4 }),
    ],
  },
  {
    name: "seeded dropout (training)",
    inputShape: [10],
    layers: () => [
      tfl.layers.dense({ units: 8 }),
      new SeededDropout({ rate: 0.5 }),
      tfl.layers.dense({ units: 4 }),
    ],
  },
];

function residualModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [6, 6, 3] });
  const a = tfl.layers
    .conv2d({ filters: 3, kernelSize: 3, padding: "same" })
    .apply(input) as tfl.SymbolicTensor;
  const b = tfl.layers.batchNormalization({}).apply(a) as tfl.SymbolicTensor;
  const sum = tfl.layers.add({}).apply([b, input]) as tfl.SymbolicTensor;
  const r = tfl.layers.reLU().apply(sum) as tfl.SymbolicTensor;
  const g = tfl.layers.globalAveragePooling2d({}).apply(r) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 4 }).apply(g) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

interface GradResult {
  loss: number;
  grads: Float32Array[];
  evalOut: Float32Array;
}

async function gradients(
  backend: Backend,
  build: () => tfl.LayersModel,
  c: Pick<Case, "inputShape" | "inputOffset" | "biasOffset">,
): Promise<GradResult> {
  await initEngine({ backend });
  const model = build();
  attachDropoutRng(model, new Rng(7));
  let seed = 100;
  model.setWeights(
    model.weights.map((w) => {
      seed++;
      // Weight shapes are fully known (no batch dimension).
      const shape = w.shape as number[];
      if (/moving_variance/.test(w.name)) return tf.ones(shape);
      const offset = /bias/.test(w.name) ? (c.biasOffset ?? 0) : 0;
      return tf.tensor(
        values(
          shape.reduce((a, b) => a * b, 1),
          seed,
          offset,
        ),
        shape,
      );
    }),
  );
  const n = 4;
  const x = tf.tensor(values(n * c.inputShape.reduce((a, b) => a * b, 1), 1, c.inputOffset ?? 0), [
    n,
    ...c.inputShape,
  ]);
  const y = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3], "int32"), 4), "float32");
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
    vars,
  );
  const evalOut = (model.apply(x, { training: false }) as tf.Tensor).dataSync() as Float32Array;
  const result = {
    loss: value.dataSync()[0] as number,
    grads: vars.map((v) => (grads[v.name] as tf.Tensor).dataSync() as Float32Array),
    evalOut,
  };
  model.dispose();
  tf.dispose([x, y, value, ...Object.values(grads)]);
  return result;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

async function expectParity(
  build: () => tfl.LayersModel,
  c: Pick<Case, "inputShape" | "inputOffset" | "biasOffset" | "zeroGrads">,
) {
  const ref = await gradients("cpu", build, c);
  const got = await gradients("wasm", build, c);
  expect(Math.abs(ref.loss - got.loss)).toBeLessThan(1e-4);
  expect(maxAbsDiff(ref.evalOut, got.evalOut)).toBeLessThan(1e-4);
  expect(ref.grads.length, "gradients on cpu").toBeGreaterThan(0);
  expect(got.grads.length, "gradients on wasm").toBe(ref.grads.length);
  ref.grads.forEach((g, i) => {
    // Every gradient must be non-trivial, or the comparison would prove nothing.
    if (!c.zeroGrads?.includes(i)) expect(maxAbs(g), `gradient ${i} is all zero`).toBeGreaterThan(1e-6);
    expect(maxAbsDiff(g, got.grads[i] as Float32Array), `gradient ${i}`).toBeLessThan(1e-4);
  });
}

describe("wasm gradients match the cpu backend", () => {
  beforeAll(async () => {
    await initEngine({ backend: "wasm" });
  });
  for (const c of CASES) {
    it(c.name, async () => {
      await expectParity(
        () =>
          tfl.sequential({ layers: [tfl.layers.inputLayer({ inputShape: c.inputShape }), ...c.layers()] }),
        c,
      );
    });
  }
  it("residual add + batch norm + global average pooling", async () => {
    await expectParity(residualModel, { inputShape: [6, 6, 3], zeroGrads: [1] });
  });
});

/** Naive dW of a NHWC conv (stride s, explicit padding) against an output gradient. */
function naiveFilterGrad(
  x: Float32Array,
  xs: number[],
  dy: Float32Array,
  dys: number[],
  k: number,
  ci: number,
  co: number,
  s: number,
  pad: number,
): Float64Array {
  const [B, H, W] = xs as [number, number, number];
  const [, OH, OW] = dys as [number, number, number];
  const dw = new Float64Array(k * k * ci * co);
  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let kh = 0; kh < k; kh++)
          for (let kw = 0; kw < k; kw++) {
            const ih = oh * s + kh - pad;
            const iw = ow * s + kw - pad;
            if (ih < 0 || iw < 0 || ih >= H || iw >= W) continue;
            for (let c = 0; c < ci; c++)
              for (let o = 0; o < co; o++) {
                const at = ((kh * k + kw) * ci + c) * co + o;
                dw[at] =
                  (dw[at] as number) +
                  (x[((b * H + ih) * W + iw) * ci + c] as number) *
                    (dy[((b * OH + oh) * OW + ow) * co + o] as number);
              }
          }
  return dw;
}

describe("curricula kernels against naive loops", () => {
  for (const backend of ["wasm", "cpu"] as const) {
    for (const [stride, padding, pad, ci, co] of [
      [1, "same", 1, 3, 4],
      [1, "valid", 0, 3, 4],
      [2, "valid", 0, 3, 4],
      // One input channel, more filters than patch entries (the first conv layer's shape).
      [1, "same", 1, 1, 16],
      [2, "same", 1, 2, 5],
    ] as const) {
      it(`Conv2DBackpropFilter on ${backend}, stride ${stride}, ${padding}, ${ci} -> ${co} channels`, async () => {
        await initEngine({ backend });
        const xs: [number, number, number, number] = [2, 7, 7, ci];
        const x = values(2 * 7 * 7 * ci, 3);
        const out = tf.conv2d(
          tf.zeros(xs) as tf.Tensor4D,
          tf.zeros([3, 3, ci, co]) as tf.Tensor4D,
          stride,
          padding,
        );
        const dys = out.shape;
        const dy = values(out.size, 4);
        out.dispose();
        const got = tf.tidy(() => {
          const xt = tf.tensor4d(x, xs);
          const r = tf.tensor4d(dy, dys);
          const grad = tf.grad((w: tf.Tensor) =>
            tf.sum(tf.mul(tf.conv2d(xt, w as tf.Tensor4D, stride, padding), r)),
          );
          return grad(tf.zeros([3, 3, ci, co])).dataSync() as Float32Array;
        });
        const want = naiveFilterGrad(x, xs, dy, dys, 3, ci, co, stride, pad);
        expect(maxAbsDiff(got as Float32Array, want)).toBeLessThan(1e-4);
      });
    }
  }

  it("maxPoolGradNHWC routes the gradient of all-negative windows to the first maximum", () => {
    // One 2x2 window over 1 channel: values all negative, max -1 at position 2.
    const x = Float32Array.from([-3, -2, -1, -4]);
    const dx = new Float32Array(4);
    const g = {
      batch: 1,
      channels: 1,
      inHeight: 2,
      inWidth: 2,
      outHeight: 1,
      outWidth: 1,
      strideHeight: 2,
      strideWidth: 2,
      filterHeight: 2,
      filterWidth: 2,
      dilationHeight: 1,
      dilationWidth: 1,
      padTop: 0,
      padLeft: 0,
    };
    maxPoolGradNHWC(x, Float32Array.from([5]), dx, g);
    expect(Array.from(dx)).toEqual([0, 0, 5, 0]);
    // Ties go to the first position; overlapping windows accumulate.
    const x2 = Float32Array.from([1, 1, 0, 1, 1, 0]);
    const dx2 = new Float32Array(6);
    maxPoolGradNHWC(x2, Float32Array.from([1, 2]), dx2, {
      ...g,
      inHeight: 1,
      inWidth: 6,
      outHeight: 1,
      outWidth: 2,
      filterHeight: 1,
      filterWidth: 3,
      strideHeight: 1,
      strideWidth: 3,
    });
    expect(Array.from(dx2)).toEqual([1, 0, 0, 2, 0, 0]);
  });

  it("Sum over leading axes (bias gradients) matches the cpu backend, with and without keepDims", async () => {
    const run = async (backend: Backend) => {
      await initEngine({ backend });
      return tf.tidy(() => {
        const x = tf.tensor4d(values(3 * 4 * 5 * 6, 12), [3, 4, 5, 6]);
        return [tf.sum(x, [0, 1, 2]), tf.sum(x, [2, 0, 1], true), tf.sum(x, [0, 1]), tf.sum(x, -1)].map(
          (t) => ({
            shape: t.shape,
            data: Array.from(t.dataSync()),
          }),
        );
      });
    };
    const ref = await run("cpu");
    const got = await run("wasm");
    expect(ref.length, "gradients on cpu").toBeGreaterThan(0);
    expect(got.length, "gradients on wasm").toBe(ref.length);
    ref.forEach((r, i) => {
      expect(got[i]?.shape).toEqual(r.shape);
      expect(maxAbsDiff(r.data, got[i]?.data ?? [])).toBeLessThan(1e-4);
    });
  });

  it("wasm MaxPoolGrad op matches the cpu backend on negative inputs", async () => {
    const run = async (backend: Backend) => {
      await initEngine({ backend });
      return tf.tidy(() => {
        const x = tf.tensor4d(values(2 * 6 * 6 * 3, 9, -3), [2, 6, 6, 3]);
        const w = tf.tensor4d(values(2 * 3 * 3 * 3, 10), [2, 3, 3, 3]);
        const grad = tf.grad((t: tf.Tensor) =>
          tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 2, 2, "valid"), w)),
        );
        return grad(x).dataSync() as Float32Array;
      });
    };
    const ref = await run("cpu");
    const got = await run("wasm");
    expect(maxAbs(ref)).toBeGreaterThan(0.1);
    expect(maxAbsDiff(ref, got)).toBeLessThan(1e-6);
  });
});
