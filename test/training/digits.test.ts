import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildForRun, trainRun } from "../../src/assembly/train-run.js";
import { initEngine, loadNetwork } from "../../src/engine/index.js";
import { torchStatus } from "../../src/engine/torch/index.js";
import { checkpointDir, listIterations, readRunConfig } from "../../src/results/run-folder.js";
import { forwardSubset, scoreOutputs } from "../../src/training/index.js";
import type { TrainResult } from "../../src/training/types.js";
import { readCsv } from "../../src/util/csv.js";
import { ConfigError } from "../../src/util/errors.js";
import { loadNpy } from "../../src/util/npy.js";
import { readYaml } from "../../src/util/yaml-io.js";
import { crashOnStep, differingFiles, digitsFfnnConfig, listFiles, tempDir } from "./helpers.js";

/** Acceptance tests of issue 2 with the real engine and the real Digits dataset. */
const root = tempDir("digits");
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { log: null, progress: false } as const;

beforeAll(async () => {
  await initEngine();
});

describe("FFNN on Digits for 10 epochs", () => {
  const first = join(root, "first");
  const second = join(root, "second");
  let result: TrainResult;

  beforeAll(async () => {
    result = await trainRun(digitsFfnnConfig(), { runDir: first, ...quiet });
  });

  it("reaches at least 0.90 test accuracy", () => {
    expect(result.skipped).toBe(false);
    expect(result.test.accuracy).toBeGreaterThanOrEqual(0.9);
  });

  it("writes every file of the run folder", () => {
    const files = new Set(listFiles(first));
    const expected = ["config.yaml", "metrics.csv", "training.log", "timer.yaml", "hardware.yaml"];
    for (let e = 1; e <= 10; e++) {
      expected.push(`epoch_${e}/dev.yaml`, `epoch_${e}/model.safetensors`);
      expected.push(`epoch_${e}/optimizer.safetensors`, `epoch_${e}/trainer_state.json`);
      for (const s of ["train", "dev"])
        for (const k of ["outputs", "targets", "indices", "losses"])
          expected.push(`epoch_${e}/${s}_${k}.npy`);
    }
    for (const f of ["model.safetensors", "dev.yaml", "best_results.yaml"]) expected.push(`_best/${f}`);
    for (const s of ["train", "dev"])
      for (const k of ["outputs", "targets", "indices", "losses"]) expected.push(`_best/${s}_${k}.npy`);
    expected.push("_test/test_holistic.yaml");
    for (const k of ["outputs", "targets", "indices", "losses"]) expected.push(`_test/test_${k}.npy`);
    expect(expected.filter((f) => !files.has(f))).toEqual([]);
    // engine: auto (the default) trains on torch where the addon is built, else on wasm.
    const hardware = readYaml<{ engine: { name: string; backend: string } }>(join(first, "hardware.yaml"));
    expect(hardware.engine.name).toBe(torchStatus().usable ? "torch" : "wasm");
    expect(hardware.engine.name === "torch" ? ["libtorch"] : ["wasm", "cpu", "tensorflow"]).toContain(
      hardware.engine.backend,
    );
    const outputs = loadNpy(join(first, "epoch_10", "train_outputs.npy"));
    expect(outputs.shape[1]).toBe(10);
    expect(readCsv(join(first, "metrics.csv")).rows).toHaveLength(10);
  });

  it("gives byte-identical metrics.csv and outputs when run again with the same seed", async () => {
    await trainRun(digitsFfnnConfig(), { runDir: second, ...quiet });
    expect(differingFiles(first, second)).toEqual([]);
    expect(readFileSync(join(first, "metrics.csv"), "utf8")).toBe(
      readFileSync(join(second, "metrics.csv"), "utf8"),
    );
  });

  it("reproduces _best/dev.yaml and _best/train_outputs.npy from the loaded _best model", async () => {
    const config = readRunConfig(first);
    const { dataset } = await buildForRun(config);
    const network = await loadNetwork(checkpointDir(first, "best"));
    try {
      const dev = forwardSubset(network, dataset.subset("dev"), config.inference_batch_size, null);
      const { metrics } = scoreOutputs(dev, config.dataset.metrics, null);
      const saved = readYaml<Record<string, { all: number }>>(join(first, "_best", "dev.yaml"));
      expect(metrics.accuracy).toBe(saved.accuracy?.all);
      const train = forwardSubset(network, dataset.subset("train"), config.inference_batch_size, null);
      const savedTrain = loadNpy(join(first, "_best", "train_outputs.npy")).data;
      let maxDiff = 0;
      for (let i = 0; i < savedTrain.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs((savedTrain[i] as number) - (train.logits[i] as number)));
      }
      expect(maxDiff).toBeLessThanOrEqual(1e-5);
    } finally {
      network.dispose();
    }
  });

  it("reuses the finished run and refuses a different config", async () => {
    const again = await trainRun(digitsFfnnConfig(), { runDir: first, ...quiet });
    expect(again).toEqual({ ...result, skipped: true });
    await expect(
      trainRun(digitsFfnnConfig({ learning_rate: 0.01 }), { runDir: first, ...quiet }),
    ).rejects.toThrow(ConfigError);
  });
});

describe("step training and resume with the real engine", () => {
  it("trains by steps, evaluating every eval_frequency steps", async () => {
    const dir = join(root, "steps");
    const result = await trainRun(
      digitsFfnnConfig({ training_type: "step", iterations: 60, eval_frequency: 20, save_frequency: 40 }),
      { runDir: dir, ...quiet },
    );
    expect(listIterations(dir).map((it) => [it.iteration, it.hasModel])).toEqual([
      [20, false],
      [40, true],
      [60, true],
    ]);
    expect(result.test.accuracy).toBeGreaterThan(0.5);
  });

  it("resumes after a crash to the same files as an uninterrupted run", async () => {
    const config = digitsFfnnConfig({ iterations: 4 });
    const straight = join(root, "straight");
    await trainRun(config, { runDir: straight, ...quiet });
    const crashed = join(root, "crashed");
    const crash = crashOnStep(3, 5);
    await expect(trainRun(config, { runDir: crashed, ...quiet, callbacks: [crash] })).rejects.toThrow(
      "simulated crash",
    );
    const resumed = await trainRun(config, { runDir: crashed, ...quiet });
    expect(resumed.skipped).toBe(false);
    expect(differingFiles(straight, crashed)).toEqual([]);
  });
});
