import { mistakenness } from "../../training/measures/logits.js";
import { AbstractScore, type AtomicRun, type ScoreResult } from "../abstract-score.js";
import { ModelScoreParams } from "../argument-schemas.js";

/**
 * Mistakenness: how confident a trained model is that a sample's label is wrong, from its logits at
 * the chosen checkpoint: (m·exp(−H) + 1) / 2 with H the softmax entropy and m = +1 when the
 * prediction differs from the label, −1 when it agrees. Confident disagreement is near 1 (likely a
 * label mistake, hard), confident agreement near 0. FiftyOne Brain's `compute_mistakenness` for
 * classifications with `use_logits=True` (voxel51/fiftyone-brain, `internal/core/mistakenness.py`).
 */
export class Mistakenness extends AbstractScore {
  static override readonly schema = ModelScoreParams;
  static override readonly reference = "FiftyOne Brain, compute_mistakenness (voxel51/fiftyone-brain)";

  async score(run: AtomicRun): Promise<ScoreResult> {
    const { dataset, subset, logits } = await this.checkpointLogits(run.runDir as string);
    const scores = mistakenness(logits, subset.labels, dataset.outputDim);
    return { subset, classNames: dataset.classNames, columns: { scores } };
  }
}
