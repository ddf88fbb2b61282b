import { z } from "zod";
import { Rng } from "../../util/rng.js";
import type { AtomicRun, ScoreResult } from "../abstract-score.js";
import { kmeans, kmeansPlusPlus, representativeness } from "../math/brain.js";
import { EmbeddingScore, EmbeddingScoreParams } from "./embedding-score.js";

/**
 * Representativeness: how close a sample lies to the centre of its cluster in a trained model's
 * embedding. k-means (`clusters`, default 20 as FiftyOne; k-means++ seeding from `seed`, Lloyd's
 * iterations) clusters the subset; each sample's distance to its centre is divided by the largest in
 * its cluster and turned into closeness, 1 − d / max (1 = the centre). A typical sample is easy
 * (ranked in reverse). FiftyOne Brain's `compute_representativeness`, method `cluster-center`
 * (voxel51/fiftyone-brain, `internal/core/representativeness.py`).
 */
export class Representativeness extends EmbeddingScore {
  static override readonly schema = EmbeddingScoreParams.extend({
    clusters: z.number().int().positive().default(20),
    max_iterations: z.number().int().positive().default(300),
    /** Seed of the k-means++ seeding (its stream is `Rng.derive(seed, "representativeness")`). */
    seed: z.number().int().default(1234),
  });
  static override readonly reference = "FiftyOne Brain, compute_representativeness (voxel51/fiftyone-brain)";
  override reverseScore = true;

  async score(run: AtomicRun): Promise<ScoreResult> {
    const { subset, classNames, x, n, dim } = await this.embedding(run);
    const k = Math.min(this.params.clusters as number, n);
    const scores = await this.time("kmeans", () => {
      const initial = kmeansPlusPlus(
        x,
        n,
        dim,
        k,
        Rng.derive(this.params.seed as number, "representativeness"),
      );
      const clusters = kmeans(x, n, dim, initial, this.params.max_iterations as number);
      return representativeness(x, n, dim, clusters);
    });
    return { subset, classNames, columns: { scores } };
  }
}
