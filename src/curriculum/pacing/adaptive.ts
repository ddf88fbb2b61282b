import type { MetricValues, TrainContext } from "../../training/types.js";
import { AbstractPace, type PaceHooks, type PaceOptions, PacingError, trunc } from "./abstract-pace.js";

export interface AdaptiveArgs {
  patience?: number;
  min_improvement?: number;
  buckets?: number;
}

interface AdaptiveState {
  grown: number;
  best: number | null;
  wait: number;
}

/**
 * Adaptive pacing: starts with the easiest N·s samples and adds one bucket of
 * ⌊(1 − s)·N / buckets⌋ samples (at least one) whenever the dev tracking metric has not improved on
 * its best by more than `min_improvement` for `patience` evaluations in a row, so the model moves on
 * when it has learnt what it was shown. From F = f·T on it uses the full set whatever the metric
 * did. This is the "DiscreteConvergence" pacing of aucurriculum's custom-pacing tutorial (a plateau
 * rule like learning-rate-on-plateau schedules, applied to the data instead of the step size); the
 * base schedule follows Wu et al., arXiv 2012.03107. Without evaluations (e.g. in `curricula pace`)
 * the schedule is N·s until F, then N.
 */
export class Adaptive extends AbstractPace implements PaceHooks {
  static override readonly defaults: Readonly<Record<string, number>> = {
    patience: 2,
    min_improvement: 0,
    buckets: 10,
  };

  readonly patience: number;
  readonly minImprovement: number;
  readonly buckets: number;
  /** Samples added per growth step. */
  readonly bucketSize: number;
  private state: AdaptiveState = { grown: 0, best: null, wait: 0 };

  constructor(options: PaceOptions, args: AdaptiveArgs = {}) {
    super(options);
    const { patience = 2, min_improvement: minImprovement = 0, buckets = 10 } = args;
    if (!(Number.isInteger(patience) && patience > 0)) {
      throw new PacingError(`Patience must be a positive integer, got ${patience}`);
    }
    if (!(Number.isFinite(minImprovement) && minImprovement >= 0)) {
      throw new PacingError(`Minimum improvement must be a non-negative number, got ${minImprovement}`);
    }
    if (!(Number.isInteger(buckets) && buckets > 0)) {
      throw new PacingError(`Buckets must be a positive integer, got ${buckets}`);
    }
    this.patience = patience;
    this.minImprovement = minImprovement;
    this.buckets = buckets;
    this.bucketSize = Math.max(1, trunc(((1 - this.initialSize) * this.datasetSize) / buckets));
  }

  /** Number of buckets added so far. */
  get grown(): number {
    return this.state.grown;
  }

  /** Feeds one evaluation of the tracking metric (higher is better). */
  observe(value: number): void {
    const st = this.state;
    if (st.best === null || value > st.best + this.minImprovement) {
      st.best = value;
      st.wait = 0;
      return;
    }
    st.wait += 1;
    if (st.wait >= this.patience) {
      st.grown += 1;
      st.wait = 0;
    }
  }

  onValidationEnd(ctx: TrainContext, _iteration: number, metrics: MetricValues): void {
    const key = ctx.config.dataset.tracking_metric;
    const value = metrics[key];
    if (typeof value !== "number" || Number.isNaN(value)) {
      throw new PacingError(
        `Adaptive pacing needs the tracking metric "${key}" in the dev metrics, got keys: ${Object.keys(metrics).join(", ")}`,
      );
    }
    this.observe(value);
  }

  override getState(): AdaptiveState {
    return { ...this.state };
  }

  override setState(state: unknown): void {
    const s = state as Partial<AdaptiveState> | null;
    if (
      !s ||
      typeof s.grown !== "number" ||
      typeof s.wait !== "number" ||
      !(s.best === null || typeof s.best === "number")
    ) {
      throw new PacingError(`Adaptive pacing: invalid saved state ${JSON.stringify(state)}`);
    }
    this.state = { grown: s.grown, best: s.best, wait: s.wait };
  }

  protected override rawSize(iteration: number): number {
    const n = this.datasetSize;
    if (iteration >= this.finalStep) return n;
    return trunc(n * this.initialSize) + this.state.grown * this.bucketSize;
  }
}
