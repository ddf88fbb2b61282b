import { forgettingEvents } from "../../training/measures/dynamics.js";
import type { AtomicRun, FinalScores, ScoreResult } from "../abstract-score.js";
import { ModelScoreParams } from "../argument-schemas.js";
import { averageColumns } from "./average-columns.js";
import { IterationScore } from "./iteration-score.js";

/**
 * Forgetting: the number of forgetting events, evaluations at which a sample classified correctly
 * at the previous evaluation is misclassified; a sample never classified correctly gets T (the
 * number of evaluations), more than any learned sample can reach. More events is harder. Toneva et
 * al., "An Empirical Study of Example Forgetting during Deep Neural Network Learning", ICLR 2019
 * (arXiv 1812.05159). Evaluations are the trainer's (every `eval_frequency` iterations, not every
 * mini-batch as in the paper); an ensemble averages the runs' counts.
 */
export class Forgetting extends IterationScore {
  static override readonly schema = ModelScoreParams;
  static override readonly reference = "Toneva et al., ICLR 2019, arXiv 1812.05159";

  async score(run: AtomicRun): Promise<ScoreResult> {
    const { dataset, subset, correct, iterations } = await this.correctness(run.runDir as string);
    const forgetting = forgettingEvents(correct, subset.size, iterations.length);
    return { subset, classNames: dataset.classNames, columns: { forgetting } };
  }

  override postprocess(_scoreId: string, runs: readonly AtomicRun[]): FinalScores {
    const rows = averageColumns(this.readGroups(runs), ["forgetting"]);
    return { rows, mean: Float64Array.from(rows.columns.get("forgetting") as Float64Array) };
  }
}
