/**
 * TorchScript modules as networks of the torch engine (src/engine/torch/script-network.ts): the
 * outputs they name, a checkpoint that resumes exactly (weights, optimiser slots, the seed stream of
 * the module's dropout, batch norm's step count), the float32 check, and a traced module on tabular
 * input. The module is the one of docs/models.md, scripted by PyTorch.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createNetwork, initEngine, loadNetwork, type NetworkSpec } from "../../src/engine/index.js";
import { decodeSafeTensors } from "../../src/engine/safetensors.js";
import { Rng } from "../../src/util/rng.js";
import { TORCH_PYTHON, torchPython } from "../support/python.js";
import { describeWith, type SystemDependency } from "../support/system.js";
import { torchEngine } from "../support/torch.js";
import { tempDir } from "../training/helpers.js";

const root = tempDir("torchscript-engine");
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await initEngine({ engine: "wasm" });
});

function documentedModel(): string {
  const text = readFileSync(new URL("../../docs/models.md", import.meta.url), "utf8");
  const match =
    /<!-- torchscript-model:start -->\s*```python\n([\s\S]*?)```\s*<!-- torchscript-model:end -->/.exec(text);
  if (!match?.[1])
    throw new Error("docs/models.md has no python block between the torchscript-model markers");
  return match[1];
}

const both: SystemDependency = {
  name: `${torchEngine.name}; ${torchPython.name}`,
  problem: torchEngine.problem ?? torchPython.problem,
};

describeWith(both, "TorchScript networks on the torch engine", () => {
  const spec = (path: string, inputShape = [8, 8, 1], outputDim = 10): NetworkSpec => ({
    type: "TorchScript",
    inputShape,
    outputDim,
    params: { path },
  });
  const adam = { type: "Adam" as const, learningRate: 0.01 };
  const rng = new Rng(7);
  const batch = (n: number, size: number) => Float32Array.from({ length: n * size }, () => rng.normal());
  const labels = (n: number) => Int32Array.from({ length: n }, () => rng.int(10));

  beforeAll(async () => {
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "model.py"), documentedModel());
    const r = spawnSync(
      TORCH_PYTHON as string,
      [
        "-c",
        `import runpy, torch
from torch import nn
runpy.run_path("model.py", run_name="__main__")
from model import SmallResNet
torch.jit.script(SmallResNet().double()).save("double.pt")
mlp = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
torch.jit.trace(mlp, torch.zeros(2, 64)).save("traced.pt")`,
      ],
      { cwd: root, encoding: "utf8" },
    );
    expect(r.status, r.stderr).toBe(0);
    await initEngine({ engine: "torch", threads: 2 });
  });

  it("names its submodules, embeddings and forward; returns embeddings [batch, d] and logits", () => {
    const net = createNetwork(spec(join(root, "my_model.pt")), null, 1);
    try {
      expect(net.layerNames).toContain("block1");
      expect(net.layerNames.slice(-2)).toEqual(["embeddings", "forward"]);
      const out = net.forward(batch(3, 64), 3, ["embeddings", "forward"]);
      expect(out.logits.length).toBe(30);
      expect(out.layers.embeddings?.shape).toEqual([3, 16]);
      expect(out.layers.embeddings?.data.length).toBe(48);
      expect(out.layers.forward?.shape).toEqual([3, 10]);
      expect(() => net.forward(batch(3, 64), 3, ["block1"])).toThrow(
        /output of submodule 'block1' .* cannot be read .* ask for 'embeddings'/,
      );
    } finally {
      net.dispose();
    }
  });

  it("a checkpoint resumes exactly: the next steps give the same losses and weights", async () => {
    const net = createNetwork(spec(join(root, "my_model.pt")), adam, 3);
    const steps = Array.from({ length: 6 }, () => ({ x: batch(8, 64), y: labels(8) }));
    for (const { x, y } of steps.slice(0, 3)) net.trainStep(x, 8, y);
    const dir = join(root, "checkpoint");
    mkdirSync(dir, { recursive: true });
    await net.save(dir, { optimizer: true });
    const saved = decodeSafeTensors(readFileSync(join(dir, "model.safetensors")), "model.safetensors");
    expect(Number(saved.tensors.get("block1.bn1.num_batches_tracked")?.data[0])).toBe(3);
    expect(saved.tensors.get("block1.conv1.weight")?.shape).toEqual([16, 16, 3, 3]);
    const resumed = await loadNetwork(dir, adam);
    await resumed.loadOptimizerState(dir);
    resumed.setRngState(net.getRngState());
    try {
      const a = steps.slice(3).map(({ x, y }) => net.trainStep(x, 8, y));
      const b = steps.slice(3).map(({ x, y }) => resumed.trainStep(x, 8, y));
      expect(b).toEqual(a);
      const probe = batch(4, 64);
      expect(Array.from(resumed.forward(probe, 4).logits)).toEqual(Array.from(net.forward(probe, 4).logits));
    } finally {
      net.dispose();
      resumed.dispose();
    }
  });

  it("the module's dropout follows the seed: same seed, same losses; another seed, others", () => {
    const steps = Array.from({ length: 3 }, () => ({ x: batch(8, 64), y: labels(8) }));
    const losses = (seed: number) => {
      const net = createNetwork(spec(join(root, "my_model.pt")), adam, seed);
      try {
        return steps.map(({ x, y }) => net.trainStep(x, 8, y));
      } finally {
        net.dispose();
      }
    };
    expect(losses(5)).toEqual(losses(5));
    expect(losses(6)).not.toEqual(losses(5));
  });

  it("a module with float64 parameters is refused, naming the file and the parameter", () => {
    const file = join(root, "double.pt");
    expect(() => createNetwork(spec(file), adam, 1)).toThrow(
      `${file}: parameter 'stem.weight' is Double, expected float32`,
    );
  });

  it("a traced module on tabular input ([batch, features]) trains", () => {
    const net = createNetwork(spec(join(root, "traced.pt"), [64]), adam, 1);
    try {
      expect(net.layerNames.at(-1)).toBe("forward");
      const x = batch(16, 64);
      const y = labels(16);
      const first = net.trainStep(x, 16, y);
      for (let i = 0; i < 20; i++) net.trainStep(x, 16, y);
      expect(net.trainStep(x, 16, y)).toBeLessThan(first);
    } finally {
      net.dispose();
    }
  });
});
