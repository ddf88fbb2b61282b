import { AbstractPace } from "./abstract-pace.js";

/**
 * One-step pacing g(i) = N·s + N·⌊i/F⌋: the easiest N·s samples until F = f·T, then the full set
 * (the baby-step limit of a staircase). Adapted from Wu et al., arXiv 2012.03107, with the
 * correction aucurriculum made to the paper's formula.
 */
export class OneStep extends AbstractPace {
  protected override rawSize(iteration: number): number {
    const n = this.datasetSize;
    return n * this.initialSize + n * Math.floor(iteration / this.finalStep);
  }
}
