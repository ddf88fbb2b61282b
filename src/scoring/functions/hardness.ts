import { softmaxEntropy } from "../../training/measures/logits.js";
import { AbstractScore, type AtomicRun, type ScoreResult } from "../abstract-score.js";
import { ModelScoreParams } from "../argument-schemas.js";

/**
 * Hardness: the entropy (natural log) of a trained model's softmax output at the chosen checkpoint;
 * an uncertain prediction is hard. FiftyOne Brain's `compute_hardness`
 * (voxel51/fiftyone-brain, `internal/core/hardness.py`: `entropy(softmax(logits))`).
 */
export class Hardness extends AbstractScore {
  static override readonly schema = ModelScoreParams;
  static override readonly reference = "FiftyOne Brain, compute_hardness (voxel51/fiftyone-brain)";

  async score(run: AtomicRun): Promise<ScoreResult> {
    const { dataset, subset, logits } = await this.checkpointLogits(run.runDir as string);
    const scores = softmaxEntropy(logits, subset.size, dataset.outputDim);
    return { subset, classNames: dataset.classNames, columns: { scores } };
  }
}
