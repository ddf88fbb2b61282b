import { CurriculaError } from "../../util/errors.js";
import {
  AbstractSampler,
  type PassInfo,
  type SamplerOutputs,
  type SamplerSetup,
} from "./abstract-sampler.js";

/** The three pools, in the order of every count array here. */
export const POOLS = ["easy", "normal", "hard"] as const;
export type PoolName = (typeof POOLS)[number];
/** Pool codes of {@link poolAssignment}: index into {@link POOLS}. */
export const EASY = 0 as const;
export const NORMAL = 1 as const;
export const HARD = 2 as const;

export interface PoolsArgs {
  /** A sample whose pass rate is at least this is easy (0.8). */
  easy_threshold?: number;
  /** A sample whose pass rate is at most this is hard (0.2). */
  hard_threshold?: number;
  /** Share of each pass drawn from the easy pool (0.1). */
  easy_fraction?: number;
  /** Share of each pass drawn from the hard pool (0.1); normal gets 1 − easy − hard. */
  hard_fraction?: number;
  /** Samples per pass, as a fraction of the training set, in (0, 1] (0.5). */
  pass_size?: number;
}

interface PoolsState {
  /** Times each sample was classified correctly in a batch it was trained in. */
  correct: number[];
  /** Batches each sample was trained in. */
  attempts: number[];
  /** Samples the last pass drew from easy, normal and hard. */
  drawn: [number, number, number];
}

/**
 * The pool of every sample (codes {@link EASY}, {@link NORMAL}, {@link HARD}): with the pass rate
 * r = correct / attempts, easy when r ≥ easyThreshold, hard when r ≤ hardThreshold, normal otherwise
 * and while a sample has no attempt yet.
 */
export function poolAssignment(
  correct: ArrayLike<number>,
  attempts: ArrayLike<number>,
  easyThreshold: number,
  hardThreshold: number,
): Uint8Array {
  const out = new Uint8Array(attempts.length).fill(NORMAL);
  for (let i = 0; i < attempts.length; i++) {
    const a = attempts[i] as number;
    if (a === 0) continue;
    const rate = (correct[i] as number) / a;
    if (rate >= easyThreshold) out[i] = EASY;
    else if (rate <= hardThreshold) out[i] = HARD;
  }
  return out;
}

/** Fractions are apportioned in millionths, so shares are exact integers (no rounding noise). */
const SCALE = 1_000_000;

/**
 * Splits `total` units over the `open` pools in proportion to the integer `weights` (largest
 * remainder: each gets ⌊total · wₚ / Σw⌋, the units left go one each to the largest remainders, ties
 * to the earlier pool). Returns a share per pool (0 for those not open).
 */
function apportion(total: number, open: readonly number[], weights: readonly number[]): number[] {
  const sum = open.reduce((s, p) => s + (weights[p] as number), 0);
  const shares = [0, 0, 0];
  const remainder = [0, 0, 0];
  for (const p of open) {
    const product = total * (weights[p] as number);
    shares[p] = Math.floor(product / sum);
    remainder[p] = product - (shares[p] as number) * sum;
  }
  let left = total - shares.reduce((s, v) => s + v, 0);
  for (const p of [...open].sort((a, b) => (remainder[b] as number) - (remainder[a] as number) || a - b)) {
    if (left <= 0) break;
    shares[p] = (shares[p] as number) + 1;
    left -= 1;
  }
  return shares;
}

/**
 * How many samples a pass of `m` draws from easy, normal and hard, given the pools' sizes and the
 * fractions [easy, normal, hard] (summing to 1, taken to 6 decimals; m at most the sizes' sum):
 *
 * 1. the pools with a positive fraction and samples share m by their fractions, renormalised over
 *    those pools (largest remainder, ties to the earlier of easy, normal, hard); a pool asked for
 *    more than it holds gives all it has and the shortfall is shared again, by the same rule, among
 *    the pools that still hold samples;
 * 2. if those pools run dry before m, the pools with fraction 0 fill the rest, in proportion to
 *    what they hold.
 */
export function poolQuotas(
  sizes: readonly [number, number, number],
  fractions: readonly [number, number, number],
  m: number,
): [number, number, number] {
  const weights = fractions.map((f) => Math.round(f * SCALE));
  const counts = [0, 0, 0];
  const room = (p: number) => (sizes[p] as number) - (counts[p] as number);
  const fill = (candidates: number[], weightsNow: () => readonly number[]) => {
    let open = candidates.filter((p) => room(p) > 0);
    let remaining = m - counts.reduce((s, v) => s + v, 0);
    while (remaining > 0 && open.length > 0) {
      const shares = apportion(remaining, open, weightsNow());
      for (const p of open) counts[p] = (counts[p] as number) + Math.min(shares[p] as number, room(p));
      remaining = m - counts.reduce((s, v) => s + v, 0);
      open = open.filter((p) => room(p) > 0);
    }
  };
  fill(
    [EASY, NORMAL, HARD].filter((p) => (weights[p] as number) > 0),
    () => weights,
  );
  fill(
    [EASY, NORMAL, HARD].filter((p) => weights[p] === 0),
    () => [room(EASY), room(NORMAL), room(HARD)],
  );
  return [counts[EASY] as number, counts[NORMAL] as number, counts[HARD] as number];
}

/**
 * Difficulty pools by pass rate, the shape of prime-rl's difficulty-pool buffer
 * (PrimeIntellect-ai/prime-rl, `DifficultyPoolBuffer` and its config `easy_border` 0.8,
 * `hard_border` 0.2, `easy_fraction` 0.1, `hard_fraction` 0.1; the inclusive ≥ / ≤ borders of its
 * later `easy_threshold` / `hard_threshold`). A sample's pass rate is correct / attempts over the
 * batches it was trained in (the arg-max of the eval-mode forward pass before each step); at least
 * `easy_threshold` puts it in the easy pool, at most `hard_threshold` in the hard pool, anything
 * else, and a sample not trained on yet, in the normal pool. Every pass draws m = ⌊pass_size · n⌋
 * distinct samples: `easy_fraction` of them from easy, `hard_fraction` from hard and the rest from
 * normal, renormalised over the pools that are short (see {@link poolQuotas}); within a pool the
 * samples are drawn uniformly from the sampler's random stream, and the pass is shuffled. Losses are
 * not scaled. Each evaluation records the pools' sizes (and how many are unseen) and the last pass's
 * draws.
 */
export class Pools extends AbstractSampler {
  static override readonly defaults = {
    easy_threshold: 0.8,
    hard_threshold: 0.2,
    easy_fraction: 0.1,
    hard_fraction: 0.1,
    pass_size: 0.5,
  };

  readonly easyThreshold: number;
  readonly hardThreshold: number;
  readonly easyFraction: number;
  readonly hardFraction: number;
  readonly passSize: number;
  private correct = new Int32Array(0);
  private attempts = new Int32Array(0);
  private drawn: [number, number, number] = [0, 0, 0];

  constructor(args: PoolsArgs = {}) {
    const d = Pools.defaults;
    const easyThreshold = args.easy_threshold ?? d.easy_threshold;
    const hardThreshold = args.hard_threshold ?? d.hard_threshold;
    const easyFraction = args.easy_fraction ?? d.easy_fraction;
    const hardFraction = args.hard_fraction ?? d.hard_fraction;
    const passSize = args.pass_size ?? d.pass_size;
    for (const [key, value] of [
      ["easy_threshold", easyThreshold],
      ["hard_threshold", hardThreshold],
      ["easy_fraction", easyFraction],
      ["hard_fraction", hardFraction],
    ] as const) {
      if (!(value >= 0 && value <= 1)) {
        throw new CurriculaError(`Pools: ${key} must be in [0, 1], got ${value}`);
      }
    }
    if (!(hardThreshold < easyThreshold)) {
      throw new CurriculaError(
        `Pools: hard_threshold must be below easy_threshold, got hard_threshold=${hardThreshold} and easy_threshold=${easyThreshold}`,
      );
    }
    if (easyFraction + hardFraction > 1 + 1e-9) {
      throw new CurriculaError(
        `Pools: easy_fraction + hard_fraction must be at most 1 (normal gets the rest), got ${easyFraction} + ${hardFraction}`,
      );
    }
    if (!(passSize > 0 && passSize <= 1)) {
      throw new CurriculaError(`Pools: pass_size must be in (0, 1], got ${passSize}`);
    }
    super({
      easy_threshold: easyThreshold,
      hard_threshold: hardThreshold,
      easy_fraction: easyFraction,
      hard_fraction: hardFraction,
      pass_size: passSize,
    });
    this.easyThreshold = easyThreshold;
    this.hardThreshold = hardThreshold;
    this.easyFraction = easyFraction;
    this.hardFraction = hardFraction;
    this.passSize = passSize;
  }

  override begin(setup: SamplerSetup): void {
    super.begin(setup);
    if (this.passLength(setup.size) === 0) {
      throw new CurriculaError(
        `Pools: pass_size=${this.passSize} of ${setup.size} training samples draws none (floor(pass_size · n) = 0)`,
      );
    }
    this.correct = new Int32Array(setup.size);
    this.attempts = new Int32Array(setup.size);
    this.drawn = [0, 0, 0];
  }

  /** m, the samples of every pass. */
  passLength(n: number): number {
    return Math.floor(this.passSize * n);
  }

  /** The current pool of every sample (codes {@link EASY}, {@link NORMAL}, {@link HARD}). */
  pools(): Uint8Array {
    return poolAssignment(this.correct, this.attempts, this.easyThreshold, this.hardThreshold);
  }

  sample(n: number, _pass: PassInfo): Int32Array {
    const { rng } = this.setup;
    const pool = this.pools();
    const members: [number[], number[], number[]] = [[], [], []];
    for (let i = 0; i < n; i++) members[pool[i] as 0 | 1 | 2].push(i);
    const fractions: [number, number, number] = [
      this.easyFraction,
      Math.max(0, 1 - this.easyFraction - this.hardFraction),
      this.hardFraction,
    ];
    const sizes: [number, number, number] = [members[0].length, members[1].length, members[2].length];
    this.drawn = poolQuotas(sizes, fractions, this.passLength(n));
    const pass = new Int32Array(this.drawn[EASY] + this.drawn[NORMAL] + this.drawn[HARD]);
    let offset = 0;
    members.forEach((positions, p) => {
      const chosen = rng.shuffle(Int32Array.from(positions)).subarray(0, this.drawn[p as 0 | 1 | 2]);
      pass.set(chosen, offset);
      offset += chosen.length;
    });
    return rng.shuffle(pass);
  }

  override update(positions: Int32Array, outputs: SamplerOutputs): void {
    for (let i = 0; i < positions.length; i++) {
      const p = positions[i] as number;
      this.attempts[p] = (this.attempts[p] as number) + 1;
      this.correct[p] = (this.correct[p] as number) + (outputs.correct[i] as number);
    }
  }

  /** The pools' sizes (`unseen`: the normal samples not trained on yet) and the last pass's draws. */
  override record(): Record<string, number> {
    const pool = this.pools();
    const size: [number, number, number] = [0, 0, 0];
    let unseen = 0;
    for (let i = 0; i < pool.length; i++) {
      size[pool[i] as 0 | 1 | 2] += 1;
      if (this.attempts[i] === 0) unseen += 1;
    }
    return {
      easy: size[EASY],
      normal: size[NORMAL],
      hard: size[HARD],
      unseen,
      drawn_easy: this.drawn[EASY],
      drawn_normal: this.drawn[NORMAL],
      drawn_hard: this.drawn[HARD],
    };
  }

  /** Each sample's pass rate (NaN before its first attempt). */
  passRates(): Float64Array {
    return Float64Array.from(this.attempts, (a, i) =>
      a === 0 ? Number.NaN : (this.correct[i] as number) / a,
    );
  }

  state(): PoolsState {
    return { correct: Array.from(this.correct), attempts: Array.from(this.attempts), drawn: [...this.drawn] };
  }

  load(state: unknown): void {
    const s = state as Partial<PoolsState> | null;
    const n = this.attempts.length;
    const counts = (v: unknown, length: number): v is number[] =>
      Array.isArray(v) && v.length === length && v.every((x) => Number.isInteger(x) && x >= 0);
    if (
      !s ||
      !counts(s.correct, n) ||
      !counts(s.attempts, n) ||
      !counts(s.drawn, 3) ||
      s.correct.some((c, i) => c > ((s.attempts as number[])[i] as number))
    ) {
      throw new CurriculaError(
        `Pools: saved state does not hold ${n} correct and attempt counts (correct ≤ attempts) and 3 draw counts`,
      );
    }
    this.correct = Int32Array.from(s.correct);
    this.attempts = Int32Array.from(s.attempts);
    const [e, m, h] = s.drawn as number[];
    this.drawn = [e as number, m as number, h as number];
  }
}
