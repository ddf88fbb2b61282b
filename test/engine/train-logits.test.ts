/**
 * trainStep's `logitsOut` on both engines: the logits of the step's own training-mode forward pass
 * (dropout on) come back without changing the step (same loss, same weights after, same dropout
 * stream as a step without them); the returned loss is the mean cross-entropy of those logits; with
 * no dropout they are the eval-mode logits of the weights before the step; a wrong size is refused.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  createNetwork,
  type EngineName,
  initEngine,
  type NetworkSpec,
  type OptimizerSpec,
} from "../../src/engine/index.js";
import type { TorchAddon } from "../../src/engine/torch/addon.js";
import { TorchNetwork } from "../../src/engine/torch/network.js";
import { describeModel, initialParameters } from "../../src/models/index.js";
import { Rng } from "../../src/util/rng.js";
import { describeWith } from "../support/system.js";
import { torchEngine } from "../support/torch.js";

const SPECS: NetworkSpec[] = [
  { type: "FFNN", inputShape: [12], outputDim: 4, params: { hidden_sizes: [16, 8], dropout: 0.5 } },
  { type: "CNN", inputShape: [8, 8, 1], outputDim: 3, params: { channels: [4, 6], hidden: 8 } },
];
const NO_DROPOUT: NetworkSpec = {
  type: "FFNN",
  inputShape: [12],
  outputDim: 4,
  params: { hidden_sizes: [16], dropout: 0 },
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

/** Mean softmax cross-entropy of row-major logits (float64). */
function meanCrossEntropy(logits: Float32Array, y: Int32Array, classes: number): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const row = Array.from(logits.subarray(i * classes, (i + 1) * classes));
    const max = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - max), 0);
    sum += Math.log(z) + max - (row[y[i] as number] as number);
  }
  return sum / y.length;
}

afterAll(async () => {
  await initEngine({ engine: "wasm" });
});

function engineCases(engine: EngineName): void {
  for (const spec of SPECS) {
    it(`${engine} ${spec.type}: a step with logitsOut is the step without them, and its loss is theirs`, async () => {
      await initEngine({ engine, threads: 1 });
      const a = createNetwork(spec, ADAM, 3);
      const b = createNetwork(spec, ADAM, 3);
      const probe = batch(spec, 5, 99).x;
      for (let s = 0; s < 4; s++) {
        const { x, y } = batch(spec, 8, 10 + s);
        const logits = new Float32Array(8 * spec.outputDim).fill(Number.NaN);
        const la = a.trainStep(x, 8, y, null, null, logits);
        const lb = b.trainStep(x, 8, y);
        expect(la).toBe(lb);
        expect(logits.every(Number.isFinite)).toBe(true);
        expect(la).toBeCloseTo(meanCrossEntropy(logits, y, spec.outputDim), 5);
      }
      expect(Array.from(a.forward(probe, 5).logits)).toEqual(Array.from(b.forward(probe, 5).logits));
      expect(a.getRngState()).toEqual(b.getRngState());
      a.dispose();
      b.dispose();
    });
  }

  it(`${engine}: without dropout the step's logits are the eval logits of the weights before it`, async () => {
    await initEngine({ engine, threads: 1 });
    const net = createNetwork(NO_DROPOUT, ADAM, 1);
    for (let s = 0; s < 3; s++) {
      const { x, y } = batch(NO_DROPOUT, 6, 20 + s);
      const before = net.forward(x, 6).logits;
      const logits = new Float32Array(6 * 4);
      net.trainStep(x, 6, y, null, null, logits);
      for (let i = 0; i < logits.length; i++) expect(logits[i]).toBeCloseTo(before[i] as number, 5);
      const after = net.forward(x, 6).logits;
      expect(Array.from(after)).not.toEqual(Array.from(before));
    }
    net.dispose();
  });

  it(`${engine}: a logitsOut of the wrong size is refused before the step`, async () => {
    await initEngine({ engine, threads: 1 });
    const net = createNetwork(NO_DROPOUT, ADAM, 1);
    const { x, y } = batch(NO_DROPOUT, 6, 1);
    const before = net.forward(x, 6).logits;
    expect(() => net.trainStep(x, 6, y, null, null, new Float32Array(5))).toThrow(
      /logitsOut holds 5 values, expected 6 x 4 = 24/,
    );
    expect(Array.from(net.forward(x, 6).logits)).toEqual(Array.from(before));
    net.dispose();
  });
}

describe("trainStep logitsOut: wasm engine", () => engineCases("wasm"));

it("a torch addon built before logitsOut (which ignores it) is refused with a rebuild hint", () => {
  // A stand-in for such an addon's network: it trains (returns a loss) and never writes logitsOut.
  class OldNet {
    setParameters(): void {}
    setOptimizer(): void {}
    setLearningRate(): void {}
    trainStep(): number {
      return 0.5;
    }
    dispose(): void {}
  }
  const addon = { Net: OldNet } as unknown as TorchAddon;
  const description = describeModel(NO_DROPOUT);
  const net = new TorchNetwork(addon, description, initialParameters(description, 1), ADAM, new Rng(1), {
    device: "cpu",
  });
  const { x, y } = batch(NO_DROPOUT, 6, 1);
  expect(net.trainStep(x, 6, y)).toBe(0.5);
  expect(() => net.trainStep(x, 6, y, null, null, new Float32Array(24))).toThrow(
    /built by an earlier version of curricula; rebuild it with 'npm run build:torch'/,
  );
});
describeWith(torchEngine, "trainStep logitsOut: torch engine", () => engineCases("torch"));
