/**
 * Frozen parameters (createNetwork's `init.frozen`) on both engines: the optimiser never updates
 * them and weight decay never touches them, on a model with convolutions and batch norm; the rest
 * trains. Start weights (`init.weights`) replace the seeded values by name.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readModelCheckpoint } from "../../src/engine/checkpoint.js";
import { createNetwork, initEngine, type NetworkSpec } from "../../src/engine/index.js";
import { describeModel, frozenParameters, initialParameters } from "../../src/models/index.js";
import { ConfigError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { describeWith } from "../support/system.js";
import { torchEngine } from "../support/torch.js";
import { tempDir } from "../training/helpers.js";

const SPEC: NetworkSpec = {
  type: "ResCNN",
  inputShape: [8, 8, 1],
  outputDim: 3,
  params: { channels: [4, 4, 6] },
};
const root = tempDir("freeze");
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await initEngine({ engine: "wasm" });
});

function bytesOf(a: Float32Array | undefined): Buffer {
  if (!a) throw new Error("no such tensor");
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe("frozenParameters: model.freeze prefixes to parameter names", () => {
  const description = describeModel(SPEC);

  it("takes every trainable parameter a prefix starts, never batch-norm buffers", () => {
    expect(frozenParameters(description, ["conv0", "bn0."])).toEqual([
      "conv0.weight",
      "conv0.bias",
      "bn0.weight",
      "bn0.bias",
    ]);
  });

  it("refuses a prefix that matches nothing, and freezing everything", () => {
    expect(() => frozenParameters(description, ["conv9"])).toThrow(ConfigError);
    expect(() => frozenParameters(description, ["conv9"])).toThrow(/model.freeze.*'conv9'/);
    expect(() => frozenParameters(description, [""])).toThrow(/nothing would train/);
  });
});

function freezeTests(engine: "wasm" | "torch") {
  it(`${engine}: frozen tensors stay bit-identical under AdamW, the others train`, async () => {
    await initEngine({ engine, threads: 1 });
    const start = initialParameters(describeModel(SPEC), 99);
    const frozen = frozenParameters(describeModel(SPEC), ["conv0", "bn0", "block1_conv0"]);
    const net = createNetwork(SPEC, { type: "AdamW", learningRate: 0.05, weightDecay: 0.5 }, 3, {
      weights: start,
      frozen,
    });
    const rng = new Rng(7);
    for (let s = 0; s < 4; s++) {
      const x = Float32Array.from({ length: 8 * 64 }, () => rng.normal());
      net.trainStep(
        x,
        8,
        Int32Array.from({ length: 8 }, () => rng.int(3)),
      );
    }
    const dir = join(root, engine);
    await net.save(dir, { optimizer: true, classNames: ["a", "b", "c"] });
    net.dispose();
    const saved = await readModelCheckpoint(dir);
    expect(saved.classNames).toEqual(["a", "b", "c"]);
    for (const name of frozen) {
      expect(bytesOf(saved.params.get(name)?.data), name).toEqual(bytesOf(start.get(name)?.data));
    }
    for (const name of ["block1_conv1.weight", "linear0.weight", "linear0.bias", "block1_bn0.weight"]) {
      expect(bytesOf(saved.params.get(name)?.data), name).not.toEqual(bytesOf(start.get(name)?.data));
    }
  });
}

describe("frozen parameters on the wasm engine", () => freezeTests("wasm"));
describeWith(torchEngine, "frozen parameters on the torch engine", () => freezeTests("torch"));
