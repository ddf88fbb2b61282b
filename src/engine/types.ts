/**
 * The engine contract: everything outside src/engine talks to models only through these types.
 * Each engine builds networks from the engine-neutral model descriptions of src/models.
 */

import type { NetworkSpec } from "../models/index.js";

export type { NetworkSpec };

export type OptimizerType = "Adam" | "AdamW" | "SGD";

export interface OptimizerSpec {
  type: OptimizerType;
  learningRate: number;
  /** SGD momentum (default 0). */
  momentum?: number;
  nesterov?: boolean;
  /** Decoupled weight decay for AdamW, L2 for SGD (default 0; AdamW default 0.01). */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** A named intermediate output of a forward pass (row-major, first dim = batch). */
export interface LayerOutput {
  data: Float32Array;
  shape: number[];
}

export interface ForwardResult {
  /** Logits, batch × outputDim, row-major. */
  logits: Float32Array;
  /** The layer outputs that were asked for, by layer name. */
  layers: Record<string, LayerOutput>;
}

/** Trainable state beyond the weights, so a resumed run continues exactly. */
export interface NetworkRngState {
  dropout: [number, number, number, number];
}

export interface Network {
  readonly spec: NetworkSpec;
  /** Names of the model's layers in forward order (probes of PredictionDepth match these). */
  readonly layerNames: readonly string[];
  /**
   * One optimisation step on a batch: forward in training mode (dropout on), softmax cross-entropy,
   * backward, optimiser update. `classWeights` (length outputDim) gives PyTorch-style weighted
   * cross-entropy: sum_i w[y_i] * l_i / sum_i w[y_i]. Returns the (weighted) mean loss.
   */
  trainStep(x: Float32Array, batchSize: number, y: Int32Array, classWeights?: Float32Array | null): number;
  /** Forward pass in eval mode (dropout off). `outputs` names extra layers to return. */
  forward(x: Float32Array, batchSize: number, outputs?: readonly string[]): ForwardResult;
  setLearningRate(lr: number): void;
  getLearningRate(): number;
  getRngState(): NetworkRngState;
  setRngState(state: NetworkRngState): void;
  /**
   * Writes model.safetensors (PyTorch names and layouts; and optimizer.safetensors when asked) into
   * `dir`; every engine reads what every engine writes.
   */
  save(dir: string, options?: { optimizer?: boolean }): Promise<void>;
  /** Loads optimizer state saved by save(dir, {optimizer: true}); no-op when absent. */
  loadOptimizerState(dir: string): Promise<void>;
  dispose(): void;
}

/** The engines: TensorFlow.js (wasm SIMD, or its cpu/tfjs-node backends) and libtorch. */
export type EngineName = "wasm" | "torch";

export interface EngineInfo {
  /** The engine (absent only in test doubles). */
  engine?: EngineName;
  /** wasm engine: the tfjs backend, "wasm", "cpu" or "tensorflow" (tfjs-node); torch: "libtorch". */
  backend: string;
  simd: boolean;
  /** tfjs' or libtorch's version. */
  version: string;
  /** "cpu" or "cuda:N". */
  device?: string;
  /** Threads the engine computes with. */
  threads?: number;
}
