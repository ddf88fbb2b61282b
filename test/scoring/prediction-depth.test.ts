/**
 * PredictionDepth hands its probes' pooling to the engine (`forward`'s `pool` option; natively on
 * the torch engine) for every batch after the first: its embeddings must stay exactly what pooling
 * the whole layer outputs in JS gives, on a CNN (2-D pooling with overlapping windows) and an FFNN
 * (1-D), on both engines. The reference runs the same batches through the same engine unpooled.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildForRun, trainRun } from "../../src/assembly/train-run.js";
import { runDir as runFolder } from "../../src/config/layout.js";
import { runName } from "../../src/config/naming.js";
import { engineInfo, initEngine, loadNetwork } from "../../src/engine/index.js";
import { applyPooling, planPooling } from "../../src/engine/pooling.js";
import { checkpointDir, readRunConfig } from "../../src/results/run-folder.js";
import { PredictionDepth } from "../../src/scoring/functions/prediction-depth.js";
import { loadNpy } from "../../src/util/npy.js";
import { describeWith } from "../support/system.js";
import { torchEngine } from "../support/torch.js";
import { digitsConfig, executeScore, scoreManagerConfig, trainDigitsRuns } from "./fixture.js";

const BATCH = 64;
let resultsDir: string;
let ffnn: string;
let cnn: string;

beforeAll(async () => {
  await initEngine({ engine: "wasm" });
  const trained = await trainDigitsRuns([1]);
  resultsDir = trained.resultsDir;
  ffnn = trained.runs[0] as string;
  const config = digitsConfig(resultsDir, 1, {
    dataset: { id: "Digits-image", type: "Digits", shape: "image", dev_split: 0.2, test_split: 0.2 },
    model: { id: "CNN", type: "CNN", channels: [3, 5], hidden: 16 },
  });
  cnn = runName(config as unknown as Record<string, unknown>);
  await trainRun(config, { runDir: runFolder(resultsDir, "default", cnn), log: null });
});

afterAll(() => {
  delete process.env.CURRICULA_ENGINE;
  rmSync(resultsDir, { recursive: true, force: true });
});

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/**
 * Scores PredictionDepth on every layer of `run` with embeddings saved, and compares each layer
 * probe's embedding with `applyPooling` of the unpooled outputs of the same batches.
 */
async function expectEmbeddingsOf(run: string, id: string, max: number) {
  const { atomic, dir, rows } = await executeScore(
    scoreManagerConfig(
      resultsDir,
      {
        id,
        type: "PredictionDepth",
        run_name: run,
        probe_placements: [".*"],
        max_embedding_size: max,
        save_embeddings: true,
      },
      { batch_size: BATCH },
    ),
  );
  const folder = runFolder(resultsDir, "default", run);
  const { dataset } = await buildForRun(readRunConfig(folder));
  const subset = dataset.subset("train");
  const network = await loadNetwork(checkpointDir(folder, "best"));
  const layers = PredictionDepth.probes(network.layerNames, [".*"]).slice(1, -1);
  const logitsLayer = network.layerNames.at(-1) as string;
  const n = subset.size;
  expect(n).toBeGreaterThan(3 * BATCH);
  const chunks: Float32Array[][] = layers.map(() => []);
  const pooled = { pool1d: 0, pool2d: 0 };
  for (let start = 0; start < n; start += BATCH) {
    const positions = Int32Array.from({ length: Math.min(BATCH, n - start) }, (_, i) => start + i);
    const result = network.forward(subset.batch(positions).x, positions.length, layers);
    layers.forEach((layer, k) => {
      const out =
        layer === logitsLayer
          ? { data: result.logits, shape: [positions.length, network.spec.outputDim] }
          : (result.layers[layer] as { data: Float32Array; shape: number[] });
      const plan = planPooling(out.shape, max, true);
      if (start === 0 && plan.kind !== "identity") pooled[plan.kind]++;
      (chunks[k] as Float32Array[]).push(applyPooling(plan, out.data, positions.length));
    });
  }
  network.dispose();
  layers.forEach((layer, k) => {
    const want = Float32Array.from((chunks[k] as Float32Array[]).flatMap((c) => Array.from(c)));
    const saved = loadNpy(join(dir, atomic[0]?.name as string, `embeddings_${k + 1}.npy`));
    expect(saved.data.length, layer).toBe(want.length);
    expect(bits(Float32Array.from(saved.data)), layer).toEqual(bits(want));
  });
  expect(rows.index.length).toBe(n);
  return { layers, pooled };
}

// Max 12 on the FFNN (hidden 16): linear0, relu0 and dropout0 are pooled 16 → 12 by the engine.
// Max 40 on the CNN (channels 3, 5 on 8×8 images): conv0/relu0 8×8 → 3×3, pool0 4×4 → 3×3,
// conv1/relu1 4×4 → 2×2.
describe("PredictionDepth's engine-pooled embeddings (wasm)", () => {
  it("FFNN: 1-D pooled probes equal applyPooling of the whole outputs", async () => {
    const { layers, pooled } = await expectEmbeddingsOf(ffnn, "PD-ffnn", 12);
    expect(layers).toEqual(["linear0", "relu0", "dropout0", "linear1"]);
    expect(pooled).toEqual({ pool1d: 3, pool2d: 0 });
  });
  it("CNN: 2-D pooled probes (overlapping windows) equal applyPooling of the whole outputs", async () => {
    const { pooled } = await expectEmbeddingsOf(cnn, "PD-cnn", 40);
    expect(pooled.pool2d).toBe(5);
  });
});

describeWith(torchEngine, "PredictionDepth's engine-pooled embeddings (torch, pooled natively)", () => {
  beforeAll(() => {
    process.env.CURRICULA_ENGINE = "torch";
  });
  afterAll(async () => {
    delete process.env.CURRICULA_ENGINE;
    await initEngine({ engine: "wasm" });
  });
  it("FFNN and CNN: the natively pooled probes equal applyPooling of the whole outputs", async () => {
    await initEngine();
    expect(engineInfo()?.engine).toBe("torch");
    expect((await expectEmbeddingsOf(ffnn, "PD-ffnn-torch", 12)).pooled.pool1d).toBe(3);
    expect((await expectEmbeddingsOf(cnn, "PD-cnn-torch", 40)).pooled.pool2d).toBe(5);
    expect(engineInfo()?.engine).toBe("torch");
  });
});
