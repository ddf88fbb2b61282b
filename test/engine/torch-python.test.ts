/**
 * PyTorch loads curricula's checkpoints with the python file the package ships
 * (python/curricula_models.py): a python3 process with torch (Debian's python3-torch) loads
 * model.safetensors of each packaged model with load_state_dict(strict=True) and reproduces
 * curricula's logits within 1e-4; `load_run` of a finished run folder of each built-in model gives
 * its _best model, which reproduces the run's saved test logits, and the dataset's class names.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildForRun, trainRun } from "../../src/assembly/train-run.js";
import { createNetwork, initEngine, type NetworkSpec } from "../../src/engine/index.js";
import { readRunConfig } from "../../src/results/run-folder.js";
import { loadNpy, saveNpy } from "../../src/util/npy.js";
import { Rng } from "../../src/util/rng.js";
import { pytorch, TORCH_PYTHON } from "../support/python.js";
import { describeWith } from "../support/system.js";
import { torchEngine } from "../support/torch.js";
import { digitsFfnnConfig, tempDir } from "../training/helpers.js";

/** The shipped python file's folder (package.json "files" lists python/curricula_models.py). */
const PYTHON_DIR = fileURLToPath(new URL("../../python/", import.meta.url));

/** Runs `script` with the shipped module importable; returns the last stdout line parsed as JSON. */
function runPython<T>(script: string, args: readonly string[]): T {
  const r = spawnSync(TORCH_PYTHON as string, ["-c", script, ...args], {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: PYTHON_DIR },
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split("\n").at(-1) as string) as T;
}

const CHECK = `
import json, sys
import numpy as np
import torch
from curricula_models import load_curricula_model
torch.set_grad_enabled(False)
out = {}
for case in json.load(open(sys.argv[1])):
    model = load_curricula_model(case["model"])
    x = torch.from_numpy(np.load(case["x"]))
    want = np.load(case["logits"])
    got = model(x).numpy()
    out[case["name"]] = float(np.abs(got - want).max())
print(json.dumps(out))
`;

const SPECS: NetworkSpec[] = [
  { type: "FFNN", inputShape: [12], outputDim: 4, params: { hidden_sizes: [16, 8], dropout: 0.5 } },
  { type: "CNN", inputShape: [8, 8, 1], outputDim: 3, params: { channels: [4, 6], hidden: 8 } },
  { type: "CNN", inputShape: [36], outputDim: 3, params: { channels: [3], hidden: 5 } },
  { type: "ResCNN", inputShape: [8, 8, 1], outputDim: 3, params: { channels: [4, 4, 6] } },
  { type: "ResCNN", inputShape: [8, 8, 1], outputDim: 3, params: { channels: [4, 6, 6] } },
  { type: "AudioCNN", inputShape: [16, 8], outputDim: 3, params: { channels: [4, 4] } },
];

const root = tempDir("torch-python");
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await initEngine({ engine: "wasm" });
});

describeWith(torchEngine, "PyTorch reproduces curricula's logits from model.safetensors", () => {
  const cases: { name: string; model: string; x: string; logits: string }[] = [];

  beforeAll(async () => {
    await initEngine({ engine: "torch", threads: 2 });
    for (const [k, spec] of SPECS.entries()) {
      const dir = join(root, `${spec.type}-${k}`);
      mkdirSync(dir, { recursive: true });
      const net = createNetwork(spec, { type: "Adam", learningRate: 0.01 }, 3);
      const rng = new Rng(k);
      const size = spec.inputShape.reduce((a, b) => a * b, 1);
      // A few steps, so batch-norm statistics and num_batches_tracked are not their start values.
      for (let s = 0; s < 3; s++) {
        const x = Float32Array.from({ length: 8 * size }, () => rng.normal());
        net.trainStep(
          x,
          8,
          Int32Array.from({ length: 8 }, () => rng.int(spec.outputDim)),
        );
      }
      await net.save(dir);
      const x = Float32Array.from({ length: 5 * size }, () => rng.normal());
      saveNpy(join(dir, "x.npy"), x, [5, ...spec.inputShape]);
      saveNpy(join(dir, "logits.npy"), net.forward(x, 5).logits, [5, spec.outputDim]);
      net.dispose();
      cases.push({
        name: `${spec.type}-${k}`,
        model: join(dir, "model.safetensors"),
        x: join(dir, "x.npy"),
        logits: join(dir, "logits.npy"),
      });
    }
    // The acceptance case: a Digits run on torch, its _best model against the saved dev logits.
    const runDir = join(root, "digits");
    await trainRun(digitsFfnnConfig({ seed: 2, iterations: 3, engine: "torch", threads: 2 }), {
      runDir,
      log: null,
      progress: false,
    });
    const { dataset } = await buildForRun(readRunConfig(runDir));
    const positions = loadNpy(join(runDir, "_best", "dev_indices.npy")).data as Int32Array;
    const { x } = dataset.subset("dev").batch(positions);
    saveNpy(join(runDir, "dev_x.npy"), x, [positions.length, ...dataset.featureShape]);
    cases.push({
      name: "Digits _best",
      model: join(runDir, "_best", "model.safetensors"),
      x: join(runDir, "dev_x.npy"),
      logits: join(runDir, "_best", "dev_outputs.npy"),
    });
  });

  it("every packaged model, and a trained run's _best, within 1e-4", () => {
    expect(
      TORCH_PYTHON,
      "a python3 that imports torch and numpy (apt-get install python3-torch)",
    ).not.toBeNull();
    const list = join(root, "cases.json");
    writeFileSync(list, JSON.stringify(cases));
    const diffs = runPython<Record<string, number>>(CHECK, [list]);
    expect(Object.keys(diffs).sort()).toEqual(cases.map((c) => c.name).sort());
    for (const [name, diff] of Object.entries(diffs)) expect(diff, name).toBeLessThan(1e-4);
  });
});

const LOAD_RUN = `
import json, sys
import numpy as np
import torch
from curricula_models import load_run
torch.set_grad_enabled(False)
out = {}
for case in json.load(open(sys.argv[1])):
    model, class_names = load_run(case["run"])
    got = model(torch.from_numpy(np.load(case["x"]))).numpy()
    want = np.load(case["logits"])
    out[case["name"]] = {"diff": float(np.abs(got - want).max()), "shape": list(got.shape), "class_names": class_names}
print(json.dumps(out))
`;

/** One small config per built-in model, on Digits as 8x8 images (AudioCNN reads them as frames x mels). */
const RUN_MODELS: Record<string, Record<string, unknown>> = {
  FFNN: { id: "FFNN", type: "FFNN", hidden_sizes: [16], dropout: 0.5 },
  CNN: { id: "CNN", type: "CNN", channels: [4, 6], hidden: 8, dropout: 0.25 },
  ResCNN: { id: "ResCNN", type: "ResCNN", channels: [4, 4, 6] },
  AudioCNN: { id: "AudioCNN", type: "AudioCNN", channels: [4, 6], dropout: 0.2 },
};

describeWith(pytorch, "load_run of python/curricula_models.py: a run folder in PyTorch", () => {
  const cases: { name: string; run: string; x: string; logits: string; classNames: string[] }[] = [];

  beforeAll(async () => {
    await initEngine({ engine: "wasm" });
    for (const [name, model] of Object.entries(RUN_MODELS)) {
      const runDir = join(root, "runs", name);
      await trainRun(
        digitsFfnnConfig({
          seed: 4,
          iterations: 2,
          engine: "wasm",
          learning_rate: 0.01,
          dataset: { id: "Digits", type: "Digits", shape: "image", dev_split: 0.2, test_split: 0.2 },
          model,
        }),
        { runDir, log: null, progress: false },
      );
      const { dataset } = await buildForRun(readRunConfig(runDir));
      const positions = loadNpy(join(runDir, "_test", "test_indices.npy")).data as Int32Array;
      const { x } = dataset.subset("test").batch(positions);
      saveNpy(join(runDir, "test_x.npy"), x, [positions.length, ...dataset.featureShape]);
      cases.push({
        name,
        run: runDir,
        x: join(runDir, "test_x.npy"),
        logits: join(runDir, "_test", "test_outputs.npy"),
        classNames: [...dataset.classNames],
      });
    }
  });

  it("reproduces each built-in model's test logits within 1e-4 and gives the class names in code order", () => {
    const list = join(root, "runs.json");
    writeFileSync(list, JSON.stringify(cases));
    const results = runPython<Record<string, { diff: number; shape: number[]; class_names: string[] }>>(
      LOAD_RUN,
      [list],
    );
    expect(Object.keys(results).sort()).toEqual(Object.keys(RUN_MODELS).sort());
    for (const c of cases) {
      const result = results[c.name];
      expect(result?.shape, c.name).toEqual([loadNpy(c.x).shape[0], 10]);
      expect(result?.diff, c.name).toBeLessThan(1e-4);
      expect(result?.class_names, c.name).toEqual(c.classNames);
    }
  });
});
