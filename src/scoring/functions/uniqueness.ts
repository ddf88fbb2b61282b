import { z } from "zod";
import type { AtomicRun, ScoreResult } from "../abstract-score.js";
import { nearestDistances, UNIQUENESS_WEIGHTS, uniqueness } from "../math/brain.js";
import { EmbeddingScore, EmbeddingScoreParams } from "./embedding-score.js";

/**
 * Uniqueness: how far a sample lies from its nearest neighbours in a trained model's embedding: the
 * mean of its three nearest-neighbour Euclidean distances weighted 0.6, 0.3 and 0.1, divided by the
 * largest such value in the subset (1 = the most unique). An atypical sample is hard. FiftyOne
 * Brain's `compute_uniqueness` (voxel51/fiftyone-brain, `internal/core/uniqueness.py`), on the
 * embedding of the scored run rather than a separate image model.
 */
export class Uniqueness extends EmbeddingScore {
  static override readonly schema = EmbeddingScoreParams.extend({
    /** Weights of the 1st, 2nd, … nearest neighbour's distance (their count is the k of the k-NN). */
    weights: z
      .array(z.number().nonnegative())
      .min(1)
      .default([...UNIQUENESS_WEIGHTS]),
  });
  static override readonly reference = "FiftyOne Brain, compute_uniqueness (voxel51/fiftyone-brain)";

  async score(run: AtomicRun): Promise<ScoreResult> {
    const { subset, classNames, x, n, dim } = await this.embedding(run);
    const weights = this.params.weights as number[];
    const dot = await this.matrixProduct(n);
    const distances = await this.time("knn_fit", () => nearestDistances(x, n, dim, weights.length, dot));
    return { subset, classNames, columns: { scores: uniqueness(distances, n, weights) } };
  }
}
