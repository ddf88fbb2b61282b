import { perSampleCrossEntropy } from "../../training/index.js";
import { AbstractScore, type AtomicRun, type ScoreResult } from "../abstract-score.js";
import { Criterion, ModelScoreParams, type ScoringCriterion } from "../argument-schemas.js";

/**
 * CELoss: the per-sample cross-entropy of a trained model at the chosen checkpoint; a high loss is
 * hard. The "bootstrapping" scoring function of Hacohen & Weinshall, "On The Power of Curriculum
 * Learning in Training Deep Networks", ICML 2019 (arXiv 1904.03626).
 */
export class CELoss extends AbstractScore {
  static override readonly schema = ModelScoreParams.extend({ criterion: Criterion });
  static override readonly reference = "Hacohen & Weinshall, ICML 2019, arXiv 1904.03626 (bootstrapping)";

  async score(run: AtomicRun): Promise<ScoreResult> {
    const { dataset, subset, logits } = await this.checkpointLogits(run.runDir as string);
    const weights = this.classWeights(this.params.criterion as ScoringCriterion, dataset);
    const scores = perSampleCrossEntropy(logits, subset.labels, dataset.outputDim, weights);
    return { subset, classNames: dataset.classNames, columns: { scores } };
  }
}
