// A custom pacing function: the training subset grows in `steps` equal jumps and reaches the full
// set at F = f·T. Put it at pacing/staircase.js in a project and use it from
// conf/curriculum/pacing/Staircase.yaml (module + type), see docs/tutorials/custom-pacing.md.
import { AbstractPace } from "curricula";

/** Staircase pacing: `steps` equal jumps from N·s to N, the last one at F = f·T. */
export class Staircase extends AbstractPace {
  static defaults = { steps: 2 };

  constructor(options, args = {}) {
    super(options);
    this.steps = args.steps ?? 2;
    if (!Number.isInteger(this.steps) || this.steps < 1) {
      throw new Error(`Staircase: steps must be a positive integer, got ${this.steps}`);
    }
  }

  rawSize(i) {
    const n = this.datasetSize;
    const s = this.initialSize;
    const step = Math.min(this.steps, Math.floor((i / this.finalStep) * this.steps));
    return n * s + (n * (1 - s) * step) / this.steps;
  }
}
