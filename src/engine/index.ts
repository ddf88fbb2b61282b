/**
 * The tensor engines behind one Network interface (./types.ts), one backend object per engine
 * (EngineBackend): `wasm` (./wasm: TensorFlow.js on its WebAssembly SIMD backend, the zero-install
 * engine) and `torch` (./torch: libtorch through the native addon of native/torch, built by `npm run
 * build:torch`). `initEngine` picks and starts the active engine, loading only its folder (torch
 * users never load TensorFlow.js); createNetwork, loadNetwork and matMulTransposed use it. Only this
 * folder knows a tensor library.
 */

import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import {
  describeModel,
  initialParameters,
  type ModelTensors,
  type ParameterSet,
  TORCHSCRIPT,
} from "../models/index.js";
import { ConfigError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { readModelCheckpoint } from "./checkpoint.js";
import { checkMatMulArgs } from "./checks.js";
import { planThreads, type ThreadPlan, type ThreadsSetting } from "./threads.js";
import type {
  EngineBackend,
  EngineInfo,
  EngineListing,
  EngineName,
  MatMulTransposed,
  MatrixPrimitive,
  Network,
  NetworkSpec,
  OptimizerSpec,
  TileCandidates,
  TrainableOptions,
} from "./types.js";
import type { BackendChoice } from "./wasm/backend.js";

export {
  CHECKPOINT_FILE_NAMES,
  CHECKPOINT_FILES,
  checkpointEngine,
  hasModelCheckpoint,
  type InitialWeights,
  type ModelCheckpoint,
  readCheckpointSpec,
  readInitialWeights,
  readModelCheckpoint,
} from "./checkpoint.js";
export { weightedOneHot } from "./one-hot.js";
export { normaliseOptimizerSpec } from "./optimizer-spec.js";
export { planThreads, type ThreadPlan, type ThreadsSetting } from "./threads.js";
export { TORCH_INSTALL_HINT } from "./torch/addon.js";
export type * from "./types.js";
export type { BackendChoice } from "./wasm/backend.js";

/** Each engine's backend object, loaded on first use (the wasm one loads TensorFlow.js). */
const LOADERS: Record<EngineName, () => Promise<EngineBackend>> = {
  wasm: async () => (await import("./wasm/index.js")).wasmBackend,
  torch: async () => (await import("./torch/index.js")).torchBackend,
};

async function backendOf(name: EngineName): Promise<EngineBackend> {
  return LOADERS[name]();
}

/**
 * The engine a choice runs on here: auto is torch when the addon is built and loads, else wasm
 * (loads the torch addon when asked about auto, never TensorFlow.js).
 */
export async function resolveEngineChoice(choice: EngineChoice): Promise<EngineName> {
  if (choice !== "auto") return choice;
  return (await torchStatus()).usable ? "torch" : "wasm";
}

/**
 * One line saying how to build the torch engine, when libtorch is installed here but the addon is
 * not built (null otherwise): for runs that would take long on wasm.
 */
export async function torchBuildHint(): Promise<string | null> {
  const { addonPath, libtorchInstalled } = await import("./torch/addon.js");
  if (!libtorchInstalled() || existsSync(addonPath())) return null;
  return "libtorch is installed but the torch engine is not built: 'npm run build:torch' in the curricula folder builds it (faster training; engine=auto then uses it)";
}

/** This process's thread plan for `threads` (null: auto) on this machine now. */
export function threadPlan(threads: number | null): ThreadPlan {
  return planThreads({
    cores: availableParallelism(),
    env: process.env,
    requested: threads ?? "auto",
  });
}

/** Whether the torch engine is built and loads here, and why not (loads the addon, not TensorFlow.js). */
async function torchStatus() {
  return (await import("./torch/index.js")).torchStatus();
}

export const ENGINE_CHOICES = ["auto", "wasm", "torch"] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

export interface EngineOptions {
  /** auto = torch when it is built and loads, else wasm. Default: CURRICULA_ENGINE, else the active engine, else wasm. */
  engine?: EngineChoice;
  /** cpu, cuda or cuda:N (torch only). Default cpu. */
  device?: string;
  /**
   * libtorch's threads: a count, or "auto"/null (default): this process's share of the cores
   * (src/engine/threads.ts). The wasm engine always computes on one; its share sizes the k-NN's workers.
   */
  threads?: ThreadsSetting;
  /** The TensorFlow.js backend of the wasm engine (tests compare backends); implies engine wasm. */
  backend?: BackendChoice;
}

let active: EngineInfo | null = null;
let activeBackend: EngineBackend | null = null;

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
  const threads = options.threads === "auto" ? null : (options.threads ?? null);
  if (threads !== null && !(Number.isInteger(threads) && threads >= 1)) {
    throw new ConfigError("threads", `expected auto or a positive integer, got ${threads}`);
  }
  let engine: EngineName;
  const torch = choice === "auto" || (choice === "wasm" && device !== "cpu") ? await torchStatus() : null;
  if (choice === "auto") engine = torch?.usable ? "torch" : "wasm";
  else engine = choice as EngineName;
  if (engine === "wasm" && device !== "cpu") {
    throw new ConfigError(
      "device",
      `'${device}' needs engine=torch built against a CUDA libtorch${choice === "auto" ? ` (engine=auto chose wasm: ${torch?.reason})` : ""}`,
    );
  }
  const backend = await backendOf(engine);
  if (engine === "torch") {
    const normalised = device === "cuda" ? "cuda:0" : device;
    if (active?.engine === "torch" && active.device === normalised && threads === null) return active;
    active = await backend.start({ device, plan: threadPlan(threads) });
  } else {
    active = await backend.start({
      device: "cpu",
      plan: threadPlan(null),
      ...(options.backend ? { backend: options.backend } : {}),
    });
  }
  activeBackend = backend;
  return active;
}

/** The active engine, or null before initEngine finished. */
export function engineInfo(): EngineInfo | null {
  return active;
}

function assertReady(where: string): { info: EngineInfo; backend: EngineBackend } {
  if (!active || !activeBackend) throw new Error(`${where}: call 'await initEngine()' first`);
  return { info: active, backend: activeBackend };
}

/** How a new network starts besides its seed: pretrained weights, and parameters that stay fixed. */
export interface NetworkInit extends TrainableOptions {
  /**
   * Tensors (PyTorch names and layouts) that replace the seeded start values of the same names, e.g.
   * the `params` of {@link readInitialWeights}; each must be a parameter or buffer of the model with
   * its shape.
   */
  weights?: ParameterSet;
}

/**
 * Builds `spec` with initial weights drawn from `seed` (the same on every engine), replaced by
 * `init.weights` where given; dropout masks come from a stream derived from the same seed. Same
 * seed, same batches → same losses and weights (wasm always; torch on the CPU with a fixed thread
 * count). `optimizer` null gives an inference-only network; `init.frozen` parameters never train.
 */
export function createNetwork(
  spec: NetworkSpec,
  optimizer: OptimizerSpec | null,
  seed: number,
  init: NetworkInit = {},
): Network {
  const { info, backend } = assertReady("createNetwork");
  if (!Number.isFinite(seed)) throw new ConfigError("seed", `expected a finite number, got ${seed}`);
  if (spec.type === TORCHSCRIPT) {
    return scriptBackend(backend).createScriptNetwork(spec, null, optimizer, Rng.derive(seed, "dropout"), {
      device: info.device ?? "cpu",
      ...(init.weights ? { weights: init.weights } : {}),
      ...(init.frozen ? { frozen: init.frozen } : {}),
    });
  }
  const description = describeModel(spec);
  const params = initialParameters(description, seed);
  for (const [name, tensor] of init.weights ?? []) {
    const start = params.get(name);
    if (!start || start.shape.join(",") !== tensor.shape.join(",")) {
      throw new ConfigError(
        "model.weights",
        `tensor '${name}' [${tensor.shape.join(", ")}] is no tensor of model ${spec.type}${start ? ` (expected [${start.shape.join(", ")}])` : ""}`,
      );
    }
    params.set(name, tensor);
  }
  const rng = Rng.derive(seed, "dropout");
  return backend.createNetwork(description, params, optimizer, rng, {
    device: info.device ?? "cpu",
    ...(init.frozen ? { frozen: init.frozen } : {}),
  });
}

/**
 * Loads a checkpoint written by Network.save on either engine (`model.safetensors`, or an older
 * run's `model.json` + `weights.bin`) into the active engine; optimiser state via loadOptimizerState.
 * `options.frozen`: parameters that stay fixed when it trains on (a resumed fine-tuning run).
 */
export async function loadNetwork(
  dir: string,
  optimizer: OptimizerSpec | null = null,
  options: TrainableOptions = {},
): Promise<Network> {
  const { info, backend } = assertReady("loadNetwork");
  const saved = await readModelCheckpoint(dir);
  if (saved.spec.type === TORCHSCRIPT) {
    return scriptBackend(backend).createScriptNetwork(
      saved.spec,
      saved.params,
      optimizer,
      new Rng(saved.dropoutRng),
      {
        device: info.device ?? "cpu",
        batchesTracked: saved.batchesTracked,
        ...(options.frozen ? { frozen: options.frozen } : {}),
      },
    );
  }
  const description = describeModel(saved.spec);
  const rng = new Rng(saved.dropoutRng);
  return backend.createNetwork(description, saved.params, optimizer, rng, {
    device: info.device ?? "cpu",
    batchesTracked: saved.batchesTracked,
    ...(options.frozen ? { frozen: options.frozen } : {}),
  });
}

/**
 * The parameters and floating-point buffers of the TorchScript module `spec` names, by its own names
 * with their shapes (parameters train, buffers do not): what `model.weights` must match and
 * `model.freeze` may name. The module is loaded on the active engine (torch) and checked against
 * the spec as a network of it would be.
 */
export function scriptModuleTensors(spec: NetworkSpec): ModelTensors {
  const { info, backend } = assertReady("scriptModuleTensors");
  const list = scriptBackend(backend).scriptTensors;
  if (!list) throw new Error(`scriptModuleTensors: the ${backend.name} engine does not list module tensors`);
  const tensors = list(spec, info.device ?? "cpu");
  return { model: `${TORCHSCRIPT} ${String(spec.params.path)}`, tensors };
}

/** The active engine where it runs TorchScript modules; a ConfigError that says to use engine=torch elsewhere. */
function scriptBackend(
  backend: EngineBackend,
): Required<Pick<EngineBackend, "createScriptNetwork">> & Pick<EngineBackend, "scriptTensors"> {
  const create = backend.createScriptNetwork;
  if (!create) {
    throw new ConfigError(
      "model",
      `TorchScript models run on the torch engine only, and this run is on the ${backend.name} engine: use engine=torch (from the library: initEngine({ engine: "torch" }); the engine is built by 'npm run build:torch'; docs/models.md)`,
    );
  }
  return {
    createScriptNetwork: create,
    ...(backend.scriptTensors ? { scriptTensors: backend.scriptTensors.bind(backend) } : {}),
  };
}

/**
 * a·bᵀ for row-major a (rowsA × dim) and b (rowsB × dim), float32 dot products computed by the
 * active engine (XNNPACK on wasm, libtorch's BLAS on torch, in an order each chooses).
 */
export const matMulTransposed: MatMulTransposed = (a, rowsA, b, rowsB, dim) => {
  const { backend } = assertReady("matMulTransposed");
  checkMatMulArgs(a, rowsA, b, rowsB, dim);
  return backend.matMulTransposed(a, rowsA, b, rowsB, dim);
};

/**
 * The k-NN's tile pass in one call ({@link TileCandidates}), where the engine has it natively
 * (torch).
 */
export const tileCandidates: TileCandidates = (a, rowsA, b, rowsB, dim, ...bounds) => {
  const native = active && activeBackend?.tileCandidates;
  if (!native) throw new Error(`tileCandidates: only the torch engine has it`);
  checkMatMulArgs(a, rowsA, b, rowsB, dim);
  return native(a, rowsA, b, rowsB, dim, ...bounds);
};

/** Every engine, whether it is usable here, its version and devices, and why not. */
export async function listEngines(): Promise<EngineListing[]> {
  const listings: EngineListing[] = [];
  for (const name of ["wasm", "torch"] as const) listings.push(await (await backendOf(name)).describe());
  return listings;
}

/**
 * The matrix primitive of the active engine ({@link MatrixPrimitive}), or null when it has none
 * faster than plain JS loops (the pure-JS cpu backend of the wasm engine).
 */
export function matrixPrimitive(): MatrixPrimitive | null {
  const { info, backend } = assertReady("matrixPrimitive");
  return backend.matrixPrimitive(info);
}

/** Live tensors and their bytes of the active engine, where it counts them (wasm), for leak checks. */
export function engineMemory(): { tensors: number; bytes: number } {
  const { backend } = assertReady("engineMemory");
  if (!backend.memory) throw new Error(`engineMemory: the ${backend.name} engine does not count its tensors`);
  return backend.memory();
}
