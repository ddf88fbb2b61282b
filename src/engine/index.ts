/**
 * The tensor engine: the only module that imports a tfjs backend. Everything else talks to models
 * through the Network interface of ./types.ts.
 */

import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { describeModel, initialParameters } from "../models/index.js";
import { ConfigError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { engineInfo } from "./backend.js";
import { buildTfModel } from "./build.js";
import { readModelFiles } from "./io.js";
import { TfNetwork } from "./network.js";
import type { Network, NetworkSpec, OptimizerSpec } from "./types.js";

export { type BackendChoice, engineInfo, engineMemory, initEngine, profileKernels } from "./backend.js";
export { MODEL_FILE, OPTIMIZER_FILE, OPTIMIZER_WEIGHTS_FILE, WEIGHTS_FILE } from "./io.js";
export { maxPoolGradNHWC, type PoolGeometry, registerEngineKernels } from "./kernels.js";
export { matMulTransposed } from "./linalg.js";
export { weightedOneHot } from "./network.js";
export { normaliseOptimizerSpec } from "./optimizers.js";
export type * from "./types.js";

function assertReady(where: string): void {
  if (!engineInfo()) throw new Error(`${where}: call 'await initEngine()' first`);
}

/**
 * Builds `spec` with initial weights drawn from `seed`; dropout masks come from a stream derived from
 * the same seed. Same seed, same batches → same losses and weights (single-threaded wasm and cpu are
 * deterministic). `optimizer` null gives an inference-only network.
 */
export function createNetwork(spec: NetworkSpec, optimizer: OptimizerSpec | null, seed: number): Network {
  assertReady("createNetwork");
  if (!Number.isFinite(seed)) throw new ConfigError("seed", `expected a finite number, got ${seed}`);
  const description = describeModel(spec);
  const model = buildTfModel(description, initialParameters(description, seed));
  try {
    return new TfNetwork(model, spec, optimizer, Rng.derive(seed, "dropout"));
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** Loads model.json + weights.bin written by Network.save; optimiser state via loadOptimizerState. */
export async function loadNetwork(dir: string, optimizer: OptimizerSpec | null = null): Promise<Network> {
  assertReady("loadNetwork");
  const { artifacts, meta } = await readModelFiles(dir);
  const model = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  try {
    return new TfNetwork(model, meta.spec, optimizer, new Rng(meta.dropoutRng));
  } catch (error) {
    model.dispose();
    throw error;
  }
}
