import { AbstractPace } from "./abstract-pace.js";

const E10_MINUS_1 = Math.exp(10) - 1;

/**
 * Exponential pacing g(i) = N·s + (N(1 − s) / (e^10 − 1))·(e^{10·i/F} − 1): stays near N·s for most
 * of the ramp, then rises steeply to N at F = f·T. Adapted from Wu et al., arXiv 2012.03107.
 * Unlike the original, f = 0 gives the full set from the start instead of dividing by zero.
 */
export class Exponential extends AbstractPace {
  protected override rawSize(iteration: number): number {
    const n = this.datasetSize;
    const s = this.initialSize;
    return n * s + ((n * (1 - s)) / E10_MINUS_1) * (Math.exp((10 * iteration) / this.finalStep) - 1);
  }
}
