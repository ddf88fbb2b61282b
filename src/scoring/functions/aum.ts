import { areaUnderMargin } from "../../training/measures/dynamics.js";
import type { AtomicRun, FinalScores, ScoreResult } from "../abstract-score.js";
import { ModelScoreParams } from "../argument-schemas.js";
import { averageColumns } from "./average-columns.js";
import { IterationScore } from "./iteration-score.js";

/**
 * AUM, the area under the margin: the mean over evaluations of the logit margin z_y − max_{k≠y} z_k.
 * Mislabelled and ambiguous samples keep a low (often negative) margin, so a low AUM is hard (ranked
 * in reverse). Pleiss, Zhang, Elenberg & Weinberger, "Identifying Mislabeled Data using the Area
 * Under the Margin Ranking", NeurIPS 2020 (arXiv 2001.10528). Reads the saved logits of every
 * evaluation up to the stop; an ensemble averages the runs' AUM.
 */
export class AUM extends IterationScore {
  static override readonly schema = ModelScoreParams;
  static override readonly reference = "Pleiss, Zhang, Elenberg & Weinberger, NeurIPS 2020, arXiv 2001.10528";
  override reverseScore = true;

  async score(run: AtomicRun): Promise<ScoreResult> {
    const { dataset, subset, logits } = await this.logitSequence(run.runDir as string);
    const aum = areaUnderMargin(logits, subset.labels, dataset.outputDim);
    return { subset, classNames: dataset.classNames, columns: { aum } };
  }

  override postprocess(_scoreId: string, runs: readonly AtomicRun[]): FinalScores {
    const rows = averageColumns(this.readGroups(runs), ["aum"]);
    return { rows, mean: Float64Array.from(rows.columns.get("aum") as Float64Array) };
  }
}
