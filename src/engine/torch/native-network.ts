import type { ModelDescription, ParameterSet } from "../../models/index.js";
import { ConfigError } from "../../util/errors.js";
import type { Rng } from "../../util/rng.js";
import { readOptimizerCheckpoint, writeModelCheckpoint, writeOptimizerCheckpoint } from "../checkpoint.js";
import { NetworkBase } from "../network-base.js";
import { normaliseOptimizerSpec } from "../optimizer-spec.js";
import type { OptimizerSpec, SaveOptions } from "../types.js";
import type { NativeNet, NativeOptimizerConfig, NativeScriptNet } from "./addon.js";

/**
 * What the torch engine's two networks share (the built-in models' TorchNetwork and a TorchScript
 * module's TorchScriptNetwork): a network of the addon that holds the parameters and the optimiser
 * slots, the optimiser settings and learning rate kept on this side, the checkpoint files, and the
 * native network's release.
 */

/** The optimiser settings as the addon's networks take them. */
export function nativeOptimizer(s: ReturnType<typeof normaliseOptimizerSpec>): NativeOptimizerConfig {
  return {
    type: s.type,
    lr: s.learningRate,
    beta1: s.beta1,
    beta2: s.beta2,
    eps: s.epsilon,
    weightDecay: s.weightDecay,
    momentum: s.momentum,
    nesterov: s.nesterov,
  };
}

/**
 * Calls a native trainStep that may write the step's logits into `logitsOut`, and checks that it
 * did: an addon built before trainStep took `logitsOut` ignores it, which would hand back stale
 * values unnoticed. A step whose loss is not finite is left to the caller (its logits may be NaN).
 */
export function stepWithLogits(logitsOut: Float32Array, step: () => number): number {
  logitsOut.fill(Number.NaN);
  const loss = step();
  if (Number.isFinite(loss) && logitsOut.length > 0 && Number.isNaN(logitsOut[0] as number)) {
    throw new Error(
      "torch engine: the addon did not return the training step's logits: it was built by an earlier " +
        "version of curricula; rebuild it with 'npm run build:torch'",
    );
  }
  return loss;
}

export abstract class NativeNetworkBase<N extends NativeNet | NativeScriptNet> extends NetworkBase {
  /** Set by the subclass's constructor, before it calls {@link startOptimizer}. */
  protected abstract readonly native: N;
  protected readonly optimizerSpec: ReturnType<typeof normaliseOptimizerSpec> | null;
  private readonly rawOptimizerSpec: OptimizerSpec | null;
  private learningRate: number;

  constructor(
    description: ModelDescription,
    dropoutRng: Rng,
    batchesTracked: number,
    optimizer: OptimizerSpec | null,
  ) {
    super(description, dropoutRng, batchesTracked);
    this.rawOptimizerSpec = optimizer;
    this.optimizerSpec = optimizer ? normaliseOptimizerSpec(optimizer) : null;
    this.learningRate = this.optimizerSpec?.learningRate ?? 0;
  }

  /**
   * One training step of either network: the checks, the targets (one-hot, class and sample
   * weights folded in) and the step count around `step`, the subclass's native call with its own
   * dropout (masks drawn here, or a seed for libtorch); with `logitsOut` the call must fill it.
   */
  protected nativeTrainStep(
    x: Float32Array,
    batchSize: number,
    y: Int32Array,
    classWeights: Float32Array | null | undefined,
    sampleWeights: Float32Array | null | undefined,
    logitsOut: Float32Array | null | undefined,
    step: (target: Float32Array, logitsOut: Float32Array | undefined) => number,
  ): number {
    const target = this.trainTargets(x, batchSize, y, classWeights, sampleWeights, logitsOut);
    const loss = logitsOut
      ? stepWithLogits(logitsOut, () => step(target, logitsOut))
      : step(target, undefined);
    this.batchesTracked += 1;
    return loss;
  }

  /** Hands the optimiser settings to the native network (once it exists). */
  protected startOptimizer(): void {
    if (this.optimizerSpec) this.native.setOptimizer(nativeOptimizer(this.optimizerSpec));
  }

  protected currentLearningRate(): number | null {
    return this.optimizerSpec ? this.learningRate : null;
  }

  protected applyLearningRate(lr: number): void {
    this.learningRate = lr;
    this.native.setLearningRate(lr);
  }

  /** Parameters and floating-point buffers by their PyTorch names, in PyTorch's layouts. */
  parameters(): ParameterSet {
    this.assertAlive();
    return new Map(this.native.getParameters().map((p) => [p.name, { shape: p.shape, data: p.data }]));
  }

  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    this.assertAlive();
    if (options.optimizer) {
      if (!this.rawOptimizerSpec) throw new Error("save: this network has no optimizer state to save");
      const state = this.native.getOptimizerState();
      await writeOptimizerCheckpoint(dir, {
        optimizer: this.rawOptimizerSpec,
        learningRate: this.learningRate,
        step: state.step,
        slots: new Map(Object.entries(state.slots)),
        engine: "torch",
      });
    }
    await writeModelCheckpoint(dir, {
      spec: this.spec,
      params: this.parameters(),
      batchesTracked: this.batchesTracked,
      dropoutRng: this.dropoutRng.getState(),
      engine: "torch",
      ...(options.classNames ? { classNames: [...options.classNames] } : {}),
    });
  }

  async loadOptimizerState(dir: string): Promise<void> {
    this.assertAlive();
    if (!this.optimizerSpec)
      throw new Error("loadOptimizerState: this network was created without an optimizer");
    const saved = await readOptimizerCheckpoint(dir, this.description);
    if (!saved) return;
    if (saved.optimizer.type !== this.optimizerSpec.type) {
      throw new ConfigError(
        "optimizer.id",
        `saved optimiser state is ${saved.optimizer.type}, the run uses ${this.optimizerSpec.type}`,
      );
    }
    this.native.setOptimizerState(saved.step, Object.fromEntries(saved.slots));
    this.setLearningRate(saved.learningRate);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.native.dispose();
  }
}
