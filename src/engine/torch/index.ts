/**
 * The torch engine: libtorch through the native addon of native/torch (built by `npm run
 * build:torch`): status, initialisation (device and threads) and network construction. Only
 * src/engine/index.ts loads this module, when the torch engine is used or asked about; it loads no
 * TensorFlow.js.
 */
import type { ModelDescription, ParameterSet } from "../../models/index.js";
import { ConfigError } from "../../util/errors.js";
import { Rng } from "../../util/rng.js";
import type { ThreadPlan } from "../threads.js";
import type { EngineBackend, EngineInfo, OptimizerSpec, TrainableOptions } from "../types.js";
import { loadTorchAddon, type TorchAddon } from "./addon.js";
import { TorchNetwork } from "./network.js";
import { TorchScriptNetwork } from "./script-network.js";

export { addonPath, TORCH_INSTALL_HINT } from "./addon.js";
export { TorchNetwork } from "./network.js";
export { TorchScriptNetwork } from "./script-network.js";

export interface TorchStatus {
  usable: boolean;
  version: string | null;
  /** "cpu" and "cuda:N" for each CUDA device libtorch sees. */
  devices: string[];
  /** Why it is not usable (what to install), or null. */
  reason: string | null;
}

export function torchStatus(): TorchStatus {
  const status = loadTorchAddon();
  if (!status.ok) return { usable: false, version: null, devices: [], reason: status.reason };
  const info = status.addon.info();
  const cuda = Array.from({ length: info.cudaDevices }, (_, i) => `cuda:${i}`);
  return { usable: true, version: info.version, devices: ["cpu", ...cuda], reason: null };
}

function addon(): TorchAddon {
  const status = loadTorchAddon();
  if (!status.ok) throw new ConfigError("engine", `'torch': ${status.reason}`);
  return status.addon;
}

/** Checks the device and sets libtorch's thread pools from the plan: intra-op, inter-op and OpenBLAS threads. */
export function initTorch(device: string, plan: ThreadPlan): EngineInfo {
  const native = addon();
  const info = native.info();
  if (device !== "cpu") {
    const index = device === "cuda" ? 0 : Number(device.slice("cuda:".length));
    if (!info.cuda) {
      throw new ConfigError(
        "device",
        `'${device}': CUDA is not available to the torch engine (libtorch ${info.version} was built without CUDA, or no GPU is visible); use device=cpu, or build against a CUDA libtorch (docs/engine.md, 'GPUs')`,
      );
    }
    if (index >= info.cudaDevices) {
      throw new ConfigError(
        "device",
        `'${device}': libtorch sees ${info.cudaDevices} CUDA device(s) (cuda:0 … cuda:${info.cudaDevices - 1})`,
      );
    }
  }
  native.setThreads(plan.intraOp);
  native.setInteropThreads(plan.interOp);
  native.setBlasThreads(plan.blas);
  return {
    engine: "torch",
    backend: "libtorch",
    simd: false,
    version: info.version,
    device: normaliseDevice(device),
    threads: plan.intraOp,
    threadPlan: plan,
  };
}

export function normaliseDevice(device: string): string {
  return device === "cuda" ? "cuda:0" : device;
}

export function createTorchNetwork(
  description: ModelDescription,
  params: ParameterSet,
  optimizer: OptimizerSpec | null,
  dropoutRng: Rng,
  options: { device: string; batchesTracked?: number } & TrainableOptions,
): TorchNetwork {
  return new TorchNetwork(addon(), description, params, optimizer, dropoutRng, options);
}

let started: EngineInfo | null = null;

export const torchBackend: EngineBackend = {
  name: "torch",

  async start(settings) {
    if (
      started &&
      started.device === normaliseDevice(settings.device) &&
      started.threads === settings.plan.intraOp
    ) {
      return started;
    }
    started = initTorch(settings.device, settings.plan);
    return started;
  },

  createNetwork: createTorchNetwork,

  createScriptNetwork: (spec, params, optimizer, dropoutRng, options) =>
    new TorchScriptNetwork(addon(), spec, params, optimizer, dropoutRng, options),

  /** The module's own tensors: it is loaded (and checked against the spec), listed and let go. */
  scriptTensors(spec, device) {
    const network = new TorchScriptNetwork(addon(), spec, null, null, new Rng(0), { device });
    try {
      return network.tensors();
    } finally {
      network.dispose();
    }
  },

  /** a·bᵀ in float32 on libtorch (CPU, libtorch's threads). */
  matMulTransposed: (...args) => addon().matMulTransposed(...args),

  /** The k-NN tile pass on libtorch: products and the candidate filter in one native call. */
  tileCandidates: (...args) => addon().tileCandidates(...args),

  /** The k-NN's exact float64 distances to a list of references, in the JS order. */
  exactDistances: (...args) => addon().exactDistances(...args),

  /** libtorch is called from this thread and computes with its own threads. */
  matrixPrimitive(info) {
    return {
      engine: "torch",
      matMulTransposed: torchBackend.matMulTransposed,
      threadsPerCall: info.threads ?? 1,
      workerInit: null,
      tileCandidates: torchBackend.tileCandidates,
      exactDistances: torchBackend.exactDistances,
    };
  },

  async describe() {
    const torch = torchStatus();
    return {
      name: "torch",
      usable: torch.usable,
      version: torch.version ? `libtorch ${torch.version}` : null,
      devices: torch.devices,
      detail: torch.usable
        ? `libtorch through the native addon; ${torch.devices.length > 1 ? "CUDA available" : "no CUDA (CPU only)"}`
        : (torch.reason ?? "not usable"),
    };
  },
};
