import { AbstractPace } from "./abstract-pace.js";

const E_MINUS_10 = Math.exp(-10);

/**
 * Logarithmic pacing g(i) = N·s + N(1 − s)·(1 + 0.1·ln(i/F + e^{−10})): rises steeply right after
 * the start, then flattens towards N at F = f·T. Adapted from Wu et al., arXiv 2012.03107.
 */
export class Logarithmic extends AbstractPace {
  protected override rawSize(iteration: number): number {
    const n = this.datasetSize;
    const s = this.initialSize;
    return n * s + n * (1 - s) * (1 + 0.1 * Math.log(iteration / this.finalStep + E_MINUS_10));
  }
}
