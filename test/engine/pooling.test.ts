/**
 * Adaptive average pooling (src/engine/pooling.ts): the arithmetic, the plans PredictionDepth makes,
 * their checks, and `forward`'s `pool` option on the wasm engine (bit-identical to `applyPooling`).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createNetwork, initEngine } from "../../src/engine/index.js";
import {
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  applyPooling,
  checkPoolPlan,
  planPooling,
  poolLayerOutputs,
} from "../../src/engine/pooling.js";
import { cancellingInputs, expectPooledForward, expectPoolRefusals, POOL_CASES } from "./pool-cases.js";

describe("adaptive average pooling", () => {
  it("1-D pools with PyTorch's overlapping windows", () => {
    // length 5 → 3: windows [0,2), [1,4), [3,5)
    expect(Array.from(adaptiveAvgPool1d(Float32Array.from([1, 2, 3, 4, 5]), 1, 5, 3))).toEqual([1.5, 3, 4.5]);
  });
  it("2-D pools channels-last per channel", () => {
    // 1 × 2 × 2 × 2 (x, y, c) → 1 × 1 × 1 × 2
    const data = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40]);
    expect(Array.from(adaptiveAvgPool2d(data, 1, 2, 2, 2, 1, 1))).toEqual([2.5, 25]);
  });
  it("plans shapes as aucurriculum: rank 2, 3 and 4 with and without a maximum", () => {
    expect(planPooling([8, 100], null, true)).toEqual({ kind: "identity", size: 100 });
    expect(planPooling([8, 100], 32, true)).toMatchObject({ kind: "pool1d", outLength: 32, size: 32 });
    expect(planPooling([8, 16], 32, true)).toEqual({ kind: "identity", size: 16 });
    expect(planPooling([8, 6, 4], null, true)).toMatchObject({ kind: "pool2d", outX: 4, outY: 4, size: 16 });
    expect(planPooling([8, 6, 4], null, false)).toEqual({ kind: "identity", size: 24 });
    // 28×28×32 = 25088 > 1000: square 28 shrinks until 32·X·Y ≤ 1000 → 5×5
    expect(planPooling([8, 28, 28, 32], 1000, true)).toMatchObject({ outX: 5, outY: 5, size: 800 });
    // not matched: 10×4×2 = 80 > 20 → (9,3)=54 → (8,2)=32 → (7,1)=14
    expect(planPooling([8, 10, 4, 2], 20, false)).toMatchObject({ outX: 7, outY: 1, size: 14 });
    expect(() => planPooling([8, 2, 2, 64], 32, true)).toThrow(/max_embedding_size 32/);
    expect(() => planPooling([8, 2, 2, 2, 2], null, true)).toThrow(/Unsupported input size/);
  });
  it("applies a plan to every row", () => {
    const plan = planPooling([2, 4], 2, true);
    expect(Array.from(applyPooling(plan, Float32Array.from([1, 3, 5, 7, 0, 0, 2, 2]), 2))).toEqual([
      2, 6, 0, 2,
    ]);
  });
  it("checks a plan against the layer's per-sample shape", () => {
    const plan = planPooling([8, 6, 4, 3], 20, true);
    expect(() => checkPoolPlan(plan, [6, 4, 3], "conv0", "forward")).not.toThrow();
    expect(() => checkPoolPlan(plan, [6, 4, 2], "conv0", "forward")).toThrow(
      /forward: the pooling of layer 'conv0' .* expects an output of \[6, 4, 3\] per sample, the layer's is \[6, 4, 2\]/,
    );
    // One channel: [x, y] or [x, y, 1].
    const single = planPooling([8, 6, 4], 4, true);
    expect(() => checkPoolPlan(single, [6, 4], "l", "f")).not.toThrow();
    expect(() => checkPoolPlan(single, [6, 4, 1], "l", "f")).not.toThrow();
    expect(() => checkPoolPlan(single, [24], "l", "f")).toThrow(
      /expects an output of \[6, 4\] or \[6, 4, 1\]/,
    );
    expect(() => checkPoolPlan({ kind: "pool1d", length: 9, outLength: 0, size: 0 }, [9], "l", "f")).toThrow(
      /expects an output of \[9\]/,
    );
    expect(() => checkPoolPlan({ kind: "identity", size: 12 }, [3, 4], "l", "f")).not.toThrow();
  });
  it("poolLayerOutputs pools the planned layers to [batch, size] and leaves the others", () => {
    const a = { data: Float32Array.from([1, 3, 5, 7, 0, 0, 2, 2]), shape: [2, 4] };
    const b = { data: Float32Array.from([1, 2]), shape: [2, 1] };
    const plan = planPooling([2, 4], 2, true);
    const out = poolLayerOutputs({ a, b }, { a: plan }, 2, "forward");
    expect(out.a).toEqual({ data: Float32Array.from([2, 6, 0, 2]), shape: [2, 2] });
    expect(out.b).toBe(b);
    expect(() => poolLayerOutputs({ a }, { b: plan }, 2, "forward")).toThrow(
      /pool names layer 'b', which is not among the requested outputs/,
    );
  });
});

describe("forward's pool option on the wasm engine", () => {
  beforeAll(async () => {
    await initEngine({ engine: "wasm" });
  });
  for (const testCase of POOL_CASES) {
    it(`${testCase.spec.type}: pooled outputs equal applyPooling of the unpooled ones bit for bit`, () => {
      const net = createNetwork(testCase.spec, null, 3);
      try {
        expectPooledForward(net, testCase, 6);
        if (testCase.spec.type === "CNN") expectPoolRefusals(net, testCase.spec);
      } finally {
        net.dispose();
      }
    });
  }

  it("CNN: sums in applyPooling's order (±2^60 inputs that cancel within windows)", () => {
    const testCase = POOL_CASES[0] as (typeof POOL_CASES)[number];
    const { weights, x } = cancellingInputs(6);
    const net = createNetwork(testCase.spec, null, 3, { weights });
    try {
      // conv0 is its input, exactly: the pooled values are sums of these.
      expect(Array.from(net.forward(x, 6, ["conv0"]).layers.conv0?.data ?? [])).toEqual(Array.from(x));
      expectPooledForward(net, testCase, 6, x);
    } finally {
      net.dispose();
    }
  });
});
