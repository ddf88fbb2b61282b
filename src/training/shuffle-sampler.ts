import type { Batch, Subset } from "../data/types.js";
import { Rng, type RngState } from "../util/rng.js";
import type { PassSampler } from "./types.js";

/**
 * The default pass sampler: every row of the training subset once per pass, in a fresh seeded
 * shuffle (a shuffled DataLoader whose generator is seeded with the dataset seed, as autrainer).
 */
export class ShufflePassSampler implements PassSampler {
  private readonly rng: Rng;
  constructor(
    private readonly size: number,
    seed: number,
  ) {
    this.rng = Rng.derive(seed, "train-shuffle");
  }

  nextPass(): Int32Array {
    return this.rng.permutation(this.size);
  }

  getState(): unknown {
    return { rng: this.rng.getState() };
  }

  setState(state: unknown): void {
    const rng = (state as { rng?: RngState } | null)?.rng;
    if (!Array.isArray(rng)) throw new Error("ShufflePassSampler: saved state has no 'rng' words");
    this.rng.setState(rng);
  }
}

/**
 * A view of a subset restricted to some of its positions (CVLoss trains on folds). Position `i`
 * of the view is position `positions[i]` of the base subset; batches report view positions.
 */
export function restrictSubset(base: Subset, positions: Int32Array): Subset {
  for (const p of positions) {
    if (p < 0 || p >= base.size) {
      throw new Error(`trainPositions: position ${p} outside the ${base.name} subset (0..${base.size - 1})`);
    }
  }
  const labels = new Int32Array(positions.length);
  const sourceIndex = new Int32Array(positions.length);
  positions.forEach((p, i) => {
    labels[i] = base.labels[p] as number;
    sourceIndex[i] = base.sourceIndex[p] as number;
  });
  return {
    name: base.name,
    size: positions.length,
    labels,
    sourceIndex,
    batch(viewPositions: ArrayLike<number>): Batch {
      const mapped = new Int32Array(viewPositions.length);
      for (let i = 0; i < viewPositions.length; i++)
        mapped[i] = positions[viewPositions[i] as number] as number;
      const batch = base.batch(mapped);
      return { x: batch.x, y: batch.y, index: Int32Array.from(viewPositions) };
    },
  };
}
