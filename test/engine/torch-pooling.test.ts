/**
 * `forward`'s `pool` option on the torch engine: the addon pools the built-in networks' layer
 * outputs natively from the NCHW activations (native/torch/src/pooling.h), and the values are bit for
 * bit `applyPooling` of the unpooled channels-last outputs, for one sample, a batch that is pooled
 * on several threads, and TorchScript-free networks of both kinds (a CNN and an FFNN).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { createNetwork, initEngine, type NetworkSpec } from "../../src/engine/index.js";
import type { PoolPlan } from "../../src/engine/pooling.js";
import { loadTorchAddon } from "../../src/engine/torch/addon.js";
import { describeModel } from "../../src/models/index.js";
import { describeWith } from "../support/system.js";
import { torchEngine } from "../support/torch.js";
import { cancellingInputs, expectPooledForward, expectPoolRefusals, POOL_CASES } from "./pool-cases.js";

describeWith(torchEngine, "torch engine: pooled layer outputs", () => {
  beforeAll(async () => {
    await initEngine({ engine: "torch", threads: 2 });
  });
  afterAll(async () => {
    await initEngine({ engine: "wasm" });
  });

  for (const testCase of POOL_CASES) {
    it(`${testCase.spec.type}: native pooling equals applyPooling of the unpooled outputs bit for bit`, () => {
      const net = createNetwork(testCase.spec, null, 3);
      try {
        for (const n of [1, 7, 64]) expectPooledForward(net, testCase, n);
        if (testCase.spec.type === "CNN") expectPoolRefusals(net, testCase.spec);
      } finally {
        net.dispose();
      }
    });
  }

  it("CNN: sums in applyPooling's order (±2^60 inputs that cancel within windows)", () => {
    const testCase = POOL_CASES[0] as (typeof POOL_CASES)[number];
    const { weights, x } = cancellingInputs(64);
    const net = createNetwork(testCase.spec, null, 3, { weights });
    try {
      // conv0 is its input, exactly: the pooled values are sums of these.
      expect(Array.from(net.forward(x, 64, ["conv0"]).layers.conv0?.data ?? [])).toEqual(Array.from(x));
      expectPooledForward(net, testCase, 64, x);
    } finally {
      net.dispose();
    }
  });

  it("the addon checks each plan against the activation it pools and refuses malformed ones", () => {
    const status = loadTorchAddon();
    if (!status.ok) throw new Error(status.reason);
    const spec = POOL_CASES[0]?.spec as NetworkSpec;
    const description = describeModel(spec);
    const native = new status.addon.Net(description.layers, spec.inputShape, "cpu");
    try {
      const x = new Float32Array(2 * 28 * 28);
      const conv1 = description.layers.findIndex((l) => l.name === "conv1");
      const plan = (over: Partial<PoolPlan>) => ({ ...POOL_CASES[0]?.pool.conv1, ...over }) as PoolPlan;
      expect(native.forward(x, 2, [conv1], [plan({})]).layers[0]).toHaveLength(2 * 4 * 64);
      expect(() => native.forward(x, 2, [conv1], [plan({ x: 13 } as Partial<PoolPlan>)])).toThrow(
        /torch engine: forward: pool plan for \[13, 14, 64\] per sample, the output is \[2, 14, 14, 64\]/,
      );
      expect(() => native.forward(x, 2, [conv1], [plan({ outX: 0 } as Partial<PoolPlan>)])).toThrow(
        /pool plan: pool2d.outX must be a positive integer/,
      );
      expect(() => native.forward(x, 2, [conv1], [null, null])).toThrow(/pools must hold one entry per tap/);
    } finally {
      native.dispose();
    }
  });
});
