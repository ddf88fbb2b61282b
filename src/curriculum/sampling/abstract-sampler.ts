import type { BatchOutputs } from "../../training/types.js";
import type { Rng } from "../../util/rng.js";

/** What a dynamic sampler is told once, as training begins. */
export interface SamplerSetup {
  /** Samples in the training subset; positions are 0..size-1. */
  readonly size: number;
  /** Encoded labels of the training subset, by position. */
  readonly labels: Int32Array;
  readonly numClasses: number;
  readonly trainingType: "epoch" | "step";
  readonly totalIterations: number;
  /**
   * The sampler's own random stream (`Rng.derive(data seed, "dynamic-sampler")`); its state is
   * saved with every checkpoint next to {@link AbstractSampler.state}, so draw only from it.
   */
  readonly rng: Rng;
  /**
   * Difficulty ranks of the training samples (0 = easiest) from `curriculum/scoring` when the run
   * names a score; null otherwise. A sampler that needs one sets `static usesScore = true`.
   */
  readonly ranks: Float64Array | null;
}

/** Where training stands as a pass is drawn. */
export interface PassInfo {
  /** The epoch or step the pass starts at (1-based). */
  readonly iteration: number;
  /** Fraction of training done before this pass: (iteration − 1) / totalIterations, in [0, 1). */
  readonly progress: number;
}

/** Per-sample outputs of the batch just trained (see the trainer's observeBatch). */
export type SamplerOutputs = BatchOutputs;

/**
 * A dynamic sampler (`curriculum=Dynamic curriculum/sampling=<id>`): a stateful choice of each
 * pass from what training reports. The trainer calls {@link sample} for every pass,
 * {@link weights} for every batch (per-sample loss weights), {@link update} after every
 * optimiser step with the batch's per-sample losses, logits and correctness, and {@link record}
 * after every evaluation (counts for the run's `sampler.csv`); {@link state} is saved
 * with every checkpoint and {@link load} restores it, so a resumed run draws the same passes.
 *
 * Subclasses get their config's extra keys as `args` (checked against `static defaults` when the
 * class declares them) and the run's setup in {@link begin} (`this.setup`).
 */
export abstract class AbstractSampler {
  /** Keyword arguments and their defaults (config keys besides id, short, module, class). */
  static readonly defaults?: Readonly<Record<string, unknown>>;
  /** True when the sampler needs `curriculum/scoring` (its ranks arrive in setup.ranks). */
  static readonly usesScore?: boolean;

  readonly args: Readonly<Record<string, unknown>>;
  private setupValue: SamplerSetup | null = null;

  constructor(args: Record<string, unknown> = {}) {
    this.args = args;
  }

  /** The run's setup (after {@link begin}). */
  protected get setup(): SamplerSetup {
    if (!this.setupValue) throw new Error(`${this.constructor.name}: used before begin()`);
    return this.setupValue;
  }

  /** Called once before the first pass (and before {@link load} on resume). */
  begin(setup: SamplerSetup): void {
    this.setupValue = setup;
  }

  /** Positions (0..n−1, n the training subset's size) of the next pass, in visiting order. */
  abstract sample(n: number, pass: PassInfo): Int32Array;

  /** The batch just trained: `positions[i]` had the outputs of row i. */
  update(_positions: Int32Array, _outputs: SamplerOutputs): void {}

  /** Per-sample loss weights of a batch of the current pass (null = unweighted). */
  weights(_positions: Int32Array): Float32Array | null {
    return null;
  }

  /**
   * Counts to log at each evaluation, e.g. `{easy: 120, normal: 800, hard: 30}` (null = nothing to
   * log, the default). Each becomes a column of the run's `sampler.csv` (one row per evaluation,
   * after `iteration`) and a line of `training.log`; return the same keys, in the same order, every
   * time. Called after the evaluation, so it sees every batch trained up to it.
   */
  record(): Record<string, number> | null {
    return null;
  }

  /** JSON-serialisable state, saved with every checkpoint (the random stream is saved apart). */
  abstract state(): unknown;

  /** Restores what {@link state} returned. */
  abstract load(state: unknown): void;

  /** One line for the run's log, e.g. `InfoBatch(prune_ratio=0.5, delta=0.875)`. */
  describe(): string {
    const args = Object.entries(this.args).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    return `${this.constructor.name}(${args.join(", ")})`;
  }
}
