import type { PassSampler } from "../training/types.js";
import { CurriculaError } from "../util/errors.js";
import { Rng, type RngState } from "../util/rng.js";
import { type SamplingMode, selectSubset } from "./class-quotas.js";

export interface CurriculumSamplerOptions {
  /** Positions of the training subset, first to show first (see difficultyOrder). */
  order: Int32Array;
  /** Encoded labels of the training subset, by position. */
  labels: Int32Array;
  numClasses: number;
  mode: SamplingMode;
  /** Seeds the per-pass shuffle. */
  seed: number;
  /** The pacing's initial_size, only for the error message of an empty subset. */
  initialSize: number;
  /** Initial subset size (default: the whole set). */
  size?: number;
}

/** Saved with each checkpoint. */
export interface CurriculumSamplerState {
  iteration: number;
  size: number;
  rng: RngState;
}

/**
 * The curriculum's PassSampler: each pass is a fresh shuffle of the `size` first samples of the
 * difficulty order (per class, by sampling mode). It never copies the dataset: a pass is a list of
 * positions into the training subset. Its state (iteration, size, RNG) makes `nextPass()`
 * reproducible after a resume.
 */
export class CurriculumSampler implements PassSampler {
  private _order: Int32Array;
  readonly labels: Int32Array;
  readonly numClasses: number;
  readonly mode: SamplingMode;
  readonly initialSize: number;
  private rng: Rng;
  private _size: number;
  private _iteration = 0;
  private subset: Int32Array | null = null;

  constructor(options: CurriculumSamplerOptions) {
    if (options.order.length !== options.labels.length) {
      throw new CurriculaError(
        `curriculum sampler: order has ${options.order.length} positions but there are ${options.labels.length} labels`,
      );
    }
    this._order = options.order;
    this.labels = options.labels;
    this.numClasses = options.numClasses;
    this.mode = options.mode;
    this.initialSize = options.initialSize;
    this.rng = Rng.derive(options.seed, "curriculum-sampler");
    this._size = options.size ?? options.order.length;
  }

  /** Positions of the training subset, first to show first. */
  get order(): Int32Array {
    return this._order;
  }

  /**
   * Replaces the difficulty order from the next pass on (a curriculum re-scored during training);
   * the size, the iteration and the shuffle's RNG stay as they are.
   */
  setOrder(order: Int32Array): void {
    if (order.length !== this.labels.length) {
      throw new CurriculaError(
        `curriculum sampler: a new order has ${order.length} positions but there are ${this.labels.length} samples`,
      );
    }
    this._order = order;
    this.subset = null;
  }

  get size(): number {
    return this._size;
  }

  /** The iteration at which the current size was set (0 at the start). */
  get iteration(): number {
    return this._iteration;
  }

  /** Sets the subset size from the next pass on. */
  setSize(size: number, iteration: number = this._iteration): void {
    if (!(Number.isInteger(size) && size >= 0)) {
      throw new CurriculaError(`curriculum sampler: size must be a non-negative integer, got ${size}`);
    }
    if (size !== this._size) this.subset = null;
    this._size = size;
    this._iteration = iteration;
  }

  /** The positions of the current subset, in difficulty order (not shuffled). */
  currentSubset(): Int32Array {
    if (this.subset === null) {
      const subset = selectSubset(this._order, this.labels, this.numClasses, this._size, this.mode);
      if (subset.length === 0) {
        throw new CurriculaError(
          `Unable to sample a training subset of size ${this._size} with ${this.mode} sampling and initial dataset fraction of ${this.initialSize}`,
        );
      }
      this.subset = subset;
    }
    return this.subset;
  }

  nextPass(): Int32Array {
    return this.rng.shuffle(this.currentSubset().slice());
  }

  getState(): CurriculumSamplerState {
    return { iteration: this._iteration, size: this._size, rng: this.rng.getState() };
  }

  setState(state: unknown): void {
    const s = state as Partial<CurriculumSamplerState> | null;
    if (!s || typeof s.size !== "number" || typeof s.iteration !== "number" || !Array.isArray(s.rng)) {
      throw new CurriculaError(`curriculum sampler: invalid saved state ${JSON.stringify(state)}`);
    }
    this.setSize(s.size, s.iteration);
    this.rng.setState(s.rng as RngState);
  }
}
