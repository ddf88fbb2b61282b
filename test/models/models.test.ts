import { beforeAll, describe, expect, it } from "vitest";
import { createNetwork, initEngine, type NetworkSpec } from "../../src/engine/index.js";
import { describeModel, MODEL_TYPES } from "../../src/models/index.js";
import { ConfigError } from "../../src/util/errors.js";

beforeAll(async () => {
  await initEngine({ backend: "wasm" });
});

interface Expectation {
  spec: NetworkSpec;
  names: string[];
  embedding: string;
}

const EXPECTED: Expectation[] = [
  {
    spec: { type: "FFNN", inputShape: [64], outputDim: 10, params: {} },
    names: ["linear0", "relu0", "dropout0", "linear1"],
    embedding: "dropout0",
  },
  {
    spec: {
      type: "FFNN",
      inputShape: [28, 28, 1],
      outputDim: 10,
      params: { hidden_sizes: [32, 16], dropout: 0.1 },
    },
    names: ["flatten", "linear0", "relu0", "dropout0", "linear1", "relu1", "dropout1", "linear2"],
    embedding: "dropout1",
  },
  {
    spec: { type: "CNN", inputShape: [28, 28, 1], outputDim: 10, params: {} },
    names: [
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
    ],
    embedding: "dropout0",
  },
  {
    spec: { type: "CNN", inputShape: [64], outputDim: 10, params: {} },
    names: [
      "reshape",
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
    ],
    embedding: "dropout0",
  },
  {
    spec: { type: "ResCNN", inputShape: [28, 28, 1], outputDim: 10, params: {} },
    names: [
      "conv0",
      "bn0",
      "relu0",
      "pool0",
      "block1_conv0",
      "block1_bn0",
      "block1_relu0",
      "block1_conv1",
      "block1_bn1",
      "block1_add",
      "block1_relu1",
      "pool1",
      "block2_conv0",
      "block2_bn0",
      "block2_relu0",
      "block2_conv1",
      "block2_bn1",
      "block2_shortcut",
      "block2_shortcut_bn",
      "block2_add",
      "block2_relu1",
      "gap",
      "linear0",
    ],
    embedding: "gap",
  },
  {
    spec: { type: "AudioCNN", inputShape: [64, 40, 1], outputDim: 5, params: {} },
    names: [
      "conv0",
      "bn0",
      "relu0",
      "pool0",
      "conv1",
      "bn1",
      "relu1",
      "pool1",
      "conv2",
      "bn2",
      "relu2",
      "pool2",
      "gap",
      "dropout0",
      "linear0",
    ],
    embedding: "dropout0",
  },
];

describe("model registry", () => {
  it("registers the four architectures", () => {
    expect([...MODEL_TYPES].sort()).toEqual(["AudioCNN", "CNN", "FFNN", "ResCNN"]);
  });

  for (const { spec, names, embedding } of EXPECTED) {
    it(`${spec.type} on [${spec.inputShape}] builds, trains a step and exposes its documented layers`, () => {
      const net = createNetwork(spec, { type: "Adam", learningRate: 1e-3 }, 0);
      // Residual blocks are built in a different topological order; compare as sets there.
      if (spec.type === "ResCNN") expect([...net.layerNames].sort()).toEqual([...names].sort());
      else expect(net.layerNames).toEqual(names);
      expect(net.layerNames).toEqual(describeModel(spec).layers.map((l) => l.name));
      for (const name of net.layerNames) expect(name).toMatch(/^[a-z0-9_]+$/);
      const n = 2;
      const size = spec.inputShape.reduce((a, b) => a * b, 1);
      const x = Float32Array.from({ length: n * size }, (_, i) => Math.sin(i));
      const loss = net.trainStep(x, n, Int32Array.from([0, 1]));
      expect(Number.isFinite(loss)).toBe(true);
      const out = net.forward(x, n, [embedding]);
      expect(out.logits.length).toBe(n * spec.outputDim);
      expect(out.layers[embedding]?.shape[0]).toBe(n);
      net.dispose();
    });
  }

  it("ResCNN lists layers in a valid forward order (every block after its stem)", () => {
    const net = createNetwork(EXPECTED[4]?.spec as NetworkSpec, null, 0);
    const at = (n: string) => net.layerNames.indexOf(n);
    expect(at("conv0")).toBeLessThan(at("block1_conv0"));
    expect(at("block1_add")).toBeLessThan(at("block2_conv0"));
    expect(at("block2_add")).toBeLessThan(at("gap"));
    expect(net.layerNames.at(-1)).toBe("linear0");
    net.dispose();
  });

  it("CNN and AudioCNN also build on tiny 8x8 inputs", () => {
    for (const type of ["CNN", "ResCNN", "AudioCNN"]) {
      const net = createNetwork({ type, inputShape: [8, 8, 1], outputDim: 10, params: {} }, null, 0);
      expect(net.forward(new Float32Array(64), 1).logits.length).toBe(10);
      net.dispose();
    }
  });

  it("bad ids and parameters are ConfigErrors that name the key", () => {
    const base = { inputShape: [64], outputDim: 10 };
    expect(() => createNetwork({ ...base, type: "VGG", params: {} }, null, 0)).toThrow(
      /model.type: unknown model 'VGG'; expected one of: FFNN, CNN, ResCNN, AudioCNN/,
    );
    expect(() => createNetwork({ ...base, type: "FFNN", params: { hidden_sizes: [0] } }, null, 0)).toThrow(
      /model.hidden_sizes: expected a list of positive integers/,
    );
    expect(() => createNetwork({ ...base, type: "FFNN", params: { dropout: 1 } }, null, 0)).toThrow(
      /model.dropout/,
    );
    expect(() => createNetwork({ ...base, type: "FFNN", params: { hiden_sizes: [3] } }, null, 0)).toThrow(
      /model.hiden_sizes: unknown parameter for model FFNN; expected one of: hidden_sizes, dropout/,
    );
    expect(() => createNetwork({ ...base, inputShape: [63], type: "CNN", params: {} }, null, 0)).toThrow(
      ConfigError,
    );
    expect(() =>
      createNetwork({ ...base, inputShape: [8, 8, 3], type: "AudioCNN", params: {} }, null, 0),
    ).toThrow(/AudioCNN needs log-mel input/);
  });
});
