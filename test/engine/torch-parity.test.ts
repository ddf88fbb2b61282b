/**
 * The torch engine against the wasm engine with the same weights, per layer kind: eval forward of
 * every layer output, the loss and the gradients of one training step (SGD with lr 1 and no
 * momentum, so each weight moves by exactly its gradient), batch norm's running statistics, and
 * dropout (both engines apply the same masks from the same stream). Float32 tolerance.
 */
import { beforeAll, expect, it } from "vitest";
import { buildTfModel } from "../../src/engine/build.js";
import { initEngine, type OptimizerSpec } from "../../src/engine/index.js";
import { TfNetwork } from "../../src/engine/network.js";
import { createTorchNetwork } from "../../src/engine/torch/index.js";
import {
  INPUT,
  initialParameters,
  type LayerDescription,
  type ModelDescription,
  type ParameterSet,
} from "../../src/models/index.js";
import { Rng } from "../../src/util/rng.js";
import { expectClose } from "../support/assert.js";
import { describeWith } from "../support/system.js";
import { torchEngine } from "../support/torch.js";

type Layer = LayerDescription;
const SGD1: OptimizerSpec = { type: "SGD", learningRate: 1 };

/** A description from layers given in order (the last must give `classes` values). */
function model(inputShape: number[], classes: number, layers: Layer[]): ModelDescription {
  return { spec: { type: "Test", inputShape, outputDim: classes, params: {} }, layers };
}

const conv = (
  name: string,
  input: string,
  [h, w, cin]: number[],
  cout: number,
  k: number,
  stride: number,
  padding: "same" | "valid",
): Layer => {
  const out = (n: number) => (padding === "same" ? n : Math.floor((n - k) / stride) + 1);
  return {
    kind: "conv2d",
    name,
    inputs: [input],
    outputShape: [out(h as number), out(w as number), cout],
    inChannels: cin as number,
    outChannels: cout,
    kernelSize: k,
    stride,
    padding,
  };
};
const flatten = (name: string, input: string, size: number): Layer => ({
  kind: "flatten",
  name,
  inputs: [input],
  outputShape: [size],
});
const linear = (name: string, input: string, i: number, o: number): Layer => ({
  kind: "linear",
  name,
  inputs: [input],
  outputShape: [o],
  inFeatures: i,
  outFeatures: o,
});
const relu = (name: string, input: string, shape: number[]): Layer => ({
  kind: "relu",
  name,
  inputs: [input],
  outputShape: shape,
});
const bn = (name: string, input: string, shape: number[]): Layer => ({
  kind: "batchnorm2d",
  name,
  inputs: [input],
  outputShape: shape,
  numFeatures: shape.at(-1) as number,
  eps: 1e-5,
  momentum: 0.1,
});

/** One small model per layer kind (each ends in a linear layer so every kind gets a gradient). */
const CASES: Record<string, ModelDescription> = {
  "linear + relu (flat input)": model([6], 3, [
    linear("l0", INPUT, 6, 5),
    relu("r0", "l0", [5]),
    linear("l1", "r0", 5, 3),
  ]),
  "reshape + conv2d same + flatten (channels-last order)": model([36], 4, [
    { kind: "reshape", name: "reshape", inputs: [INPUT], outputShape: [6, 6, 1] },
    conv("c0", "reshape", [6, 6, 1], 3, 3, 1, "same"),
    flatten("f", "c0", 108),
    linear("l0", "f", 108, 4),
  ]),
  "conv2d valid, stride 2": model([7, 7, 2], 3, [
    conv("c0", INPUT, [7, 7, 2], 3, 3, 2, "valid"),
    flatten("f", "c0", 27),
    linear("l0", "f", 27, 3),
  ]),
  "maxpool2d (with all-negative windows)": model([6, 6, 2], 3, [
    conv("c0", INPUT, [6, 6, 2], 3, 3, 1, "same"),
    {
      kind: "maxpool2d",
      name: "p0",
      inputs: ["c0"],
      outputShape: [3, 3, 3],
      kernelSize: [2, 2],
      stride: [2, 2],
    },
    flatten("f", "p0", 27),
    linear("l0", "f", 27, 3),
  ]),
  "maxpool2d 2x1 (an axis 1 wide)": model([4, 1, 2], 3, [
    conv("c0", INPUT, [4, 1, 2], 2, 1, 1, "valid"),
    {
      kind: "maxpool2d",
      name: "p0",
      inputs: ["c0"],
      outputShape: [2, 1, 2],
      kernelSize: [2, 1],
      stride: [2, 1],
    },
    flatten("f", "p0", 4),
    linear("l0", "f", 4, 3),
  ]),
  "batchnorm2d (training statistics, running stats)": model([5, 5, 2], 3, [
    conv("c0", INPUT, [5, 5, 2], 3, 3, 1, "same"),
    bn("bn0", "c0", [5, 5, 3]),
    relu("r0", "bn0", [5, 5, 3]),
    flatten("f", "r0", 75),
    linear("l0", "f", 75, 3),
  ]),
  "add (residual) + gap": model([4, 4, 3], 3, [
    conv("c0", INPUT, [4, 4, 3], 3, 3, 1, "same"),
    relu("r0", "c0", [4, 4, 3]),
    conv("c1", "r0", [4, 4, 3], 3, 3, 1, "same"),
    { kind: "add", name: "add", inputs: ["c1", INPUT], outputShape: [4, 4, 3] },
    { kind: "gap", name: "gap", inputs: ["add"], outputShape: [3] },
    linear("l0", "gap", 3, 3),
  ]),
  "dropout on a flat and on an image activation": model([4, 4, 2], 3, [
    conv("c0", INPUT, [4, 4, 2], 3, 3, 1, "same"),
    { kind: "dropout", name: "d0", inputs: ["c0"], outputShape: [4, 4, 3], p: 0.5 },
    flatten("f", "d0", 48),
    linear("l0", "f", 48, 6),
    { kind: "dropout", name: "d1", inputs: ["l0"], outputShape: [6], p: 0.25 },
    linear("l1", "d1", 6, 3),
  ]),
};

function randomParams(description: ModelDescription, seed: number): ParameterSet {
  const params = initialParameters(description, seed);
  // Batch-norm parameters and statistics away from their trivial start values.
  const rng = new Rng(seed + 1);
  for (const [name, p] of params) {
    if (!/^bn/.test(name)) continue;
    p.data = p.data.map(() => (name.endsWith("running_var") ? 0.5 + rng.random() : rng.normal() * 0.5));
  }
  return params;
}

function engines(description: ModelDescription, seed: number, optimizer: OptimizerSpec | null) {
  const params = randomParams(description, seed);
  const wasm = new TfNetwork(
    buildTfModel(description, params),
    description,
    optimizer,
    Rng.derive(seed, "dropout"),
  );
  const torch = createTorchNetwork(description, params, optimizer, Rng.derive(seed, "dropout"), {
    device: "cpu",
  });
  return { wasm, torch };
}

function batch(description: ModelDescription, n: number, seed: number) {
  const rng = new Rng(seed);
  const size = description.spec.inputShape.reduce((a, b) => a * b, 1);
  return {
    x: Float32Array.from({ length: n * size }, () => rng.normal()),
    y: Int32Array.from({ length: n }, () => rng.int(description.spec.outputDim)),
  };
}

beforeAll(async () => {
  await initEngine({ backend: "wasm" });
});

describeWith(torchEngine, "torch engine: forward and gradient parity with the wasm engine", () => {
  for (const [name, description] of Object.entries(CASES)) {
    it(`${name}: every layer output in eval mode`, () => {
      const { wasm, torch } = engines(description, 3, null);
      const { x } = batch(description, 5, 11);
      const names = description.layers.map((l) => l.name);
      const a = torch.forward(x, 5, names);
      const b = wasm.forward(x, 5, names);
      expectClose(a.logits, b.logits, "logits");
      for (const layer of names) {
        expect(a.layers[layer]?.shape, `${layer}: shape`).toEqual(b.layers[layer]?.shape);
        expectClose(a.layers[layer]?.data ?? [], b.layers[layer]?.data ?? [], layer);
      }
      wasm.dispose();
      torch.dispose();
    });

    it(`${name}: loss, gradients and running statistics of a training step`, () => {
      const { wasm, torch } = engines(description, 4, SGD1);
      const before = torch.parameters();
      const { x, y } = batch(description, 6, 12);
      const weights = Float32Array.from({ length: description.spec.outputDim }, (_, i) => 1 + i);
      const lossTorch = torch.trainStep(x, 6, y, weights);
      const lossWasm = wasm.trainStep(x, 6, y, weights);
      expect(Math.abs(lossTorch - lossWasm)).toBeLessThan(1e-5 * Math.max(1, Math.abs(lossWasm)));
      expect(torch.getRngState()).toEqual(wasm.getRngState());
      const afterTorch = torch.parameters();
      const afterWasm = wasm.parameters();
      const grads: [string, Float32Array, Float32Array][] = [];
      for (const [param, start] of before) {
        const t = afterTorch.get(param)?.data as Float32Array;
        const w = afterWasm.get(param)?.data as Float32Array;
        if (param.endsWith("running_mean")) {
          expectClose(t, w, `${param} after the step`);
          continue;
        }
        if (param.endsWith("running_var")) {
          // torch (as PyTorch) updates with the unbiased batch variance, n/(n-1) times the biased one
          // that the tfjs engine uses: recover the batch variance from wasm and compare.
          const layer = description.layers.find((l) => `${l.name}.running_var` === param);
          const [h, w0] = layer?.outputShape ?? [1, 1];
          const n = 6 * (h as number) * (w0 as number);
          const unbiased = start.data.map(
            (old, i) => 0.9 * old + ((w[i] as number) - 0.9 * old) * (n / (n - 1)),
          );
          expectClose(t, unbiased, `${param} after the step (unbiased update)`);
          continue;
        }
        // lr 1: the step is the gradient.
        grads.push([
          param,
          start.data.map((v, i) => v - (t[i] as number)),
          start.data.map((v, i) => v - (w[i] as number)),
        ]);
      }
      const largest = Math.max(...grads.flatMap(([, , w]) => Array.from(w, Math.abs)));
      expect(largest, "the step moved some weight").toBeGreaterThan(1e-4);
      for (const [param, gradT, gradW] of grads) {
        // A bias right before batch norm has a zero gradient: its tolerance follows the model's scale.
        const scale = Math.max(...Array.from(gradW, Math.abs), 1e-3 * largest);
        expectClose(gradT, gradW, `${param} gradient`, 2e-5 * scale, 1e-3);
      }
      wasm.dispose();
      torch.dispose();
    });
  }
});
