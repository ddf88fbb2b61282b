import type { AtomicRun, ScoreResult } from "../abstract-score.js";
import { ModelScoreParams } from "../argument-schemas.js";
import { TrackerScore } from "./tracker-score.js";

/**
 * OnlineLoss: each train sample's exponential moving average of its training loss, as the trainer
 * tracked it from its training steps' own forward passes (`train_trackers.csv`, column `ema_loss`;
 * β is the run's `tracker_ema`); a high loss is hard. No model is loaded and nothing is inferred. A
 * sample the run never trained on scores ln C, the loss of a uniform prediction (the trackers'
 * cold-start rule). The loss-based difficulty measured during training of the dynamic-curriculum
 * literature: Kumar et al., "Self-Paced Learning for Latent Variable Models", NeurIPS 2010 (the
 * current loss), and Zhou et al., "Curriculum Learning by Dynamic Instance Hardness", NeurIPS 2020
 * (its moving average). An ensemble averages the runs' values.
 */
export class OnlineLoss extends TrackerScore {
  static override readonly schema = ModelScoreParams;
  static override readonly reference =
    "Zhou et al., NeurIPS 2020 (dynamic instance hardness, loss EMA); Kumar et al., NeurIPS 2010";

  async score(run: AtomicRun): Promise<ScoreResult> {
    const { dataset, subset, table } = await this.trackerTable(run.runDir as string);
    return { subset, classNames: dataset.classNames, columns: { scores: table.emaLoss } };
  }
}
