import type { PaceOptions } from "./abstract-pace.js";
import { Polynomial } from "./polynomial.js";

/**
 * Root pacing: {@link Polynomial} with degree 0.5, growing as a square root (d = 0.5): quickly at first.
 * Adapted from Wu et al., arXiv 2012.03107.
 */
export class Root extends Polynomial {
  static override readonly defaults: Readonly<Record<string, number>> = {};

  constructor(options: PaceOptions) {
    super(options, { degree: 0.5 });
  }
}
