/**
 * The engine contract: everything outside src/engine talks to models only through these types.
 * Each engine builds networks from the engine-neutral model descriptions of src/models.
 */

import type { ModelDescription, NetworkSpec, ParameterSet, ParameterShape } from "../models/index.js";
import type { Rng } from "../util/rng.js";
import type { PoolPlan } from "./pooling.js";
import type { ThreadPlan } from "./threads.js";

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

/** How a forward pass hands back its layer outputs. */
export interface ForwardOptions {
  /**
   * Adaptive average pooling per requested layer (plans of `planPooling`, src/engine/pooling.ts):
   * such a layer's output comes back already pooled, as [batch, plan.size] in the channels-last
   * order of `applyPooling`, bit-identical to `applyPooling` of the unpooled output on every engine
   * (the torch engine's built-in networks pool natively, so only the pooled values cross into JS).
   * Every name must be among the requested outputs and its plan must fit the layer's output shape.
   */
  pool?: Readonly<Record<string, PoolPlan>>;
}

/** Trainable state beyond the weights, so a resumed run continues exactly. */
export interface NetworkRngState {
  dropout: [number, number, number, number];
}

/** What Network.save writes besides the model. */
export interface SaveOptions {
  /** optimizer.safetensors too. */
  optimizer?: boolean;
  /** The class names in code order (logit k is class `classNames[k]`), into the model file's metadata. */
  classNames?: readonly string[];
}

/**
 * How a network trains beyond its optimiser: `frozen` names parameters (PyTorch names, e.g.
 * `conv0.weight`) that the optimiser never updates and weight decay never touches (fine-tuning a
 * backbone). Batch-norm running statistics are buffers, not parameters: they still follow the
 * batches in training mode, as in PyTorch with `requires_grad = False`.
 */
export interface TrainableOptions {
  frozen?: readonly string[];
}

/**
 * How a TorchScript network starts: on `device`; `weights` (a run's `model.weights`, checked against
 * the module) replace the module's own values of those names; `frozen` parameters never train.
 */
export interface ScriptNetworkOptions extends TrainableOptions {
  device: string;
  batchesTracked?: number;
  weights?: ParameterSet;
}

export interface Network {
  readonly spec: NetworkSpec;
  /** Names of the model's layers in forward order (probes of PredictionDepth match these). */
  readonly layerNames: readonly string[];
  /**
   * One optimisation step on a batch: forward in training mode (dropout on), softmax cross-entropy,
   * backward, optimiser update. `classWeights` (length outputDim) gives PyTorch-style weighted
   * cross-entropy: sum_i w[y_i] * l_i / sum_i w[y_i]. `sampleWeights` (length batchSize) scale
   * each sample's term of the numerator: sum_i s_i w[y_i] l_i / sum_i w[y_i] (a dynamic sampler's
   * loss rescaling). Returns the (weighted) mean loss. `logitsOut` (batchSize × outputDim), when
   * given, receives the logits of this step's own training-mode forward pass (before the update):
   * per-sample results of the step without a second forward pass (the trainer's online trackers).
   * Asking for them changes nothing of the step.
   */
  trainStep(
    x: Float32Array,
    batchSize: number,
    y: Int32Array,
    classWeights?: Float32Array | null,
    sampleWeights?: Float32Array | null,
    logitsOut?: Float32Array | null,
  ): number;
  /**
   * Forward pass in eval mode (dropout off). `outputs` names extra layers to return;
   * `options.pool` returns some of them pooled.
   */
  forward(
    x: Float32Array,
    batchSize: number,
    outputs?: readonly string[],
    options?: ForwardOptions,
  ): ForwardResult;
  setLearningRate(lr: number): void;
  getLearningRate(): number;
  getRngState(): NetworkRngState;
  setRngState(state: NetworkRngState): void;
  /**
   * Writes model.safetensors (PyTorch names and layouts; and optimizer.safetensors when asked) into
   * `dir`; every engine reads what every engine writes. `classNames` (the dataset's, in code order)
   * go into the file's metadata.
   */
  save(dir: string, options?: SaveOptions): Promise<void>;
  /** Loads optimizer state saved by save(dir, {optimizer: true}); no-op when absent. */
  loadOptimizerState(dir: string): Promise<void>;
  dispose(): void;
}

/** The engines: wasm (TensorFlow.js on WebAssembly SIMD, or its cpu/tfjs-node backends) and torch (libtorch). */
export type EngineName = "wasm" | "torch";

export interface EngineInfo {
  /** The engine (absent only in test doubles). */
  engine?: EngineName;
  /** wasm engine: the TensorFlow.js backend, "wasm", "cpu" or "tensorflow" (tfjs-node); torch: "libtorch". */
  backend: string;
  simd: boolean;
  /** TensorFlow.js' or libtorch's version. */
  version: string;
  /** "cpu" or "cuda:N". */
  device?: string;
  /** Threads the engine computes with. */
  threads?: number;
  /** How the threads were chosen (share of the cores, pools, why); see src/engine/threads.ts. */
  threadPlan?: ThreadPlan;
}

/** a·bᵀ of row-major a (rowsA × dim) and b (rowsB × dim), as rowsA × rowsB float32 values. */
export type MatMulTransposed = (
  a: Float32Array,
  rowsA: number,
  b: Float32Array,
  rowsB: number,
  dim: number,
) => Float32Array;

/**
 * The k-NN queries' bounds as a tile pass starts: `keep` (limit + e; +Infinity for a query that has
 * seen fewer than k references) and `errors` (e), one per query.
 */
export interface QueryBounds {
  keep: Float64Array;
  errors: Float64Array;
}

/**
 * A k-NN tile's candidates (see {@link TileCandidates}): per row of a, the columns it may take, and
 * with column bounds the same per row of b.
 */
export interface TileCandidateLists {
  rowStart: Int32Array;
  rowIndex: Int32Array;
  rowDist: Float64Array;
  colStart?: Int32Array;
  colIndex?: Int32Array;
  colDist?: Float64Array;
}

/**
 * The k-NN's tile pass in one call, where the engine has it natively (torch): the float32 products
 * a·bᵀ and, of them, the candidates each query can still take. For row r of a (a query against
 * b's rows) the distance to b's row t is d = (normsA[r] + normsB[t]) − 2·(a_r·b_t) in float64 from
 * the float32 product, clamped at 0, and t is a candidate when d ≤ rows.keep[r]; with `cols` the
 * same for b's rows as queries against a's rows (d = (normsB[t] + normsA[r]) − 2·(a_r·b_t)). A query
 * whose keep is +Infinity (fewer than k references seen) gets the bound (k-th smallest d of the tile
 * + e) + e, e = its `errors` entry: the k-NN's own bound once those k are offered, so a fresh
 * query's first tile hands over its k nearest and the pairs within 2e of them; no pair above it can
 * be among the k nearest. Candidates come in ascending index order with their d. The JS scan
 * computes the same d for every pair. The products never cross into JS.
 */
export type TileCandidates = (
  a: Float32Array,
  rowsA: number,
  b: Float32Array,
  rowsB: number,
  dim: number,
  normsA: Float64Array,
  normsB: Float64Array,
  k: number,
  rows: QueryBounds,
  cols: QueryBounds | null,
) => TileCandidateLists;

/**
 * The k-NN's exact distances from one query to a list of references, written to
 * out[0 .. count): out[t] = max((queryNorm + refNorms[j]) − 2·s, 0) for j = idx[from + t], with
 * s = Σ_d queries[q·dim + d]·references[j·dim + d] summed in float64 in order d = 0 … dim − 1: the
 * exact path's formula and summation order, so the values are bit for bit the JS ones.
 */
export type ExactDistances = (
  queries: Float32Array,
  q: number,
  queryNorm: number,
  references: Float32Array,
  refNorms: Float64Array,
  dim: number,
  idx: Int32Array,
  from: number,
  count: number,
  out: Float64Array,
) => void;

/**
 * The active engine's matrix product for callers that parallelise work around it (the k-NN probes of
 * PredictionDepth). `threadsPerCall`: threads one call of `matMulTransposed` uses by itself.
 * `workerInit`: the `initEngine` options that give a worker thread the same product, or null when
 * the engine is used from the calling thread only (then callers add no worker threads of their own).
 */
export interface MatrixPrimitive {
  engine: string;
  matMulTransposed: MatMulTransposed;
  threadsPerCall: number;
  workerInit: Record<string, unknown> | null;
  /** The fused product and candidate filter, where the engine has it. */
  tileCandidates?: TileCandidates;
  /** Exact distances to a list of references in native code, where the engine has it. */
  exactDistances?: ExactDistances;
}

/** One engine as `curricula engines` lists it. */
export interface EngineListing {
  name: EngineName;
  usable: boolean;
  version: string | null;
  devices: string[];
  /** What it runs on, or why it is not usable and what to install. */
  detail: string;
}

/** What an engine is given to start: the device and thread settings, already checked. */
export interface EngineStart {
  /** "cpu", "cuda" or "cuda:N". */
  device: string;
  /** The thread plan: torch's intra-op, inter-op and BLAS threads. */
  plan: ThreadPlan;
  /** The TensorFlow.js backend of the wasm engine (tests compare backends). */
  backend?: string;
}

/**
 * One engine behind the neutral functions of src/engine/index.ts; each engine's folder exports one
 * (wasm/index.ts, torch/index.ts), loaded only when that engine is used.
 */
export interface EngineBackend {
  readonly name: EngineName;
  /** Starts the engine (idempotent for the same settings); throws a ConfigError naming what is wrong. */
  start(settings: EngineStart): Promise<EngineInfo>;
  /** A network of `description` with `params`, on the started engine. */
  createNetwork(
    description: ModelDescription,
    params: ParameterSet,
    optimizer: OptimizerSpec | null,
    dropoutRng: Rng,
    options: { device: string; batchesTracked?: number } & TrainableOptions,
  ): Network;
  /**
   * A network of a TorchScript module (`spec.type` TorchScript, `spec.params.path` its file; its own
   * weights, or `params` from a checkpoint, or `options.weights` over its own), where the engine
   * runs TorchScript (torch).
   */
  createScriptNetwork?(
    spec: NetworkSpec,
    params: ParameterSet | null,
    optimizer: OptimizerSpec | null,
    dropoutRng: Rng,
    options: ScriptNetworkOptions,
  ): Network;
  /** A TorchScript module's own parameters and floating-point buffers (names, shapes, which train). */
  scriptTensors?(spec: NetworkSpec, device: string): ParameterShape[];
  /** a·bᵀ on the started engine (arguments already checked). */
  matMulTransposed: MatMulTransposed;
  /** The fused k-NN tile pass, where the engine has it. */
  tileCandidates?: TileCandidates;
  /** The k-NN's exact distances in native code, where the engine has it. */
  exactDistances?: ExactDistances;
  /** The matrix primitive of the started engine, or null when it has none faster than plain JS. */
  matrixPrimitive(info: EngineInfo): MatrixPrimitive | null;
  /** This engine as `curricula engines` lists it (whether it is usable here, and why not). */
  describe(): Promise<EngineListing>;
  /** Live tensors and their bytes where the engine counts them (wasm), for leak checks. */
  memory?(): { tensors: number; bytes: number };
}
