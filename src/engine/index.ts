/**
 * The tensor engines behind one Network interface (./types.ts): `wasm` (TensorFlow.js on its
 * WebAssembly SIMD backend, the zero-install default) and `torch` (libtorch through the native
 * addon of native/torch, built by `npm run build:torch`). `initEngine` picks the active engine;
 * createNetwork, loadNetwork and matMulTransposed use it. Only this folder knows tfjs or libtorch.
 */

import { availableParallelism } from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import { describeModel, initialParameters } from "../models/index.js";
import { ConfigError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { type BackendChoice, initEngine as initTfjs } from "./backend.js";
import { buildTfModel } from "./build.js";
import { readModelCheckpoint } from "./checkpoint.js";
import { checkMatMulArgs } from "./checks.js";
import { matMulTransposed as tfjsMatMulTransposed } from "./linalg.js";
import { TfNetwork } from "./network.js";
import {
  createTorchNetwork,
  initTorch,
  normaliseDevice,
  type QueryBounds,
  type TileCandidateLists,
  torchMatMulTransposed,
  torchStatus,
  torchTileCandidates,
} from "./torch/index.js";
import type { EngineInfo, EngineName, Network, NetworkSpec, OptimizerSpec } from "./types.js";

export { type BackendChoice, engineMemory, profileKernels } from "./backend.js";
export {
  CHECKPOINT_FILE_NAMES,
  CHECKPOINT_FILES,
  checkpointEngine,
  hasModelCheckpoint,
  type ModelCheckpoint,
  readModelCheckpoint,
} from "./checkpoint.js";
export { maxPoolGradNHWC, type PoolGeometry, registerEngineKernels } from "./kernels.js";
export { weightedOneHot } from "./one-hot.js";
export { normaliseOptimizerSpec } from "./optimizer-spec.js";
export { TORCH_INSTALL_HINT } from "./torch/index.js";
export type * from "./types.js";

export const ENGINE_CHOICES = ["auto", "wasm", "torch"] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

export interface EngineOptions {
  /** auto = torch when it is built and loads, else wasm. Default: CURRICULA_ENGINE, else the active engine, else wasm. */
  engine?: EngineChoice;
  /** cpu, cuda or cuda:N (torch only). Default cpu. */
  device?: string;
  /** libtorch threads (default: all cores); the wasm engine always uses one. */
  threads?: number | null;
  /** The tfjs backend of the wasm engine (tests compare backends); implies engine wasm. */
  backend?: BackendChoice;
}

let active: EngineInfo | null = null;

const DEVICE = /^(cpu|cuda|cuda:\d+)$/;

/**
 * Selects and initialises an engine; idempotent for the same options. Errors (ConfigError naming
 * `engine`, `device` or `threads`) say what is wrong and, for a missing torch build, what to install.
 */
export async function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  const fromEnv = process.env.CURRICULA_ENGINE || undefined;
  const choice = options.engine ?? (options.backend ? "wasm" : (fromEnv ?? active?.engine ?? "wasm"));
  if (!(ENGINE_CHOICES as readonly string[]).includes(choice)) {
    throw new ConfigError(
      options.engine === undefined && fromEnv ? "CURRICULA_ENGINE" : "engine",
      `unknown engine '${choice}'; expected one of: ${ENGINE_CHOICES.join(", ")}`,
    );
  }
  const device =
    options.device ?? (options.engine === undefined && active ? (active.device ?? "cpu") : "cpu");
  if (!DEVICE.test(device)) throw new ConfigError("device", `expected cpu, cuda or cuda:N, got '${device}'`);
  const threads = options.threads ?? null;
  if (threads !== null && !(Number.isInteger(threads) && threads >= 1)) {
    throw new ConfigError("threads", `expected a positive integer, got ${threads}`);
  }
  let engine: EngineName;
  if (choice === "auto") engine = torchStatus().usable ? "torch" : "wasm";
  else engine = choice as EngineName;
  if (engine === "wasm" && device !== "cpu") {
    throw new ConfigError(
      "device",
      `'${device}' needs engine=torch built against a CUDA libtorch${choice === "auto" ? ` (engine=auto chose wasm: ${torchStatus().reason})` : ""}`,
    );
  }
  if (engine === "torch") {
    if (
      active?.engine === "torch" &&
      active.device === normaliseDevice(device) &&
      (threads === null || threads === active.threads)
    ) {
      return active;
    }
    active = initTorch(device, threads);
    return active;
  }
  const info = await initTfjs(options.backend ? { backend: options.backend } : {});
  active = { ...info, engine: "wasm", device: "cpu", threads: 1 };
  return active;
}

/** The active engine, or null before initEngine finished. */
export function engineInfo(): EngineInfo | null {
  return active;
}

function assertReady(where: string): EngineInfo {
  if (!active) throw new Error(`${where}: call 'await initEngine()' first`);
  return active;
}

/**
 * Builds `spec` with initial weights drawn from `seed` (the same on every engine); dropout masks
 * come from a stream derived from the same seed. Same seed, same batches → same losses and weights
 * (wasm always; torch on the CPU with a fixed thread count). `optimizer` null gives an
 * inference-only network.
 */
export function createNetwork(spec: NetworkSpec, optimizer: OptimizerSpec | null, seed: number): Network {
  const info = assertReady("createNetwork");
  if (!Number.isFinite(seed)) throw new ConfigError("seed", `expected a finite number, got ${seed}`);
  const description = describeModel(spec);
  const params = initialParameters(description, seed);
  const rng = Rng.derive(seed, "dropout");
  if (info.engine === "torch") {
    return createTorchNetwork(description, params, optimizer, rng, { device: info.device ?? "cpu" });
  }
  const model = buildTfModel(description, params);
  try {
    return new TfNetwork(model, description, optimizer, rng);
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * Loads a checkpoint written by Network.save on either engine (`model.safetensors`, or an older
 * run's `model.json` + `weights.bin`) into the active engine; optimiser state via loadOptimizerState.
 */
export async function loadNetwork(dir: string, optimizer: OptimizerSpec | null = null): Promise<Network> {
  const info = assertReady("loadNetwork");
  const saved = await readModelCheckpoint(dir);
  const description = describeModel(saved.spec);
  const rng = new Rng(saved.dropoutRng);
  if (info.engine === "torch") {
    return createTorchNetwork(description, saved.params, optimizer, rng, {
      device: info.device ?? "cpu",
      batchesTracked: saved.batchesTracked,
    });
  }
  const model = buildTfModel(description, saved.params);
  try {
    return new TfNetwork(model, description, optimizer, rng, saved.batchesTracked);
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * a·bᵀ for row-major a (rowsA × dim) and b (rowsB × dim), float32 dot products computed by the
 * active engine (XNNPACK on wasm, libtorch's BLAS on torch, in an order each chooses).
 */
export const matMulTransposed: typeof tfjsMatMulTransposed = (a, rowsA, b, rowsB, dim) => {
  if (active?.engine !== "torch") return tfjsMatMulTransposed(a, rowsA, b, rowsB, dim);
  checkMatMulArgs(a, rowsA, b, rowsB, dim);
  return torchMatMulTransposed(a, rowsA, b, rowsB, dim);
};

export type { QueryBounds, TileCandidateLists };

/**
 * The k-NN's tile pass in one call, where the engine has it natively (torch): the float32 products
 * a·bᵀ and, of them, the candidates each query can still take. For row r of a (a query against
 * b's rows) the distance to b's row t is d = (normsA[r] + normsB[t]) − 2·(a_r·b_t) in float64 from
 * the float32 product, clamped at 0, and t is a candidate when d ≤ rows.keep[r]; with `cols` the
 * same for b's rows as queries against a's rows (d = (normsB[t] + normsA[r]) − 2·(a_r·b_t)). A query
 * whose keep is +Infinity (fewer than k references seen) gets the bound (k-th smallest d so far + e)
 * + e once it has seen k, e = its `errors` entry: the k-NN's own bound, so that a fresh query's
 * first tile does not hand over every pair. Candidates come in ascending index order with their d.
 * The products never cross into JS.
 */
export const tileCandidates: typeof torchTileCandidates = (a, rowsA, b, rowsB, dim, ...bounds) => {
  if (active?.engine !== "torch") throw new Error("tileCandidates: only the torch engine has it");
  checkMatMulArgs(a, rowsA, b, rowsB, dim);
  return torchTileCandidates(a, rowsA, b, rowsB, dim, ...bounds);
};

/** One engine as `curricula engines` lists it. */
export interface EngineListing {
  name: EngineName;
  usable: boolean;
  version: string | null;
  devices: string[];
  /** What it runs on, or why it is not usable and what to install. */
  detail: string;
}

/** Every engine, whether it is usable here, its version and devices, and why not. */
export async function listEngines(): Promise<EngineListing[]> {
  let wasm: EngineListing;
  try {
    const info = await initTfjs({ backend: "wasm" });
    wasm = {
      name: "wasm",
      usable: true,
      version: `tfjs ${info.version}`,
      devices: ["cpu"],
      detail: `TensorFlow.js WebAssembly backend, ${info.simd ? "SIMD" : "no SIMD"}, 1 thread`,
    };
  } catch (error) {
    wasm = {
      name: "wasm",
      usable: false,
      version: `tfjs ${tf.version_core}`,
      devices: [],
      detail: (error as Error).message,
    };
  }
  const torch = torchStatus();
  return [
    wasm,
    {
      name: "torch",
      usable: torch.usable,
      version: torch.version ? `libtorch ${torch.version}` : null,
      devices: torch.devices,
      detail: torch.usable
        ? `libtorch through the native addon; ${torch.devices.length > 1 ? "CUDA available" : "no CUDA (CPU only)"}`
        : (torch.reason ?? "not usable"),
    },
  ];
}

/**
 * The active engine's matrix product for callers that parallelise work around it (the k-NN probes of
 * PredictionDepth). `threadsPerCall`: threads one call of `matMulTransposed` uses by itself.
 * `workerInit`: the `initEngine` options that give a worker thread the same product, or null when
 * the engine is used from the calling thread only (then callers add no worker threads of their own).
 */
export interface MatrixPrimitive {
  engine: string;
  matMulTransposed: typeof matMulTransposed;
  threadsPerCall: number;
  workerInit: Record<string, unknown> | null;
  /** The fused product and candidate filter ({@link tileCandidates}), where the engine has it. */
  tileCandidates?: typeof tileCandidates;
}

/**
 * The matrix primitive of the active engine, or null when it has none faster than plain JS loops
 * (the pure-JS cpu backend). The tfjs wasm backend is single-threaded and starts in worker threads
 * (each runs its own instance); any other engine is called from this thread with its own threads.
 */
export function matrixPrimitive(): MatrixPrimitive | null {
  const info = engineInfo();
  if (!info) throw new Error("matrixPrimitive: call 'await initEngine()' first");
  if (info.engine !== "torch" && info.backend === "cpu") return null;
  if (info.engine !== "torch" && info.backend === "wasm") {
    return { engine: "wasm", matMulTransposed, threadsPerCall: 1, workerInit: { backend: "wasm" } };
  }
  return {
    engine: info.engine ?? info.backend,
    matMulTransposed,
    threadsPerCall: info.threads ?? availableParallelism(),
    workerInit: null,
    ...(info.engine === "torch" ? { tileCandidates } : {}),
  };
}
