import type { MetricValues, TrainContext } from "../../training/types.js";
import { CurriculaError } from "../../util/errors.js";

/** What every pacing function is built from (the run's curriculum.pacing config and the run). */
export interface PaceOptions {
  /** Fraction s of the training set used at iteration 0, in (0, 1]. */
  initialSize: number;
  /** Fraction f of the total iterations at which the full set is reached, in [0, 1]. */
  finalIteration: number;
  /** T: the run's `iterations` (epochs or steps). */
  totalIterations: number;
  /** N: the number of training samples. */
  datasetSize: number;
}

/** A pacing value is invalid: the messages are the reference's, so scripts that grep them keep working. */
export class PacingError extends CurriculaError {
  constructor(message: string) {
    super(message, 1);
    this.name = "PacingError";
  }
}

/** Python's `int()` of a float: truncation toward zero. */
export function trunc(value: number): number {
  return Math.trunc(value);
}

/**
 * A pacing function g(i): how many of the easiest training samples iteration i may use.
 *
 * Subclasses implement {@link rawSize} (the formula, a float) for 0 < s < 1 and f > 0 only; this
 * base handles validation, the shared early return (s = 1 or f = 0 → the full set from the start,
 * for every function, including Exponential, which divides by zero in the original), the full set
 * from F = f·T on (every formula reaches N there; this guards against float rounding), truncation
 * like Python's `int()` and the cap at N. Adapted from Wu et al., "When Do Curricula Work?",
 * arXiv 2012.03107.
 *
 * Subclasses may also implement training hooks (`onValidationEnd`, …) and `getState`/`setState`:
 * the pace manager forwards them, so a stateful pacing (see Adaptive) resumes exactly.
 */
export abstract class AbstractPace {
  /** Extra constructor arguments (beyond the four shared ones) and their defaults, by config key. */
  static readonly defaults: Readonly<Record<string, number>> = {};

  readonly initialSize: number;
  readonly finalIteration: number;
  readonly totalIterations: number;
  readonly datasetSize: number;

  constructor(options: PaceOptions) {
    const { initialSize: s, finalIteration: f, totalIterations: t, datasetSize: n } = options;
    if (!(typeof s === "number" && s > 0 && s <= 1)) {
      throw new PacingError(`Initial size must be in (0, 1], got ${s}`);
    }
    if (!(typeof f === "number" && f >= 0 && f <= 1)) {
      throw new PacingError(`Final iteration must be in [0, 1], got ${f}`);
    }
    if (!(Number.isInteger(t) && t > 0)) {
      throw new PacingError(`Total iterations must be a positive integer, got ${t}`);
    }
    if (!(Number.isInteger(n) && n >= 0)) {
      throw new PacingError(`Dataset size must be a non-negative integer, got ${n}`);
    }
    this.initialSize = s;
    this.finalIteration = f;
    this.totalIterations = t;
    this.datasetSize = n;
  }

  /** F = f·T: the iteration from which the full set is used (not truncated, as in the original). */
  get finalStep(): number {
    return this.finalIteration * this.totalIterations;
  }

  /** The integer dataset size at iteration i (0 ≤ i; values past T keep the full set). */
  getDatasetSize(iteration: number): number {
    if (!(Number.isFinite(iteration) && iteration >= 0)) {
      throw new PacingError(`Iteration must be a non-negative number, got ${iteration}`);
    }
    const n = this.datasetSize;
    if (this.initialSize === 1 || this.finalIteration === 0) return n;
    // Every formula equals (or exceeds) N from F on in exact arithmetic; return N outright so float
    // rounding (e.g. Root: 59999.9999 → 59999) cannot keep the last samples out.
    if (iteration >= this.finalStep) return n;
    const value = trunc(this.rawSize(iteration));
    return Math.max(0, Math.min(value, n));
  }

  /** Sizes for iterations 0..T (T+1 values): what `curricula pace` prints. */
  schedule(): number[] {
    return Array.from({ length: this.totalIterations + 1 }, (_, i) => this.getDatasetSize(i));
  }

  /** JSON state of a stateful pacing, saved with each checkpoint; stateless functions have none. */
  getState(): unknown {
    return null;
  }

  setState(_state: unknown): void {}

  /** The formula before truncation and cap; only called with 0 < s < 1 and f > 0. */
  protected abstract rawSize(iteration: number): number;
}

/**
 * Training hooks a pacing function may implement; the pace manager forwards them (the original
 * registers the pacing object as a trainer callback for the same purpose).
 */
export interface PaceHooks {
  onTrainBegin?(ctx: TrainContext): void | Promise<void>;
  onValidationEnd?(ctx: TrainContext, iteration: number, metrics: MetricValues): void | Promise<void>;
  onTrainEnd?(ctx: TrainContext): void | Promise<void>;
}
