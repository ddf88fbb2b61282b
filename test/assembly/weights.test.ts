/**
 * Pretrained start weights and frozen parameters of a run (model.weights, model.weights_strict,
 * model.freeze): frozen tensors stay bit-identical through training on both engines, a wrong-shaped
 * file is one clear error before anything is written, and the file's fingerprint keeps a finished
 * run trained from other weights from being reused.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainRun } from "../../src/assembly/train-run.js";
import { readInitialWeights, readModelCheckpoint } from "../../src/engine/checkpoint.js";
import { initEngine } from "../../src/engine/index.js";
import { encodeSafeTensors, type SafeTensor } from "../../src/engine/safetensors.js";
import { describeModel, initialParameters, type NetworkSpec } from "../../src/models/index.js";
import type { TrainCallback } from "../../src/training/types.js";
import { ConfigError, DataError } from "../../src/util/errors.js";
import { fileSha256 } from "../../src/util/fingerprint.js";
import { readYaml } from "../../src/util/yaml-io.js";
import { runCli } from "../support/cli.js";
import { tempProject } from "../support/project.js";
import { describeWith } from "../support/system.js";
import { torchEngine } from "../support/torch.js";
import { crashAt, differingFiles, digitsFfnnConfig, listFiles, tempDir } from "../training/helpers.js";

/** The default config's run name with iterations=1. */
const RUN = "Digits_FFNN_Adam_0.001_32_epoch_1_None_None_N_N_None_None_1_0_1";

const root = tempDir("weights");
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await initEngine({ engine: "wasm" });
});

/** Digits (flat, 64 features, 10 classes) and its FFNN. */
function ffnnSpec(hidden: number, classes = 10): NetworkSpec {
  return {
    type: "FFNN",
    inputShape: [64],
    outputDim: classes,
    params: { hidden_sizes: [hidden], dropout: 0.5 },
  };
}

/** A plain PyTorch state_dict as safetensors (no curricula metadata): `spec`'s tensors drawn from `seed`. */
function writeStateDict(path: string, spec: NetworkSpec, seed: number): Map<string, Float32Array> {
  const params = initialParameters(describeModel(spec), seed);
  const tensors = new Map<string, SafeTensor>();
  for (const [name, p] of params) tensors.set(name, { dtype: "F32", shape: p.shape, data: p.data });
  writeFileSync(path, encodeSafeTensors(tensors, {}));
  return new Map([...params].map(([name, p]) => [name, p.data]));
}

function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe("readInitialWeights: names and shapes against the model", () => {
  const description = describeModel(ffnnSpec(64));

  it("strict: a tensor of another shape is an error naming the file, the tensor and both shapes", async () => {
    const file = join(root, "other-shape.safetensors");
    writeStateDict(file, ffnnSpec(32), 5);
    const error = await readInitialWeights(file, description, true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    const message = (error as Error).message;
    expect(message).toContain(file);
    expect(message).toContain("'linear0.weight'");
    expect(message).toContain("[32, 64]");
    expect(message).toContain("[64, 64]");
  });

  it("non-strict: a replaced head keeps its start values, the backbone loads", async () => {
    const file = join(root, "five-classes.safetensors");
    const saved = writeStateDict(file, ffnnSpec(64, 5), 6);
    const loaded = await readInitialWeights(file, description, false);
    expect([...loaded.params.keys()]).toEqual(["linear0.weight", "linear0.bias"]);
    expect(loaded.skipped).toEqual(["linear1.weight", "linear1.bias"]);
    expect(bytesOf(loaded.params.get("linear0.weight")?.data as Float32Array)).toEqual(
      bytesOf(saved.get("linear0.weight") as Float32Array),
    );
    await expect(readInitialWeights(file, description, true)).rejects.toThrow(/'linear1.weight'.*\[5, 64\]/);
  });

  it("strict: a missing tensor and a tensor the model lacks are errors", async () => {
    const missing = join(root, "missing.safetensors");
    const params = initialParameters(description, 1);
    const w = params.get("linear0.weight");
    if (!w) throw new Error("no linear0.weight");
    writeFileSync(missing, encodeSafeTensors(new Map([["linear0.weight", { dtype: "F32", ...w }]]), {}));
    await expect(readInitialWeights(missing, description, true)).rejects.toThrow(/'linear0.bias'.*missing/);
    const extra = join(root, "extra.safetensors");
    const tensors = new Map<string, SafeTensor>();
    for (const [name, p] of params) tensors.set(name, { dtype: "F32", shape: p.shape, data: p.data });
    tensors.set("head.weight", { dtype: "F32", shape: [2], data: new Float32Array(2) });
    writeFileSync(extra, encodeSafeTensors(tensors, {}));
    await expect(readInitialWeights(extra, description, true)).rejects.toThrow(/'head.weight'/);
    expect((await readInitialWeights(extra, description, false)).unused).toEqual(["head.weight"]);
  });
});

/** Trains a Digits FFNN from `weights` with linear0 frozen (AdamW: weight decay must not touch it either). */
async function fineTune(
  engine: "wasm" | "torch",
  weights: string,
  runDir: string,
  callbacks: TrainCallback[] = [],
  iterations = 2,
) {
  return trainRun(
    digitsFfnnConfig({
      iterations,
      engine,
      threads: 1,
      optimizer: { id: "AdamW", type: "AdamW", weight_decay: 0.1 },
      model: {
        id: "FFNN",
        type: "FFNN",
        hidden_sizes: [64],
        dropout: 0.5,
        weights,
        freeze: ["linear0"],
      },
    }),
    { runDir, log: null, progress: false, callbacks },
  );
}

function fineTuneTests(engine: "wasm" | "torch") {
  it(`keeps the frozen tensors bit-identical through training and trains the others (${engine})`, async () => {
    const weights = join(root, `pretrained-${engine}.safetensors`);
    const saved = writeStateDict(weights, ffnnSpec(64), 11);
    const runDir = join(root, `fine-tune-${engine}`);
    await fineTune(engine, weights, runDir);
    for (const checkpoint of ["epoch_1", "epoch_2", "_best"]) {
      const { params } = await readModelCheckpoint(join(runDir, checkpoint));
      for (const name of ["linear0.weight", "linear0.bias"]) {
        expect(bytesOf(params.get(name)?.data as Float32Array), `${checkpoint} ${name}`).toEqual(
          bytesOf(saved.get(name) as Float32Array),
        );
      }
      expect(bytesOf(params.get("linear1.weight")?.data as Float32Array)).not.toEqual(
        bytesOf(saved.get("linear1.weight") as Float32Array),
      );
    }
    const config = readYaml<{ model: Record<string, unknown> }>(join(runDir, "config.yaml"));
    expect(config.model.weights_sha256).toBe(fileSha256(weights));
    expect(config.model.freeze).toEqual(["linear0"]);
    expect(readFileSync(join(runDir, "training.log"), "utf8")).toContain(
      "Frozen: linear0.weight, linear0.bias",
    );
  });

  it(`a resumed fine-tuning run keeps them frozen and ends as an uninterrupted one (${engine})`, async () => {
    const weights = join(root, `resume-${engine}.safetensors`);
    const saved = writeStateDict(weights, ffnnSpec(64), 12);
    const whole = join(root, `whole-${engine}`);
    const resumed = join(root, `resumed-${engine}`);
    await fineTune(engine, weights, whole, [], 3);
    await expect(fineTune(engine, weights, resumed, [crashAt(2)], 3)).rejects.toThrow("simulated crash at 2");
    await fineTune(engine, weights, resumed, [], 3);
    expect(readFileSync(join(resumed, "training.log"), "utf8")).toContain("Resuming");
    const { params } = await readModelCheckpoint(join(resumed, "epoch_3"));
    expect(bytesOf(params.get("linear0.weight")?.data as Float32Array)).toEqual(
      bytesOf(saved.get("linear0.weight") as Float32Array),
    );
    expect(differingFiles(whole, resumed)).toEqual([]);
  });
}

describe("fine-tuning on the wasm engine", () => {
  fineTuneTests("wasm");

  it("a finished run trained from other weights is refused, the same weights reuse it", async () => {
    const weights = join(root, "reuse.safetensors");
    writeStateDict(weights, ffnnSpec(64), 21);
    const runDir = join(root, "reuse");
    const first = await fineTune("wasm", weights, runDir);
    const metrics = readFileSync(join(runDir, "metrics.csv"));
    writeStateDict(weights, ffnnSpec(64), 22);
    const error = await fineTune("wasm", weights, runDir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain("model.weights_sha256");
    expect(readFileSync(join(runDir, "metrics.csv"))).toEqual(metrics);
    writeStateDict(weights, ffnnSpec(64), 21);
    const again = await fineTune("wasm", weights, runDir);
    expect(again.test).toEqual(first.test);
  });
});

describeWith(torchEngine, "fine-tuning on the torch engine", () => {
  fineTuneTests("torch");
});

describe("curricula train with a wrong-shaped weights file", () => {
  it("exits 1 with one error naming the file, the tensor and both shapes, and writes nothing", () => {
    const project = tempProject();
    const weights = join(project, "backbone.safetensors");
    writeStateDict(weights, ffnnSpec(32), 3);
    const r = runCli(["train", "model.weights=backbone.safetensors", "iterations=1", "engine=wasm"], project);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(weights);
    expect(r.stderr).toContain("'linear0.weight' has shape [32, 64], model FFNN expects [64, 64]");
    // No run folder and no file anywhere under results/ (the executor's lock folder stays empty).
    expect(existsSync(join(project, "results", "default", "training", RUN))).toBe(false);
    expect(existsSync(join(project, "results")) ? listFiles(join(project, "results")) : []).toEqual([]);
    rmSync(project, { recursive: true, force: true });
  });
});
