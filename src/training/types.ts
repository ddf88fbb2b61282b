import type { RunConfig } from "../config/schema.js";
import type { Dataset, Subset } from "../data/types.js";
import type { Network } from "../engine/types.js";
import type { MetricValues } from "../results/run-folder.js";

/**
 * Chooses the training rows of each pass. The default visits every row of the training subset in a
 * fresh seeded shuffle; curriculum learning installs its own through TrainContext.setSampler.
 */
export interface PassSampler {
  /** Positions (into ctx.train) of the next pass, in visiting order. */
  nextPass(): Int32Array;
  /** JSON-serialisable state, saved with every checkpoint so a resumed run sees the same batches. */
  getState(): unknown;
  setState(state: unknown): void;
  /**
   * Per-sample loss weights of a batch of the current pass (length positions.length; null =
   * unweighted): they multiply each sample's term of the batch loss (Network.trainStep). Only a
   * dynamic sampler has them.
   */
  batchWeights?(positions: Int32Array): Float32Array | null;
  /**
   * The per-sample outputs of the batch just trained, computed by an eval-mode forward pass of the
   * batch right before its optimiser step. A sampler that has this hook costs the trainer that
   * forward pass; the default and curriculum samplers have none.
   */
  observeBatch?(positions: Int32Array, outputs: BatchOutputs): void;
}

/** What a training step tells a dynamic sampler about its batch (row i is positions[i]). */
export interface BatchOutputs {
  /** Encoded labels. */
  readonly labels: Int32Array;
  /** Logits, batch × numClasses, row-major. */
  readonly logits: Float32Array;
  readonly numClasses: number;
  /** Per-sample cross-entropy (with the criterion's class weights). */
  readonly losses: Float32Array;
  /** 1 where the arg-max logit is the label, else 0. */
  readonly correct: Uint8Array;
}

/** What callbacks see and may change. */
export interface TrainContext {
  readonly config: RunConfig;
  readonly runDir: string;
  readonly dataset: Dataset;
  /** The training subset actually trained on (restricted by TrainOptions.trainPositions if given). */
  readonly train: Subset;
  readonly network: Network;
  /** "epoch" or "step". */
  readonly trainingType: "epoch" | "step";
  readonly totalIterations: number;
  /** Current epoch or step (1-based while training, 0 before the first). */
  readonly iteration: number;
  setSampler(sampler: PassSampler): void;
  /** Class weights for the (balanced) cross-entropy; null = unweighted. */
  setClassWeights(weights: Float32Array | null): void;
  readonly classWeights: Float32Array | null;
  /** Writes a line to the run's log (and the console when not silent). */
  log(line: string): void;
}

/** Dev metrics of one evaluation, e.g. {accuracy, uar, f1, dev_loss}. */
export type { MetricValues };

/** Hooks into the training loop; every hook is optional. Async hooks are awaited. */
export interface TrainCallback {
  readonly name: string;
  onTrainBegin?(ctx: TrainContext): void | Promise<void>;
  onIterationBegin?(ctx: TrainContext, iteration: number): void | Promise<void>;
  onStep?(ctx: TrainContext, iteration: number, batchIndex: number, loss: number): void | Promise<void>;
  /** The sampler's pass is used up (epoch mode: after each epoch's validation; step mode: when a pass ends). */
  onPassExhausted?(ctx: TrainContext, iteration: number): void | Promise<void>;
  onValidationEnd?(ctx: TrainContext, iteration: number, metrics: MetricValues): void | Promise<void>;
  onIterationEnd?(ctx: TrainContext, iteration: number, metrics: MetricValues): void | Promise<void>;
  onTrainEnd?(ctx: TrainContext): void | Promise<void>;
  /** JSON-serialisable state saved with each checkpoint and restored on resume. */
  getState?(): unknown;
  setState?(state: unknown): void;
}

export interface TrainOptions {
  /** The run folder (created if missing). */
  runDir: string;
  callbacks?: TrainCallback[];
  /** A dataset already built from config.dataset (saves loading it again). */
  dataset?: Dataset;
  /** Train only on these positions of the train subset (CVLoss folds); dev/test unchanged. */
  trainPositions?: Int32Array;
  /** Show a progress bar (also needs config.progress_bar and a TTY). */
  progress?: boolean;
  /** Where log lines go besides the run's training.log (default: stderr). Null silences. */
  log?: ((line: string) => void) | null;
  /**
   * Polled after every evaluation: true makes the trainer write a checkpoint there (if that
   * iteration did not save one anyway) and stop with a TrainingInterrupted error; a later call
   * resumes from it exactly (a cluster's signal before its time limit).
   */
  shouldStop?: () => boolean;
}

export interface TrainResult {
  runDir: string;
  /** True when metrics.csv already existed for the same config: nothing was trained. */
  skipped: boolean;
  bestIteration: number;
  /** Dev metrics at the best iteration. */
  best: MetricValues;
  /** Test metrics of the best model. */
  test: MetricValues;
}
