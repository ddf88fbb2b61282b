import { AbstractPace, type PaceOptions, PacingError } from "./abstract-pace.js";

export interface PolynomialArgs {
  degree?: number;
}

/**
 * Polynomial pacing g(i) = N·s + N·((1 − s) / F^d)·i^d: grows from N·s to N at F = f·T, slowly at
 * first for d > 1, quickly for d < 1. Adapted from Wu et al., arXiv 2012.03107.
 */
export class Polynomial extends AbstractPace {
  static override readonly defaults: Readonly<Record<string, number>> = { degree: 1 };

  readonly degree: number;

  constructor(options: PaceOptions, args: PolynomialArgs = {}) {
    super(options);
    const degree = args.degree ?? 1;
    if (!(Number.isFinite(degree) && degree > 0)) {
      throw new PacingError(`Degree must be a positive number, got ${degree}`);
    }
    this.degree = degree;
  }

  protected override rawSize(iteration: number): number {
    const n = this.datasetSize;
    const s = this.initialSize;
    const d = this.degree;
    return n * s + n * ((1 - s) / this.finalStep ** d) * iteration ** d;
  }
}
