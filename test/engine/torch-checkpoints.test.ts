/**
 * Checkpoints across engines: what one engine saves, the other loads (same logits), optimiser state
 * included (a step after loading agrees), and older tfjs-format checkpoints load on both.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  createNetwork,
  initEngine,
  loadNetwork,
  type Network,
  type NetworkSpec,
  type OptimizerSpec,
  readModelCheckpoint,
} from "../../src/engine/index.js";
import { describeModel } from "../../src/models/index.js";
import { Rng } from "../../src/util/rng.js";
import { writeLegacyFfnn } from "../support/legacy-checkpoint.js";
import { describeWith } from "../support/system.js";
import { torchEngine } from "../support/torch.js";

const SPECS: NetworkSpec[] = [
  { type: "FFNN", inputShape: [12], outputDim: 4, params: { hidden_sizes: [16, 8], dropout: 0.5 } },
  { type: "CNN", inputShape: [8, 8, 1], outputDim: 3, params: { channels: [4, 6], hidden: 8 } },
  { type: "ResCNN", inputShape: [8, 8, 1], outputDim: 3, params: { channels: [4, 4, 6] } },
  { type: "AudioCNN", inputShape: [16, 8], outputDim: 3, params: { channels: [4, 4] } },
];
const ADAM: OptimizerSpec = { type: "Adam", learningRate: 0.01 };

function data(spec: NetworkSpec, n: number, seed: number) {
  const rng = new Rng(seed);
  const size = spec.inputShape.reduce((a, b) => a * b, 1);
  return {
    x: Float32Array.from({ length: n * size }, () => rng.normal()),
    y: Int32Array.from({ length: n }, () => rng.int(spec.outputDim)),
  };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

async function on(engine: "wasm" | "torch"): Promise<void> {
  await initEngine({ engine, threads: engine === "torch" ? 2 : null });
}

function train(net: Network, spec: NetworkSpec, steps: number): void {
  for (let s = 0; s < steps; s++) {
    const { x, y } = data(spec, 6, 100 + s);
    net.trainStep(x, 6, y);
  }
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "curricula-torch-ckpt-"));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await initEngine({ engine: "wasm" });
});

describeWith(torchEngine, "torch engine: checkpoints across engines", () => {
  for (const spec of SPECS) {
    for (const [from, to] of [
      ["torch", "wasm"],
      ["wasm", "torch"],
    ] as const) {
      it(`${spec.type}: saved on ${from}, loaded on ${to}: same logits, and training continues alike`, async () => {
        const at = join(dir, `${spec.type}-${from}`);
        await on(from);
        const a = createNetwork(spec, ADAM, 5);
        train(a, spec, 3);
        await a.save(at, { optimizer: true });
        const probe = data(spec, 5, 9).x;
        const before = a.forward(probe, 5).logits;
        const saved = await readModelCheckpoint(at);
        expect(saved.engine).toBe(from);
        const batchNorm = describeModel(spec).layers.some((l) => l.kind === "batchnorm2d");
        expect(saved.batchesTracked).toBe(batchNorm ? 3 : 0);
        await on(to);
        const b = await loadNetwork(at, ADAM);
        await b.loadOptimizerState(at);
        b.setRngState(a.getRngState());
        expect(b.layerNames).toEqual(a.layerNames);
        expect(maxDiff(b.forward(probe, 5).logits, before)).toBeLessThan(1e-5);
        // Two more steps on each (same batches, same dropout masks) keep them together: the Adam
        // moments and step count came across. With batch norm the eval-mode logits are not
        // compared after training (the engines' running variances differ, see docs/engine.md),
        // the training loss of the second step is.
        const first = data(spec, 6, 7);
        const second = data(spec, 6, 8);
        a.trainStep(first.x, 6, first.y);
        b.trainStep(first.x, 6, first.y);
        const lossA = a.trainStep(second.x, 6, second.y);
        const lossB = b.trainStep(second.x, 6, second.y);
        expect(Math.abs(lossA - lossB)).toBeLessThan(1e-5);
        if (!batchNorm)
          expect(maxDiff(b.forward(probe, 5).logits, a.forward(probe, 5).logits)).toBeLessThan(1e-5);
        a.dispose();
        b.dispose();
      });
    }
  }

  it("an older run's model.json + weights.bin loads on torch with the tfjs layouts converted", async () => {
    const spec = SPECS[0] as NetworkSpec;
    const at = join(dir, "legacy");
    await on("wasm");
    const a = createNetwork(spec, null, 2);
    await a.save(at);
    const params = (await readModelCheckpoint(at)).params;
    // Write the same weights the way older releases did (tfjs layers format, [in, out] kernels).
    const legacy = writeLegacyFfnn(join(dir, "legacy-tfjs"), spec, params, a.getRngState().dropout);
    const probe = data(spec, 4, 3).x;
    const want = a.forward(probe, 4).logits;
    await on("torch");
    const b = await loadNetwork(legacy);
    expect(maxDiff(b.forward(probe, 4).logits, want)).toBeLessThan(1e-5);
    a.dispose();
    b.dispose();
  });
});
