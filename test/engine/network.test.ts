import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNetwork,
  engineMemory,
  initEngine,
  loadNetwork,
  type Network,
  type NetworkSpec,
  type OptimizerSpec,
  weightedOneHot,
} from "../../src/engine/index.js";
import { EngineOptimizer } from "../../src/engine/wasm/optimizers.js";
import { ConfigError, DataError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";

const FFNN: NetworkSpec = {
  type: "FFNN",
  inputShape: [12],
  outputDim: 4,
  params: { hidden_sizes: [16, 8], dropout: 0.5 },
};
const CNN: NetworkSpec = {
  type: "CNN",
  inputShape: [8, 8, 1],
  outputDim: 3,
  params: { channels: [4, 6], hidden: 8 },
};
const ADAM: OptimizerSpec = { type: "Adam", learningRate: 0.01 };

function batch(spec: NetworkSpec, n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const size = spec.inputShape.reduce((a, b) => a * b, 1);
  return {
    x: Float32Array.from({ length: n * size }, () => rng.normal()),
    y: Int32Array.from({ length: n }, () => rng.int(spec.outputDim)),
  };
}

function train(net: Network, spec: NetworkSpec, steps: number, seed = 5): number[] {
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { x, y } = batch(spec, 8, seed + s);
    losses.push(net.trainStep(x, 8, y));
  }
  return losses;
}

let dir: string;
beforeAll(async () => {
  await initEngine({ backend: "wasm" });
  dir = mkdtempSync(join(tmpdir(), "curricula-engine-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("determinism", () => {
  for (const spec of [FFNN, CNN]) {
    it(`${spec.type}: the same seed gives identical weights and identical training (dropout on)`, () => {
      const a = createNetwork(spec, ADAM, 3);
      const b = createNetwork(spec, ADAM, 3);
      const c = createNetwork(spec, ADAM, 4);
      const probe = batch(spec, 5, 99).x;
      expect(Array.from(a.forward(probe, 5).logits)).toEqual(Array.from(b.forward(probe, 5).logits));
      expect(Array.from(a.forward(probe, 5).logits)).not.toEqual(Array.from(c.forward(probe, 5).logits));
      const la = train(a, spec, 6);
      const lb = train(b, spec, 6);
      expect(la).toEqual(lb);
      expect(Array.from(a.forward(probe, 5).logits)).toEqual(Array.from(b.forward(probe, 5).logits));
      expect(a.getRngState()).toEqual(b.getRngState());
      for (const n of [a, b, c]) n.dispose();
    });
  }

  it("dropout draws a fresh mask on every step (same batch, different losses)", () => {
    const net = createNetwork(FFNN, { type: "SGD", learningRate: 1e-9 }, 1);
    const { x, y } = batch(FFNN, 8, 1);
    const l1 = net.trainStep(x, 8, y);
    const l2 = net.trainStep(x, 8, y);
    expect(l1).not.toBe(l2);
    // Restoring the stream replays the mask.
    const state = net.getRngState();
    const l3 = net.trainStep(x, 8, y);
    net.setRngState(state);
    expect(net.trainStep(x, 8, y)).toBeCloseTo(l3, 5);
    net.dispose();
  });
});

describe("training and inference", () => {
  it("learns a separable problem and leaks no tensors", () => {
    const spec: NetworkSpec = {
      type: "FFNN",
      inputShape: [2],
      outputDim: 2,
      params: { hidden_sizes: [16], dropout: 0 },
    };
    const net = createNetwork(spec, ADAM, 0);
    const rng = new Rng(0);
    const make = (n: number) => {
      const x = Float32Array.from({ length: 2 * n }, () => rng.normal());
      const y = Int32Array.from({ length: n }, (_, i) =>
        (x[2 * i] as number) + (x[2 * i + 1] as number) > 0 ? 1 : 0,
      );
      return { x, y };
    };
    const warm = make(16);
    net.trainStep(warm.x, 16, warm.y);
    net.forward(warm.x, 16, ["relu0"]);
    const before = engineMemory().tensors;
    for (let s = 0; s < 150; s++) {
      const b = make(16);
      net.trainStep(b.x, 16, b.y);
      net.forward(b.x, 16, ["relu0", "linear0"]);
    }
    expect(engineMemory().tensors).toBe(before);
    const test = make(200);
    const logits = net.forward(test.x, 200).logits;
    let correct = 0;
    for (let i = 0; i < 200; i++)
      correct += Number(((logits[2 * i + 1] as number) > (logits[2 * i] as number) ? 1 : 0) === test.y[i]);
    expect(correct / 200).toBeGreaterThan(0.9);
    const tensorsWithNet = engineMemory().tensors;
    net.dispose();
    expect(engineMemory().tensors).toBeLessThan(tensorsWithNet);
  });

  it("returns the loss PyTorch's (class-weighted) cross-entropy gives for the logits", () => {
    const spec: NetworkSpec = { ...FFNN, params: { hidden_sizes: [8], dropout: 0 } };
    const net = createNetwork(spec, { type: "SGD", learningRate: 1e-12 }, 2);
    const { x, y } = batch(spec, 6, 3);
    const weights = Float32Array.from([0.5, 2, 1, 3]);
    const logits = net.forward(x, 6).logits;
    let num = 0;
    let den = 0;
    for (let i = 0; i < 6; i++) {
      const row = Array.from(logits.subarray(i * 4, i * 4 + 4));
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      const w = weights[y[i] as number] as number;
      num += w * (lse - (row[y[i] as number] as number));
      den += w;
    }
    expect(net.trainStep(x, 6, y, weights)).toBeCloseTo(num / den, 5);
    net.dispose();
  });

  it("forward returns the requested layer outputs from one pass", () => {
    const net = createNetwork(CNN, null, 1);
    expect(net.layerNames).toEqual([
      "conv0",
      "relu0",
      "pool0",
      "conv1",
      "relu1",
      "pool1",
      "flatten",
      "linear0",
      "relu2",
      "dropout0",
      "linear1",
    ]);
    const { x } = batch(CNN, 3, 1);
    const out = net.forward(x, 3, ["pool1", "dropout0", "relu2"]);
    expect(out.logits.length).toBe(9);
    expect(out.layers.pool1?.shape).toEqual([3, 2, 2, 6]);
    expect(out.layers.dropout0?.shape).toEqual([3, 8]);
    // Eval mode: dropout is the identity.
    expect(Array.from(out.layers.dropout0?.data ?? [])).toEqual(Array.from(out.layers.relu2?.data ?? []));
    expect(() => net.forward(x, 3, ["nope"])).toThrow(/no layer 'nope'.*conv0/);
    expect(() => net.trainStep(x, 3, new Int32Array(3))).toThrow(/without an optimizer/);
    net.dispose();
  });

  it("rejects inputs and labels that do not fit", () => {
    const net = createNetwork(FFNN, ADAM, 1);
    expect(() => net.trainStep(new Float32Array(12 * 2), 3, new Int32Array(3))).toThrow(
      /expected 3 x \[12\] = 36 input values, got 24/,
    );
    expect(() => net.trainStep(new Float32Array(24), 2, Int32Array.from([0, 4]))).toThrow(
      /label 4 at batch position 1 is outside \[0, 4\)/,
    );
    expect(() =>
      net.trainStep(new Float32Array(24), 2, Int32Array.from([0, 1]), new Float32Array(3)),
    ).toThrow(/4 class weights/);
    net.dispose();
  });

  it("learning rate can be read and changed", () => {
    const net = createNetwork(FFNN, ADAM, 1);
    expect(net.getLearningRate()).toBe(0.01);
    net.setLearningRate(0.5);
    expect(net.getLearningRate()).toBe(0.5);
    net.dispose();
  });
});

describe("save and load", () => {
  it("round trip gives identical logits, names and spec", async () => {
    for (const spec of [
      FFNN,
      CNN,
      { type: "ResCNN", inputShape: [8, 8, 1], outputDim: 3, params: { channels: [4, 4, 6] } },
    ]) {
      const net = createNetwork(spec, ADAM, 9);
      train(net, spec, 3);
      const at = join(dir, `rt-${spec.type}`);
      await net.save(at);
      const loaded = await loadNetwork(at);
      const { x } = batch(spec, 4, 11);
      expect(Array.from(loaded.forward(x, 4).logits)).toEqual(Array.from(net.forward(x, 4).logits));
      expect(loaded.layerNames).toEqual(net.layerNames);
      expect(loaded.spec).toEqual(spec);
      net.dispose();
      loaded.dispose();
    }
  });

  for (const opt of [
    { type: "Adam", learningRate: 0.01 },
    { type: "AdamW", learningRate: 0.01 },
    { type: "SGD", learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
  ] satisfies OptimizerSpec[]) {
    it(`${opt.type}: a resumed run continues exactly (weights, optimiser state, dropout stream)`, async () => {
      const a = createNetwork(FFNN, opt, 4);
      train(a, FFNN, 4, 20);
      const at = join(dir, `resume-${opt.type}`);
      await a.save(at, { optimizer: true });
      const continued = train(a, FFNN, 4, 30);
      const b = await loadNetwork(at, opt);
      await b.loadOptimizerState(at);
      const resumed = train(b, FFNN, 4, 30);
      expect(resumed).toEqual(continued);
      // Without the optimiser state the run diverges (the check above is not vacuous).
      const c = await loadNetwork(at, opt);
      if (opt.type !== "SGD" || opt.momentum) expect(train(c, FFNN, 4, 30)).not.toEqual(continued);
      for (const n of [a, b, c]) n.dispose();
    });
  }

  it("names the missing file", async () => {
    await expect(loadNetwork(join(dir, "nothing"))).rejects.toThrow(DataError);
    await expect(loadNetwork(join(dir, "nothing"))).rejects.toThrow(
      /nothing: no saved model here \(expected model\.safetensors/,
    );
  });
});

describe("optimiser update rules (PyTorch)", () => {
  const step = (spec: OptimizerSpec, grads: number[][], start = [1, -2]) => {
    const v = tf.variable(tf.tensor1d(start));
    const opt = new EngineOptimizer(spec);
    for (const g of grads) tf.tidy(() => opt.apply([v], [tf.tensor1d(g)]));
    const out = Array.from(v.dataSync());
    v.dispose();
    opt.disposeSlots();
    return out;
  };
  it("Adam's first step moves every weight by lr against the gradient sign", () => {
    const [a, b] = step({ type: "Adam", learningRate: 0.1 }, [[0.5, -3]]);
    expect(a).toBeCloseTo(0.9, 5);
    expect(b).toBeCloseTo(-1.9, 5);
  });
  it("AdamW decays the weights by lr * weight_decay before the Adam step", () => {
    const [a] = step({ type: "AdamW", learningRate: 0.1, weightDecay: 0.5 }, [[0.5, -3]]);
    expect(a).toBeCloseTo(1 * (1 - 0.05) - 0.1, 5);
  });
  it("SGD with momentum and L2 follows torch.optim.SGD", () => {
    // g1 = 1 + 0.1*1 = 1.1 -> buf 1.1, w = 1 - 0.1*1.1 = 0.89
    // g2 = 1 + 0.1*0.89 = 1.089 -> buf = 0.9*1.1 + 1.089 = 2.079, w = 0.89 - 0.2079 = 0.6821
    const [a] = step({ type: "SGD", learningRate: 0.1, momentum: 0.9, weightDecay: 0.1 }, [
      [1, 0],
      [1, 0],
    ]);
    expect(a).toBeCloseTo(0.6821, 5);
    // Nesterov: step uses g + momentum * buf: 1 + 0.9 * 1 = 1.9 on the first step.
    const [n] = step({ type: "SGD", learningRate: 0.1, momentum: 0.9, nesterov: true }, [[1, 0]]);
    expect(n).toBeCloseTo(1 - 0.19, 5);
  });
  it("invalid settings name the key", () => {
    expect(() => new EngineOptimizer({ type: "Adam", learningRate: -1 })).toThrow(/optimizer.learning_rate/);
    expect(() => new EngineOptimizer({ type: "Nadam" as "Adam", learningRate: 1 })).toThrow(ConfigError);
    expect(() => new EngineOptimizer({ type: "SGD", learningRate: 1, nesterov: true })).toThrow(
      /optimizer.nesterov/,
    );
  });
});

describe("weightedOneHot", () => {
  it("puts w[y_i] / sum w at each label", () => {
    const t = weightedOneHot(Int32Array.from([1, 0, 1]), 3, 2, Float32Array.from([2, 1]));
    expect(Array.from(t)).toEqual([0, 1 / 4, 2 / 4, 0, 0, 1 / 4]);
    expect(Array.from(weightedOneHot(Int32Array.from([1, 0]), 2, 2, null))).toEqual([0, 0.5, 0.5, 0]);
  });
});
