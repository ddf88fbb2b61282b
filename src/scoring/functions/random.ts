import { z } from "zod";
import { Rng } from "../../util/rng.js";
import { AbstractScore, type AtomicRun, type ScoreResult } from "../abstract-score.js";
import { BaseScoreParams } from "../argument-schemas.js";

/**
 * Random: seeded uniform scores in [0, 1), the baseline a curriculum must beat (a random ordering,
 * as the random curricula of Wu, Dyer & Neyshabur, ICLR 2021, arXiv 2012.03107).
 */
export class RandomScore extends AbstractScore {
  static override readonly schema = BaseScoreParams.extend({
    dataset: z.string().min(1),
    seed: z.number().int().default(1),
  });
  static override readonly reference = "Wu, Dyer & Neyshabur, ICLR 2021, arXiv 2012.03107 (random ordering)";

  override async preprocess(): Promise<AtomicRun[]> {
    const config = this.namedDatasetConfig();
    const p = this.params;
    return [
      {
        name: `${config.id}_${p.seed}`,
        config: { dataset: config, seed: p.seed },
      },
    ];
  }

  async score(_run: AtomicRun): Promise<ScoreResult> {
    const dataset = await this.namedDataset();
    const subset = dataset.subset(this.subsetName);
    const rng = new Rng(this.params.seed as number);
    const scores = Float64Array.from({ length: subset.size }, () => rng.random());
    return { subset, classNames: dataset.classNames, columns: { scores } };
  }
}
