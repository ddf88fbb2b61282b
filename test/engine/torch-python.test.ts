/**
 * PyTorch loads curricula's checkpoints: a python3 process with torch (Debian's python3-torch) runs
 * the nn.Module block of docs/engine.md, loads model.safetensors of each packaged model with
 * load_state_dict(strict=True) and reproduces curricula's logits within 1e-4, including a Digits
 * run's _best/model.safetensors against the dev logits the trainer saved.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildForRun, trainRun } from "../../src/assembly/train-run.js";
import { createNetwork, initEngine, type NetworkSpec } from "../../src/engine/index.js";
import { readRunConfig } from "../../src/results/run-folder.js";
import { loadNpy, saveNpy } from "../../src/util/npy.js";
import { Rng } from "../../src/util/rng.js";
import { describeWith } from "../support/system.js";
import { torchEngine } from "../support/torch.js";
import { digitsFfnnConfig, tempDir } from "../training/helpers.js";

const DOCS = new URL("../../docs/engine.md", import.meta.url);

/** The python block between the torch-modules markers of docs/engine.md. */
function documentedModules(): string {
  const text = readFileSync(DOCS, "utf8");
  const match = /<!-- torch-modules:start -->\s*```python\n([\s\S]*?)```\s*<!-- torch-modules:end -->/.exec(
    text,
  );
  if (!match?.[1]) throw new Error("docs/engine.md has no python block between the torch-modules markers");
  return match[1];
}

/** A python3 that imports torch: CURRICULA_PYTHON, /usr/bin/python3 (Debian's), python3. */
function findPython(): string | null {
  for (const python of [process.env.CURRICULA_PYTHON, "/usr/bin/python3", "python3"]) {
    if (!python) continue;
    const r = spawnSync(python, ["-c", "import torch, numpy"], { encoding: "utf8" });
    if (r.status === 0) return python;
  }
  return null;
}

const CHECK = `
import json, sys
import numpy as np
import torch
exec(open(sys.argv[1]).read())
torch.set_grad_enabled(False)
out = {}
for case in json.load(open(sys.argv[2])):
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
  const python = findPython();
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

  it("python3 with torch is available (Debian python3-torch)", () => {
    expect(python, "a python3 that imports torch and numpy (apt-get install python3-torch)").not.toBeNull();
  });

  it("every packaged model, and a trained run's _best, within 1e-4", () => {
    expect(python).not.toBeNull();
    const modules = join(root, "modules.py");
    writeFileSync(modules, documentedModules());
    const list = join(root, "cases.json");
    writeFileSync(list, JSON.stringify(cases));
    const script = join(root, "check.py");
    writeFileSync(script, CHECK);
    const r = spawnSync(python as string, [script, modules, list], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const diffs = JSON.parse(r.stdout.trim().split("\n").at(-1) as string) as Record<string, number>;
    expect(Object.keys(diffs).sort()).toEqual(cases.map((c) => c.name).sort());
    for (const [name, diff] of Object.entries(diffs)) expect(diff, name).toBeLessThan(1e-4);
  });
});
