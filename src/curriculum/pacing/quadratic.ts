import type { PaceOptions } from "./abstract-pace.js";
import { Polynomial } from "./polynomial.js";

/**
 * Quadratic pacing: {@link Polynomial} with degree 2, growing quadratically (d = 2): slowly at first.
 * Adapted from Wu et al., arXiv 2012.03107.
 */
export class Quadratic extends Polynomial {
  static override readonly defaults: Readonly<Record<string, number>> = {};

  constructor(options: PaceOptions) {
    super(options, { degree: 2 });
  }
}
