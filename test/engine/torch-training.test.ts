/**
 * Training runs on the torch engine through the trainer: Digits reaches the wasm engine's accuracy
 * band, two runs with the same seed (CPU, 2 threads) are identical file for file, a crashed torch
 * run resumes to the uninterrupted run's files, resuming on the other engine is refused, and each
 * engine evaluates the other's best model to the logits saved with it.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildForRun, trainRun } from "../../src/assembly/train-run.js";
import { type EngineChoice, initEngine, loadNetwork } from "../../src/engine/index.js";
import { readRunConfig } from "../../src/results/run-folder.js";
import type { TrainResult } from "../../src/training/types.js";
import { ConfigError } from "../../src/util/errors.js";
import { loadNpy } from "../../src/util/npy.js";
import { readYaml } from "../../src/util/yaml-io.js";
import { describeWith } from "../support/system.js";
import { torchEngine } from "../support/torch.js";
import { crashOnStep, differingFiles, digitsFfnnConfig, tempDir } from "../training/helpers.js";

const root = tempDir("torch-training");
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await initEngine({ engine: "wasm" });
});
const quiet = { log: null, progress: false } as const;

function digits(engine: EngineChoice, overrides: Record<string, unknown> = {}) {
  return digitsFfnnConfig({ engine, threads: engine === "torch" ? 2 : null, ...overrides });
}

/** Logits of `runDir`'s best model on the test subset, on the active engine, vs the saved ones. */
async function bestTestLogitsDiff(runDir: string): Promise<number> {
  const { dataset } = await buildForRun(readRunConfig(runDir));
  const positions = loadNpy(join(runDir, "_test", "test_indices.npy")).data as Int32Array;
  const saved = loadNpy(join(runDir, "_test", "test_outputs.npy")).data as Float32Array;
  const net = await loadNetwork(join(runDir, "_best"));
  const { x } = dataset.subset("test").batch(positions);
  const logits = net.forward(x, positions.length).logits;
  net.dispose();
  let worst = 0;
  for (let i = 0; i < saved.length; i++)
    worst = Math.max(worst, Math.abs((logits[i] as number) - (saved[i] as number)));
  return worst;
}

describeWith(torchEngine, "torch engine: training runs", () => {
  const wasmDir = join(root, "wasm");
  const torchDir = join(root, "torch");
  const againDir = join(root, "torch-again");
  let wasm: TrainResult;
  let torch: TrainResult;

  beforeAll(async () => {
    wasm = await trainRun(digits("wasm"), { runDir: wasmDir, ...quiet });
    torch = await trainRun(digits("torch"), { runDir: torchDir, ...quiet });
    await trainRun(digits("torch"), { runDir: againDir, ...quiet });
  });

  it("FFNN on Digits reaches >= 0.90 test accuracy on both engines, within 0.03 of each other", () => {
    expect(wasm.test.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(torch.test.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs((torch.test.accuracy as number) - (wasm.test.accuracy as number))).toBeLessThanOrEqual(
      0.03,
    );
  });

  it("records the engine in hardware.yaml", () => {
    const hardware = readYaml<{ engine: Record<string, unknown> }>(join(torchDir, "hardware.yaml"));
    expect(hardware.engine).toMatchObject({ name: "torch", backend: "libtorch", device: "cpu", threads: 2 });
    expect(readYaml<{ engine: Record<string, unknown> }>(join(wasmDir, "hardware.yaml")).engine.name).toBe(
      "wasm",
    );
  });

  it("the same seed twice on the CPU with 2 threads: identical metrics.csv and every output file", () => {
    expect(readFileSync(join(againDir, "metrics.csv"), "utf8")).toBe(
      readFileSync(join(torchDir, "metrics.csv"), "utf8"),
    );
    expect(differingFiles(torchDir, againDir)).toEqual([]);
  });

  it("each engine evaluates the other's best model to the test logits saved with it (1e-4)", async () => {
    await initEngine({ engine: "wasm" });
    expect(await bestTestLogitsDiff(torchDir)).toBeLessThan(1e-4);
    await initEngine({ engine: "torch", threads: 2 });
    expect(await bestTestLogitsDiff(wasmDir)).toBeLessThan(1e-4);
  });

  it("a crashed torch run resumes on torch to the uninterrupted run's files; on wasm it is refused", async () => {
    const config = digits("torch", { iterations: 4 });
    const straight = join(root, "straight");
    await trainRun(config, { runDir: straight, ...quiet });
    const crashed = join(root, "crashed");
    const crash = crashOnStep(3, 5);
    await expect(trainRun(config, { runDir: crashed, ...quiet, callbacks: [crash] })).rejects.toThrow(
      "simulated crash",
    );
    const onWasm = trainRun({ ...config, engine: "wasm", threads: null }, { runDir: crashed, ...quiet });
    await expect(onWasm).rejects.toThrow(ConfigError);
    await expect(
      trainRun({ ...config, engine: "wasm", threads: null }, { runDir: crashed, ...quiet }),
    ).rejects.toThrow(/trained on the torch engine; resuming it on wasm is refused.*engine=torch/);
    const resumed = await trainRun(config, { runDir: crashed, ...quiet });
    expect(resumed.skipped).toBe(false);
    expect(differingFiles(straight, crashed)).toEqual([]);
  });

  it("a finished run is reused whichever engine is asked for (engine is not part of the run's identity)", async () => {
    const again = await trainRun(digits("wasm"), { runDir: torchDir, ...quiet });
    expect(again.skipped).toBe(true);
  });
});
