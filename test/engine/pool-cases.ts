/**
 * Pooled forward passes on a CNN and an FFNN, shared by the wasm test (pooling.test.ts) and the
 * torch one (torch-pooling.test.ts): every engine must return `forward`'s `pool` outputs bit for bit
 * equal to `applyPooling` of the same forward pass's unpooled outputs.
 */
import { expect } from "vitest";
import { applyPooling, type PoolPlan } from "../../src/engine/pooling.js";
import type { Network, NetworkSpec } from "../../src/engine/types.js";
import type { ParameterSet } from "../../src/models/index.js";
import { Rng } from "../../src/util/rng.js";

const pool2d = (x: number, y: number, channels: number, outX: number, outY: number): PoolPlan => ({
  kind: "pool2d",
  x,
  y,
  channels,
  outX,
  outY,
  size: outX * outY * channels,
});
const pool1d = (length: number, outLength: number): PoolPlan => ({
  kind: "pool1d",
  length,
  outLength,
  size: outLength,
});

/**
 * Plans over every kind of layer output: one channel (28×28 → 22×22, 14×14 → 5×3), 64 channels
 * (14×14 → 2×2, 7×7 → 3×3: windows overlap), 1-D with overlapping windows (20 → 7, 25 → 7, the
 * logits 10 → 3), an identity plan; `unpooled` layers are asked for without a plan.
 */
export const POOL_CASES: { spec: NetworkSpec; pool: Record<string, PoolPlan>; unpooled: string[] }[] = [
  {
    spec: { type: "CNN", inputShape: [28, 28, 1], outputDim: 10, params: { channels: [1, 64], hidden: 20 } },
    pool: {
      conv0: pool2d(28, 28, 1, 22, 22),
      pool0: pool2d(14, 14, 1, 5, 3),
      conv1: pool2d(14, 14, 64, 2, 2),
      pool1: pool2d(7, 7, 64, 3, 3),
      flatten: pool1d(3136, 100),
      linear0: pool1d(20, 7),
      relu2: { kind: "identity", size: 20 },
      linear1: pool1d(10, 3),
    },
    unpooled: ["relu1"],
  },
  {
    spec: { type: "FFNN", inputShape: [30], outputDim: 4, params: { hidden_sizes: [25, 9] } },
    pool: { linear0: pool1d(25, 7), relu1: pool1d(9, 4), linear2: { kind: "identity", size: 4 } },
    unpooled: ["relu0"],
  },
];

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/**
 * Checks one pooled forward pass of `net` on `n` random samples against `applyPooling` of its
 * unpooled outputs (of `input`, else random normal samples): same logits, pooled layers [n, plan.size]
 * with equal bits, the others unchanged.
 */
export function expectPooledForward(
  net: Network,
  { spec, pool, unpooled }: (typeof POOL_CASES)[number],
  n: number,
  input?: Float32Array,
): void {
  const rng = new Rng(29);
  const size = spec.inputShape.reduce((a, b) => a * b, 1);
  const x = input ?? Float32Array.from({ length: n * size }, () => rng.normal());
  const names = [...Object.keys(pool), ...unpooled];
  const plain = net.forward(x, n, names);
  const pooled = net.forward(x, n, names, { pool });
  expect(bits(pooled.logits)).toEqual(bits(plain.logits));
  for (const [name, plan] of Object.entries(pool)) {
    const layer = pooled.layers[name];
    const reference = applyPooling(plan, plain.layers[name]?.data ?? new Float32Array(0), n);
    expect(layer?.shape, name).toEqual([n, plan.size]);
    expect(reference.length, name).toBe(n * plan.size);
    expect(bits(layer?.data ?? new Float32Array(0)), name).toEqual(bits(reference));
  }
  for (const name of unpooled) {
    expect(pooled.layers[name]?.shape, name).toEqual(plain.layers[name]?.shape);
    expect(bits(pooled.layers[name]?.data ?? new Float32Array(0)), name).toEqual(
      bits(plain.layers[name]?.data ?? new Float32Array(0)),
    );
  }
}

/** A plan that does not fit its layer, and one for a layer that was not asked for, are refused. */
export function expectPoolRefusals(net: Network, spec: NetworkSpec): void {
  const size = spec.inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(2 * size);
  expect(() => net.forward(x, 2, ["conv1"], { pool: { conv1: pool2d(14, 14, 32, 2, 2) } })).toThrow(
    /forward: the pooling of layer 'conv1' .* expects an output of \[14, 14, 32\] per sample, the layer's is \[14, 14, 64\]/,
  );
  expect(() => net.forward(x, 2, ["linear0"], { pool: { linear0: pool1d(21, 7) } })).toThrow(
    /the pooling of layer 'linear0'.*expects an output of \[21\] per sample, the layer's is \[20\]/,
  );
  expect(() => net.forward(x, 2, ["conv0"], { pool: { conv1: pool2d(14, 14, 64, 2, 2) } })).toThrow(
    /forward: pool names layer 'conv1', which is not among the requested outputs/,
  );
}

/**
 * The CNN case with conv0 passing its input through unchanged (a 3×3 kernel of 0s with a 1 at the
 * centre, no bias), and inputs that are ±2^60 or normal: a window's float64 sum then depends on
 * whether its normal values come before or after its large ones cancel (2^60 + s loses s), so a
 * pooling that added conv0's values in another order than `applyPooling` gives other results.
 */
export function cancellingInputs(n: number): { weights: ParameterSet; x: Float32Array } {
  const kernel = new Float32Array(9);
  kernel[4] = 1;
  const weights: ParameterSet = new Map([
    ["conv0.weight", { shape: [1, 1, 3, 3], data: kernel }],
    ["conv0.bias", { shape: [1], data: new Float32Array(1) }],
  ]);
  const rng = new Rng(31);
  const x = Float32Array.from({ length: n * 28 * 28 }, () =>
    rng.int(2) === 0 ? (rng.int(2) === 0 ? 2 ** 60 : -(2 ** 60)) : rng.normal(),
  );
  return { weights, x };
}
