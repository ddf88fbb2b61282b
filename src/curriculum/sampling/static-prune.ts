import { CurriculaError } from "../../util/errors.js";
import { AbstractSampler, type PassInfo, type SamplerSetup } from "./abstract-sampler.js";

/** Which end(s) of the difficulty order StaticPrune drops. */
export type StaticPruneDrop = "easiest" | "hardest" | "both";
const DROPS: readonly StaticPruneDrop[] = ["easiest", "hardest", "both"];

export interface StaticPruneArgs {
  /** Fraction of the training set kept, in (0, 1] (0.7). */
  keep?: number;
  /** Which samples are dropped: the easiest, the hardest, or half of each end ("easiest"). */
  drop?: StaticPruneDrop;
}

interface StaticPruneState {
  kept: number[];
}

/**
 * The positions StaticPrune keeps, ascending: the samples ordered by rank (0 = easiest; ties by
 * position), `floor(keep · n)` of them kept; the `n − kept` dropped are the first (easiest), the last
 * (hardest), or `floor((n − kept) / 2)` first and the rest last (both).
 */
export function staticPruneKept(ranks: ArrayLike<number>, keep: number, drop: StaticPruneDrop): Int32Array {
  const n = ranks.length;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (ranks[a] as number) - (ranks[b] as number) || a - b,
  );
  const count = Math.floor(keep * n);
  const dropped = n - count;
  const start = drop === "easiest" ? dropped : drop === "hardest" ? 0 : Math.floor(dropped / 2);
  return Int32Array.from(order.slice(start, start + count)).sort();
}

/**
 * Static pruning by a computed score (the data-diet setting): at train begin the samples are ordered
 * by the ranks of `curriculum/scoring` and `floor(keep · n)` of them kept, dropping the easiest, the
 * hardest or both ends (see {@link staticPruneKept}); every pass is the kept set in a new order drawn
 * from the sampler's random stream. Losses are not scaled.
 */
export class StaticPrune extends AbstractSampler {
  static override readonly defaults = { keep: 0.7, drop: "easiest" };
  static override readonly usesScore = true;

  readonly keep: number;
  readonly drop: StaticPruneDrop;
  private kept: Int32Array = new Int32Array(0);

  constructor(args: StaticPruneArgs = {}) {
    const keep = args.keep ?? StaticPrune.defaults.keep;
    const drop = (args.drop ?? StaticPrune.defaults.drop) as StaticPruneDrop;
    if (!(keep > 0 && keep <= 1)) {
      throw new CurriculaError(`StaticPrune: keep must be in (0, 1], got ${keep}`);
    }
    if (!DROPS.includes(drop)) {
      throw new CurriculaError(
        `StaticPrune: drop must be one of ${DROPS.join(", ")}, got ${JSON.stringify(drop)}`,
      );
    }
    super({ keep, drop });
    this.keep = keep;
    this.drop = drop;
  }

  override begin(setup: SamplerSetup): void {
    super.begin(setup);
    if (!setup.ranks) {
      throw new CurriculaError("StaticPrune: needs the ranks of a score (set curriculum/scoring=<id>)");
    }
    this.kept = staticPruneKept(setup.ranks, this.keep, this.drop);
    if (this.kept.length === 0) {
      throw new CurriculaError(
        `StaticPrune: keep=${this.keep} of ${setup.size} training samples keeps none (floor(keep · n) = 0)`,
      );
    }
  }

  sample(_n: number, _pass: PassInfo): Int32Array {
    return this.setup.rng.shuffle(Int32Array.from(this.kept));
  }

  /** The kept positions, ascending. */
  get keptPositions(): Int32Array {
    return this.kept;
  }

  state(): StaticPruneState {
    return { kept: Array.from(this.kept) };
  }

  load(state: unknown): void {
    const s = state as Partial<StaticPruneState> | null;
    const same =
      !!s &&
      Array.isArray(s.kept) &&
      s.kept.length === this.kept.length &&
      s.kept.every((p, i) => p === this.kept[i]);
    if (!same) {
      throw new CurriculaError(
        "StaticPrune: the saved kept set differs from the one the score gives now (the score file changed since the checkpoint)",
      );
    }
  }
}
