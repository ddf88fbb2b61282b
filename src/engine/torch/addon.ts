/**
 * Loading the native libtorch addon (native/torch, built by `npm run build:torch`). Loading is lazy
 * (libtorch takes about a second to load) and happens once per process; a missing or broken build
 * becomes a status with the reason and what to do, never an exception at import time.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { PACKAGE_ROOT } from "../../config/package.js";
import type { PoolPlan } from "../pooling.js";
import type { ExactDistances, MatMulTransposed, TileCandidates } from "../types.js";

/** The addon's surface (native/torch/src: addon.cc, net.cc, script.cc, knn.cc). */
export interface TorchAddon {
  Net: new (layers: object[], inputShape: number[], device: string) => NativeNet;
  /** A TorchScript module from its file (native/torch/src/script.cc); `inputShape` per sample, channels-last. */
  ScriptNet: new (
    path: string,
    inputShape: number[],
    device: string,
  ) => NativeScriptNet;
  matMulTransposed: MatMulTransposed;
  tileCandidates: TileCandidates;
  exactDistances: ExactDistances;
  setThreads(n: number): void;
  /** libtorch's inter-op pool (sizable once, before inter-op work); whether it took. */
  setInteropThreads(n: number): boolean;
  /** OpenBLAS's threads; false when libtorch's BLAS is no OpenBLAS. */
  setBlasThreads(n: number): boolean;
  info(): {
    version: string;
    threads: number;
    interopThreads: number;
    blasThreads: number | null;
    cuda: boolean;
    cudaDevices: number;
    parallel: string;
  };
}

export interface NativeNet {
  setParameters(values: Record<string, Float32Array>): void;
  getParameters(): { name: string; shape: number[]; data: Float32Array }[];
  setOptimizer(config: NativeOptimizerConfig): void;
  setLearningRate(lr: number): void;
  /** Parameters (PyTorch names) that get no gradient and so are never updated; every other one trains. */
  setFrozen(names: string[]): void;
  /** With `logitsOut` (batch × classes) the step's own training-mode logits are copied into it. */
  trainStep(
    x: Float32Array,
    batch: number,
    target: Float32Array,
    masks: Float32Array[],
    logitsOut?: Float32Array,
  ): number;
  /**
   * Eval mode, no gradients: the logits and the outputs of the layers `taps` (channels-last). With
   * `pools`, tap k whose entry is a pool1d or pool2d plan comes back pooled (batch × plan.size, the
   * channels-last order and the float64 sums of `applyPooling`, bit-identical to it); null entries
   * and identity plans leave their tap as it is.
   */
  forward(
    x: Float32Array,
    batch: number,
    taps: number[],
    pools?: (PoolPlan | null)[],
  ): { logits: Float32Array; layers: Float32Array[] };
  getOptimizerState(): { step: number; slots: Record<string, Float32Array> };
  setOptimizerState(step: number, slots: Record<string, Float32Array>): void;
  dispose(): void;
}

/** The optimiser settings both kinds of native network take. */
export interface NativeOptimizerConfig {
  type: string;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  nesterov: boolean;
}

/** A TorchScript module on the native side: its parameters, optimiser slots and calls. */
export interface NativeScriptNet {
  /** `modules`: the submodules forward runs, in the order of their outputs. */
  describe(): { parameters: string[]; buffers: string[]; modules: string[]; embeddings: boolean };
  /** Parameters and buffers by name (integer buffers take the values converted). */
  setParameters(values: Record<string, Float32Array>): void;
  /** Parameters (the module's names) that get no gradient and so are never updated; every other one trains. */
  setFrozen(names: string[]): void;
  /** The parameters, then the floating-point buffers. */
  getParameters(): { name: string; shape: number[]; data: Float32Array }[];
  setOptimizer(config: NativeOptimizerConfig): void;
  setLearningRate(lr: number): void;
  /**
   * Training mode, libtorch's generator seeded with `seed`; target batch × classes; with
   * `logitsOut` the step's own logits are copied into it.
   */
  trainStep(
    x: Float32Array,
    batch: number,
    target: Float32Array,
    seed: number,
    logitsOut?: Float32Array,
  ): number;
  /**
   * Eval mode, no gradients: forward(x), embeddings(x) when asked, and the outputs of the submodules
   * `taps` (channels-last).
   */
  forward(
    x: Float32Array,
    batch: number,
    embeddings: boolean,
    taps: string[],
  ): {
    logits: Float32Array;
    shape: number[];
    dtype: string;
    embeddings?: Float32Array;
    embeddingShape?: number[];
    taps: { data: Float32Array; shape: number[] }[];
  };
  getOptimizerState(): { step: number; slots: Record<string, Float32Array> };
  setOptimizerState(step: number, slots: Record<string, Float32Array>): void;
  dispose(): void;
}

export type AddonStatus =
  | { ok: true; addon: TorchAddon; path: string }
  | { ok: false; path: string; reason: string };

/** What to run to get the torch engine (said by every error about a missing or broken addon). */
export const TORCH_INSTALL_HINT =
  "install libtorch (Debian: apt-get install libtorch-dev libopenblas0-pthread; or set LIBTORCH, or have PyTorch " +
  "installed for python3), then run 'npm run build:torch' in the curricula folder (docs/engine.md, 'The torch engine')";

/** Where the addon is: CURRICULA_TORCH_ADDON, else the node-gyp build folder. */
export function addonPath(): string {
  const override = process.env.CURRICULA_TORCH_ADDON;
  return override
    ? resolve(override)
    : join(PACKAGE_ROOT, "native", "torch", "build", "Release", "curricula_torch.node");
}

/** Whether libtorch's headers are here (Debian's libtorch-dev, or LIBTORCH / LIBTORCH_INCLUDE set). */
export function libtorchInstalled(): boolean {
  if (process.env.LIBTORCH || process.env.LIBTORCH_INCLUDE) return true;
  return existsSync("/usr/include/torch/csrc/api/include/torch/torch.h");
}

let status: AddonStatus | null = null;

export function loadTorchAddon(): AddonStatus {
  if (status) return status;
  const path = addonPath();
  if (!existsSync(path)) {
    status = {
      ok: false,
      path,
      reason: `the torch engine is not built (${path} does not exist): ${TORCH_INSTALL_HINT}`,
    };
    return status;
  }
  // OpenMP's threads sleep while they wait instead of spinning (read once, as libtorch loads): on a
  // machine whose cores are busy, spinning threads take the cores from the threads with work.
  // A setting of the user's own wins.
  if (process.env.OMP_WAIT_POLICY === undefined) process.env.OMP_WAIT_POLICY = "PASSIVE";
  try {
    const addon = createRequire(import.meta.url)(path) as TorchAddon;
    addon.info();
    status = { ok: true, addon, path };
  } catch (error) {
    const first = String((error as Error).message).split("\n")[0];
    status = {
      ok: false,
      path,
      reason: `the torch engine at ${path} does not load (${first}); rebuild it: ${TORCH_INSTALL_HINT}`,
    };
  }
  return status;
}
