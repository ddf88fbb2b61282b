import type { PaceOptions } from "./abstract-pace.js";
import { Polynomial } from "./polynomial.js";

/**
 * Linear pacing: {@link Polynomial} with degree 1, growing linearly (d = 1).
 * Adapted from Wu et al., arXiv 2012.03107.
 */
export class Linear extends Polynomial {
  static override readonly defaults: Readonly<Record<string, number>> = {};

  constructor(options: PaceOptions) {
    super(options, { degree: 1 });
  }
}
