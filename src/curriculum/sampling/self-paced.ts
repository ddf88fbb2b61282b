import { CurriculaError } from "../../util/errors.js";
import {
  AbstractSampler,
  type PassInfo,
  type SamplerOutputs,
  type SamplerSetup,
} from "./abstract-sampler.js";

export interface SelfPacedArgs {
  /** λ₀, the loss threshold of the first pass (1). */
  threshold?: number;
  /** Factor λ grows by from one pass to the next, ≥ 1 (1.3). */
  growth?: number;
}

interface SelfPacedState {
  /** Last recorded loss of every sample; null for one not trained on yet. */
  losses: Array<number | null>;
  /** Passes drawn so far. */
  passes: number;
}

/**
 * The positions of a self-paced pass (ascending): the samples whose last loss is below `lambda`,
 * and those without a loss yet (NaN); every position when that leaves none.
 */
export function selfPacedPass(losses: ArrayLike<number>, lambda: number): Int32Array {
  const kept: number[] = [];
  for (let i = 0; i < losses.length; i++) {
    const loss = losses[i] as number;
    if (Number.isNaN(loss) || loss < lambda) kept.push(i);
  }
  if (kept.length === 0) return Int32Array.from({ length: losses.length }, (_, i) => i);
  return Int32Array.from(kept);
}

/**
 * Self-paced learning (Kumar et al., NeurIPS 2010) on the online loss: pass k (1-based) trains on
 * the samples whose last recorded loss is below λ_k = threshold · growth^(k − 1), plus the samples
 * not trained on yet (cold start: the first pass is whole); a pass that would be empty is the whole
 * set. Each pass's order is drawn from the sampler's random stream; losses are not scaled.
 */
export class SelfPaced extends AbstractSampler {
  static override readonly defaults = { threshold: 1, growth: 1.3 };

  readonly threshold: number;
  readonly growth: number;
  private losses = new Float64Array(0);
  private passes = 0;

  constructor(args: SelfPacedArgs = {}) {
    const threshold = args.threshold ?? SelfPaced.defaults.threshold;
    const growth = args.growth ?? SelfPaced.defaults.growth;
    if (!(threshold > 0 && Number.isFinite(threshold))) {
      throw new CurriculaError(`SelfPaced: threshold must be a positive number, got ${threshold}`);
    }
    if (!(growth >= 1 && Number.isFinite(growth))) {
      throw new CurriculaError(`SelfPaced: growth must be a number ≥ 1, got ${growth}`);
    }
    super({ threshold, growth });
    this.threshold = threshold;
    this.growth = growth;
  }

  override begin(setup: SamplerSetup): void {
    super.begin(setup);
    this.losses = new Float64Array(setup.size).fill(Number.NaN);
    this.passes = 0;
  }

  /** λ of the next pass. */
  get lambda(): number {
    return this.threshold * this.growth ** this.passes;
  }

  sample(_n: number, _pass: PassInfo): Int32Array {
    const pass = selfPacedPass(this.losses, this.lambda);
    this.passes += 1;
    return this.setup.rng.shuffle(pass);
  }

  override update(positions: Int32Array, outputs: SamplerOutputs): void {
    for (let i = 0; i < positions.length; i++) {
      this.losses[positions[i] as number] = outputs.losses[i] as number;
    }
  }

  state(): SelfPacedState {
    return { losses: Array.from(this.losses, (l) => (Number.isNaN(l) ? null : l)), passes: this.passes };
  }

  load(state: unknown): void {
    const s = state as Partial<SelfPacedState> | null;
    const n = this.losses.length;
    if (
      !s ||
      !Array.isArray(s.losses) ||
      s.losses.length !== n ||
      !Number.isInteger(s.passes) ||
      (s.passes as number) < 0
    ) {
      throw new CurriculaError(`SelfPaced: saved state does not hold ${n} losses and a pass count`);
    }
    this.losses = Float64Array.from(s.losses, (l) => (l === null ? Number.NaN : Number(l)));
    this.passes = s.passes as number;
  }
}
