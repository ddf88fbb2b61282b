/**
 * TorchScript modules as networks of the torch engine (src/engine/torch/script-network.ts): the
 * outputs they name (submodules' outputs against PyTorch's), a checkpoint that resumes exactly (weights, optimiser slots, the seed stream of
 * the module's dropout, batch norm's step count), the float32 check, a traced module on tabular
 * input, and start weights and frozen parameters over the module's own (model.weights, model.freeze). The module is the one of docs/models.md, scripted by PyTorch.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readModelCheckpoint } from "../../src/engine/checkpoint.js";
import {
  createNetwork,
  initEngine,
  loadNetwork,
  type Network,
  type NetworkSpec,
  scriptModuleTensors,
} from "../../src/engine/index.js";
import { applyPooling, type PoolPlan, planPooling } from "../../src/engine/pooling.js";
import { decodeSafeTensors } from "../../src/engine/safetensors.js";
import { saveNpy } from "../../src/util/npy.js";
import { Rng } from "../../src/util/rng.js";
import { expectClose } from "../support/assert.js";
import { pytorch, TORCH_PYTHON } from "../support/python.js";
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
  name: `${torchEngine.name}; ${pytorch.name}`,
  problem: torchEngine.problem ?? pytorch.problem,
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

  it("names its submodules in forward order, then embeddings and forward", () => {
    const net = createNetwork(spec(join(root, "my_model.pt")), null, 1);
    try {
      const block = (b: string) => [`${b}.conv1`, `${b}.bn1`, `${b}.conv2`, `${b}.bn2`, b];
      expect(net.layerNames).toEqual([
        "stem",
        ...block("block1"),
        ...block("block2"),
        "dropout",
        "fc",
        "embeddings",
        "forward",
      ]);
      expect(() => net.forward(batch(3, 64), 3, ["block3"])).toThrow(
        /has no output 'block3'; outputs: stem, /,
      );
    } finally {
      net.dispose();
    }
  });

  it("pools the outputs forward's pool names as applyPooling does on the unpooled ones, bit for bit", () => {
    const net = createNetwork(spec(join(root, "my_model.pt")), null, 1);
    const x = batch(5, 64);
    const names = ["stem", "block1", "embeddings", "fc"];
    const pool: Record<string, PoolPlan> = {
      stem: planPooling([5, 8, 8, 16], 9 * 16, true),
      block1: { kind: "pool2d", x: 8, y: 8, channels: 16, outX: 3, outY: 5, size: 240 },
      embeddings: planPooling([5, 16], 7, true),
    };
    try {
      const plain = net.forward(x, 5, names);
      const pooled = net.forward(x, 5, names, { pool });
      for (const [name, plan] of Object.entries(pool)) {
        const want = applyPooling(plan, plain.layers[name]?.data ?? new Float32Array(0), 5);
        expect(pooled.layers[name]?.shape, name).toEqual([5, plan.size]);
        const got = pooled.layers[name]?.data ?? new Float32Array(0);
        expect(new Uint32Array(got.buffer, got.byteOffset, got.length), name).toEqual(
          new Uint32Array(want.buffer, want.byteOffset, want.length),
        );
      }
      expect(pooled.layers.fc).toEqual(plain.layers.fc);
      expect(() => net.forward(x, 5, ["fc"], { pool: { fc: planPooling([5, 12], 4, true) } })).toThrow(
        /the pooling of layer 'fc' .* expects an output of \[12\] per sample, the layer's is \[10\]/,
      );
    } finally {
      net.dispose();
    }
  });

  it("returns embeddings [batch, d], logits and submodules' outputs channels-last, as PyTorch computes them", () => {
    const net = createNetwork(spec(join(root, "my_model.pt")), null, 1);
    const x = batch(3, 64);
    try {
      const out = net.forward(x, 3, ["embeddings", "forward", "stem", "block1", "block2.bn1", "fc"]);
      expect(out.layers.embeddings?.shape).toEqual([3, 16]);
      expect(out.layers.forward?.shape).toEqual([3, 10]);
      expect(out.layers.stem?.shape).toEqual([3, 8, 8, 16]);
      expect(out.layers.block1?.shape).toEqual([3, 8, 8, 16]);
      expect(out.layers["block2.bn1"]?.shape).toEqual([3, 8, 8, 16]);
      expect(out.layers.fc?.shape).toEqual([3, 10]);
      saveNpy(join(root, "x.npy"), x, [3, 8, 8, 1]);
      const r = spawnSync(
        TORCH_PYTHON as string,
        [
          "-c",
          `import json, numpy as np, torch
import torch.nn.functional as F
m = torch.jit.load("my_model.pt").eval()
x = torch.from_numpy(np.load("x.npy")).permute(0, 3, 1, 2).contiguous()
with torch.no_grad():
    stem = m.stem(x)
    block1 = m.block1(F.relu(stem))
    b2 = m.block2
    bn1 = b2.bn1(b2.conv1(block1))
    nhwc = lambda t: t.permute(0, 2, 3, 1).reshape(-1).tolist()
    print(json.dumps({"stem": nhwc(stem), "block1": nhwc(block1), "bn1": nhwc(bn1), "embeddings": m.embeddings(x).reshape(-1).tolist(), "logits": m(x).reshape(-1).tolist()}))`,
        ],
        { cwd: root, encoding: "utf8" },
      );
      expect(r.status, r.stderr).toBe(0);
      const want = JSON.parse(r.stdout) as Record<string, number[]>;
      expectClose(out.layers.stem?.data, want.stem as number[], "stem");
      expectClose(out.layers.block1?.data, want.block1 as number[], "block1");
      expectClose(out.layers["block2.bn1"]?.data, want.bn1 as number[], "block2.bn1");
      expectClose(out.layers.embeddings?.data, want.embeddings as number[], "embeddings");
      expectClose(out.logits, want.logits as number[], "logits");
      expectClose(out.layers.fc?.data, want.logits as number[], "fc");
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

  it("trainStep's logitsOut: the step's own logits, the step unchanged (same losses and weights after)", () => {
    const steps = Array.from({ length: 3 }, () => ({ x: batch(8, 64), y: labels(8) }));
    const a = createNetwork(spec(join(root, "my_model.pt")), adam, 5);
    const b = createNetwork(spec(join(root, "my_model.pt")), adam, 5);
    try {
      for (const { x, y } of steps) {
        const logits = new Float32Array(8 * 10).fill(Number.NaN);
        const loss = a.trainStep(x, 8, y, null, null, logits);
        expect(loss).toBe(b.trainStep(x, 8, y));
        let sum = 0;
        for (let i = 0; i < 8; i++) {
          const row = Array.from(logits.subarray(i * 10, (i + 1) * 10));
          const max = Math.max(...row);
          sum +=
            Math.log(row.reduce((t, v) => t + Math.exp(v - max), 0)) + max - (row[y[i] as number] as number);
        }
        expect(loss).toBeCloseTo(sum / 8, 4);
      }
      const probe = batch(4, 64);
      expect(Array.from(a.forward(probe, 4).logits)).toEqual(Array.from(b.forward(probe, 4).logits));
      expect(() =>
        a.trainStep(
          steps[0]?.x as Float32Array,
          8,
          steps[0]?.y as Int32Array,
          null,
          null,
          new Float32Array(3),
        ),
      ).toThrow(/logitsOut holds 3 values/);
    } finally {
      a.dispose();
      b.dispose();
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
      expect(net.layerNames).toEqual(["0", "1", "2", "forward"]);
      expect(net.forward(batch(2, 64), 2, ["1"]).layers["1"]?.shape).toEqual([2, 32]);
      const x = batch(16, 64);
      const y = labels(16);
      const first = net.trainStep(x, 16, y);
      for (let i = 0; i < 20; i++) net.trainStep(x, 16, y);
      expect(net.trainStep(x, 16, y)).toBeLessThan(first);
    } finally {
      net.dispose();
    }
  });

  it("lists the module's own tensors; start weights replace its values, frozen parameters never change", async () => {
    const traced = spec(join(root, "traced.pt"), [64]);
    expect(scriptModuleTensors(traced).tensors).toEqual([
      { name: "0.weight", shape: [32, 64], trainable: true },
      { name: "0.bias", shape: [32], trainable: true },
      { name: "2.weight", shape: [10, 32], trainable: true },
      { name: "2.bias", shape: [10], trainable: true },
    ]);
    const saved = async (net: Network, name: string) => {
      await net.save(join(root, name));
      return (await readModelCheckpoint(join(root, name))).params;
    };
    const plain = createNetwork(traced, null, 1);
    const own = await saved(plain, "own");
    plain.dispose();
    const start = Float32Array.from({ length: 32 * 64 }, (_, i) => Math.sin(i) / 8);
    // AdamW with a large weight decay: a decayed frozen tensor would shrink.
    const net = createNetwork(traced, { type: "AdamW", learningRate: 0.01, weightDecay: 0.5 }, 1, {
      weights: new Map([["0.weight", { shape: [32, 64], data: start }]]),
      frozen: ["0.weight", "0.bias"],
    });
    try {
      const x = batch(16, 64);
      const y = labels(16);
      for (let i = 0; i < 5; i++) net.trainStep(x, 16, y);
      const after = await saved(net, "fine-tuned");
      const frozen = after.get("0.weight")?.data ?? new Float32Array(0);
      expect(Buffer.from(frozen.buffer, frozen.byteOffset, frozen.byteLength)).toEqual(
        Buffer.from(start.buffer),
      );
      expect(after.get("0.bias")?.data).toEqual(own.get("0.bias")?.data);
      expect(after.get("2.weight")?.data).not.toEqual(own.get("2.weight")?.data);
      expect(after.get("2.bias")?.data).not.toEqual(own.get("2.bias")?.data);
      // A resumed fine-tuning run: the checkpoint loaded with the same parameters frozen.
      await net.save(join(root, "fine-tuned"), { optimizer: true });
      const resumed = await loadNetwork(join(root, "fine-tuned"), adam, { frozen: ["0.weight"] });
      try {
        for (let i = 0; i < 3; i++) resumed.trainStep(x, 16, y);
        const later = await saved(resumed, "resumed");
        expect(later.get("0.weight")?.data).toEqual(start);
        expect(later.get("0.bias")?.data).not.toEqual(own.get("0.bias")?.data);
      } finally {
        resumed.dispose();
      }
    } finally {
      net.dispose();
    }
    expect(() => createNetwork(traced, adam, 1, { frozen: ["1.weight"] })).toThrow(/no parameter '1.weight'/);
  });
});
