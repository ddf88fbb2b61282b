/**
 * What both engines' networks share (src/engine/wasm/network.ts, src/engine/torch/network.ts): the
 * description and spec, the dropout stream and its state, the learning-rate accessors, the
 * batch-norm step count, the input check and the disposed guard. Each engine adds its layers,
 * training step, forward pass and checkpoint files.
 */
import type { ModelDescription } from "../models/index.js";
import type { Rng } from "../util/rng.js";
import { checkBatchInput, checkLogitsOut } from "./checks.js";
import { weightedOneHot } from "./one-hot.js";
import type { NetworkRngState, NetworkSpec } from "./types.js";

export abstract class NetworkBase {
  readonly spec: NetworkSpec;
  protected readonly description: ModelDescription;
  /** Dropout masks are drawn from this stream, in the same order on every engine. */
  protected readonly dropoutRng: Rng;
  /** Values per sample. */
  protected readonly inputSize: number;
  /** Training steps so far: batch norm's num_batches_tracked in checkpoints. */
  protected batchesTracked: number;
  protected disposed = false;

  constructor(description: ModelDescription, dropoutRng: Rng, batchesTracked: number) {
    this.description = description;
    this.spec = description.spec;
    this.dropoutRng = dropoutRng;
    this.batchesTracked = batchesTracked;
    this.inputSize = this.spec.inputShape.reduce((a, b) => a * b, 1);
  }

  /** The optimiser's learning rate, or null for a network created without an optimizer. */
  protected abstract currentLearningRate(): number | null;
  /** Sets the optimiser's learning rate (called only when it has one, with a checked value). */
  protected abstract applyLearningRate(lr: number): void;

  setLearningRate(lr: number): void {
    if (!(lr >= 0) || !Number.isFinite(lr))
      throw new Error(`setLearningRate: expected a number >= 0, got ${lr}`);
    if (this.currentLearningRate() === null)
      throw new Error("setLearningRate: this network was created without an optimizer");
    this.applyLearningRate(lr);
  }

  getLearningRate(): number {
    const lr = this.currentLearningRate();
    if (lr === null) throw new Error("getLearningRate: this network was created without an optimizer");
    return lr;
  }

  getRngState(): NetworkRngState {
    return { dropout: this.dropoutRng.getState() };
  }

  setRngState(state: NetworkRngState): void {
    this.dropoutRng.setState(state.dropout);
  }

  protected checkInput(x: Float32Array, batchSize: number, where: string): void {
    checkBatchInput(x, batchSize, this.spec.inputShape, this.inputSize, where);
  }

  protected assertAlive(): void {
    if (this.disposed) throw new Error("this network was disposed");
  }

  /**
   * What every training step checks and builds before the engine's own step: a live network with
   * an optimizer, the input and `logitsOut` shapes, and the targets (one-hot, class and sample
   * weights folded in).
   */
  protected trainTargets(
    x: Float32Array,
    batchSize: number,
    y: Int32Array,
    classWeights: Float32Array | null | undefined,
    sampleWeights: Float32Array | null | undefined,
    logitsOut: Float32Array | null | undefined,
  ): Float32Array {
    this.assertAlive();
    if (this.currentLearningRate() === null)
      throw new Error("trainStep: this network was created without an optimizer");
    this.checkInput(x, batchSize, "trainStep");
    if (logitsOut) checkLogitsOut(logitsOut, batchSize, this.spec.outputDim);
    return weightedOneHot(y, batchSize, this.spec.outputDim, classWeights ?? null, sampleWeights ?? null);
  }
}
