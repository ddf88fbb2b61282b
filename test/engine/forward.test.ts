/**
 * Network.forward runs chain models layer by layer with conv+ReLU fused; it must give exactly the
 * values of the tfjs-layers graph (model.apply in eval mode), with and without requested layers.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { createNetwork, initEngine, type NetworkSpec } from "../../src/engine/index.js";
import { buildWasmModel } from "../../src/engine/wasm/build.js";
import { describeModel, initialParameters } from "../../src/models/index.js";
import { Rng } from "../../src/util/rng.js";

const SPECS: NetworkSpec[] = [
  { type: "CNN", inputShape: [8, 8, 1], outputDim: 3, params: { channels: [4, 6], hidden: 8 } },
  { type: "FFNN", inputShape: [12], outputDim: 4, params: { hidden_sizes: [16, 8] } },
  { type: "AudioCNN", inputShape: [16, 8], outputDim: 3, params: { channels: [4, 4] } },
  { type: "ResCNN", inputShape: [8, 8, 1], outputDim: 3, params: { channels: [4, 4, 6] } },
];

function input(spec: NetworkSpec, n: number): Float32Array {
  const rng = new Rng(17);
  const size = spec.inputShape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n * size }, () => rng.normal());
}

/** Logits of the tfjs-layers graph (model.apply, eval mode) for the same seed. */
function reference(spec: NetworkSpec, seed: number, x: Float32Array, n: number): number[] {
  const description = describeModel(spec);
  const model = buildWasmModel(description, initialParameters(description, seed));
  const logits = tf.tidy(() => {
    const out = model.apply(tf.tensor(x, [n, ...spec.inputShape]), { training: false }) as tf.Tensor;
    return Array.from(out.dataSync());
  });
  model.dispose();
  return logits;
}

beforeAll(async () => {
  await initEngine({ backend: "wasm" });
});

describe("forward (eval mode) matches the layers graph exactly", () => {
  for (const spec of SPECS) {
    it(spec.type, () => {
      const n = 5;
      const x = input(spec, n);
      const want = reference(spec, 7, x, n);
      const net = createNetwork(spec, null, 7);
      const plain = net.forward(x, n);
      expect(Array.from(plain.logits)).toEqual(want);
      // Asking for every layer (which turns conv+relu fusion off for the convs) changes nothing,
      // and a ReLU right after a conv gives the same values whether the conv is fused or not.
      const everything = net.forward(x, n, net.layerNames);
      expect(Array.from(everything.logits)).toEqual(want);
      for (const name of net.layerNames.filter((l) => /^relu\d+$/.test(l))) {
        const fused = net.forward(x, n, [name]).layers[name];
        expect(fused?.shape).toEqual(everything.layers[name]?.shape);
        expect(Array.from(fused?.data ?? [])).toEqual(Array.from(everything.layers[name]?.data ?? []));
      }
      net.dispose();
    });
  }
});
