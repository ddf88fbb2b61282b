/**
 * The tensor engine: the only module that imports a tfjs backend. Everything else talks to models
 * through the Network interface of ./types.ts.
 */

import { availableParallelism } from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { describeModel, initialParameters } from "../models/index.js";
import { ConfigError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { engineInfo } from "./backend.js";
import { buildTfModel } from "./build.js";
import { readModelFiles } from "./io.js";
import { matMulTransposed } from "./linalg.js";
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

/**
 * The active engine's matrix product for callers that parallelise work around it (the k-NN probes of
 * PredictionDepth). `threadsPerCall`: threads one call of `matMulTransposed` uses by itself.
 * `workerInit`: the `initEngine` options that give a worker thread the same product, or null when
 * the engine is used from the calling thread only (then callers add no worker threads of their own).
 */
export interface MatrixPrimitive {
  engine: string;
  matMulTransposed: (
    a: Float32Array,
    rowsA: number,
    b: Float32Array,
    rowsB: number,
    dim: number,
  ) => Float32Array;
  threadsPerCall: number;
  workerInit: Record<string, unknown> | null;
}

/**
 * The matrix primitive of the active engine, or null when it has none faster than plain JS loops
 * (the pure-JS cpu backend). The tfjs wasm backend is single-threaded and starts in worker threads
 * (each runs its own instance); any other engine is called from this thread with its own threads.
 */
export function matrixPrimitive(): MatrixPrimitive | null {
  const info = engineInfo();
  if (!info) throw new Error("matrixPrimitive: call 'await initEngine()' first");
  if (info.backend === "cpu") return null;
  if (info.backend === "wasm") {
    return { engine: "wasm", matMulTransposed, threadsPerCall: 1, workerInit: { backend: "wasm" } };
  }
  const threads = (info as { threads?: number }).threads;
  return {
    engine: info.backend,
    matMulTransposed,
    threadsPerCall: threads ?? availableParallelism(),
    workerInit: null,
  };
}
