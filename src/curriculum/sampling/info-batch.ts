import { CurriculaError } from "../../util/errors.js";
import {
  AbstractSampler,
  type PassInfo,
  type SamplerOutputs,
  type SamplerSetup,
} from "./abstract-sampler.js";

export interface InfoBatchArgs {
  /** Fraction of the below-mean-loss samples dropped from a pass (0.5). */
  prune_ratio?: number;
  /** Prune while less than this fraction of training is done; the rest trains on all data (0.875). */
  delta?: number;
}

interface InfoBatchState {
  scores: number[];
  weights: number[];
}

/**
 * InfoBatch (Qin et al., ICLR 2024): before each pass, among the samples whose last recorded loss
 * is below the mean loss, a random `floor((1 − prune_ratio) · count)` are kept and the others left
 * out of the pass; the kept ones' loss is scaled by 1 / (1 − prune_ratio) so the expected gradient
 * stays the same. Once `delta` of training is done every pass is the whole set again, unscaled.
 * A sample's score is its loss in the last batch it was trained in (all equal at the start, so the
 * first pass is whole).
 */
export class InfoBatch extends AbstractSampler {
  static override readonly defaults = { prune_ratio: 0.5, delta: 0.875 };

  readonly pruneRatio: number;
  readonly delta: number;
  private scores = new Float64Array(0);
  private scale = new Float32Array(0);

  constructor(args: InfoBatchArgs = {}) {
    const pruneRatio = args.prune_ratio ?? InfoBatch.defaults.prune_ratio;
    const delta = args.delta ?? InfoBatch.defaults.delta;
    if (!(pruneRatio >= 0 && pruneRatio < 1)) {
      throw new CurriculaError(`InfoBatch: prune_ratio must be in [0, 1), got ${pruneRatio}`);
    }
    if (!(delta >= 0 && delta <= 1)) {
      throw new CurriculaError(`InfoBatch: delta must be in [0, 1], got ${delta}`);
    }
    super({ prune_ratio: pruneRatio, delta });
    this.pruneRatio = pruneRatio;
    this.delta = delta;
  }

  override begin(setup: SamplerSetup): void {
    super.begin(setup);
    this.scores = new Float64Array(setup.size);
    this.scale = new Float32Array(setup.size).fill(1);
  }

  sample(n: number, pass: PassInfo): Int32Array {
    const { rng } = this.setup;
    this.scale.fill(1);
    if (pass.progress >= this.delta) return rng.permutation(n);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += this.scores[i] as number;
    const mean = sum / n;
    const kept: number[] = [];
    const wellLearned: number[] = [];
    for (let i = 0; i < n; i++) ((this.scores[i] as number) < mean ? wellLearned : kept).push(i);
    const keep = 1 - this.pruneRatio;
    const count = Math.floor(keep * wellLearned.length);
    const chosen = rng.shuffle(Int32Array.from(wellLearned)).subarray(0, count);
    for (const i of chosen) {
      kept.push(i);
      this.scale[i] = 1 / keep;
    }
    return rng.shuffle(Int32Array.from(kept));
  }

  override update(positions: Int32Array, outputs: SamplerOutputs): void {
    for (let i = 0; i < positions.length; i++) {
      this.scores[positions[i] as number] = outputs.losses[i] as number;
    }
  }

  override weights(positions: Int32Array): Float32Array | null {
    const out = new Float32Array(positions.length);
    let scaled = false;
    for (let i = 0; i < positions.length; i++) {
      const s = this.scale[positions[i] as number] as number;
      out[i] = s;
      if (s !== 1) scaled = true;
    }
    return scaled ? out : null;
  }

  /** The last recorded loss of every sample (what the next pass prunes by). */
  get lossScores(): Float64Array {
    return this.scores;
  }

  state(): InfoBatchState {
    return { scores: Array.from(this.scores), weights: Array.from(this.scale) };
  }

  load(state: unknown): void {
    const s = state as Partial<InfoBatchState> | null;
    const n = this.scores.length;
    if (
      !s ||
      !Array.isArray(s.scores) ||
      !Array.isArray(s.weights) ||
      s.scores.length !== n ||
      s.weights.length !== n
    ) {
      throw new CurriculaError(`InfoBatch: saved state does not hold ${n} scores and weights`);
    }
    this.scores = Float64Array.from(s.scores);
    this.scale = Float32Array.from(s.weights);
  }
}
