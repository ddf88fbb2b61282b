import { z } from "zod";
import { dataMap } from "../../plots/data-map.js";
import type { AtomicRun, FinalScores, ScoreResult } from "../abstract-score.js";
import { ModelScoreParams } from "../argument-schemas.js";
import { cartography, dataMapRegions, REGIONS } from "../math/dynamics.js";
import { averageColumns } from "./average-columns.js";
import { IterationScore } from "./iteration-score.js";

const COLUMNS = ["confidence", "variability", "correctness"] as const;

/**
 * Cartography: Dataset Cartography's training dynamics over the evaluations up to the stop:
 * `confidence` = mean p_y, `variability` = population standard deviation of p_y, `correctness` =
 * fraction of evaluations classifying the sample correctly, and the data map `region`
 * (`ambiguous` when variability ≥ `variability_threshold`, else `easy-to-learn` when confidence ≥
 * `confidence_threshold`, else `hard-to-learn`). The ranked score is the confidence, high = easy
 * (reversed). Swayamdipta et al., "Dataset Cartography: Mapping and Diagnosing Datasets with
 * Training Dynamics", EMNLP 2020 (arXiv 2009.10795). An ensemble averages the runs' statistics and
 * assigns regions from the averages.
 */
export class Cartography extends IterationScore {
  static override readonly schema = ModelScoreParams.extend({
    confidence_threshold: z.number().min(0).max(1).default(0.5),
    variability_threshold: z.number().min(0).max(0.5).default(0.2),
  });
  static override readonly reference = "Swayamdipta et al., EMNLP 2020, arXiv 2009.10795";
  override reverseScore = true;

  async score(run: AtomicRun): Promise<ScoreResult> {
    const { dataset, subset, logits } = await this.logitSequence(run.runDir as string);
    const stats = cartography(logits, subset.labels, dataset.outputDim);
    return { subset, classNames: dataset.classNames, columns: { ...stats } };
  }

  override postprocess(scoreId: string, runs: readonly AtomicRun[]): FinalScores {
    const rows = averageColumns(this.readGroups(runs), COLUMNS);
    const [confidence, variability, correctness] = COLUMNS.map(
      (c) => rows.columns.get(c) as Float64Array,
    ) as [Float64Array, Float64Array, Float64Array];
    const thresholds = {
      confidence: this.params.confidence_threshold as number,
      variability: this.params.variability_threshold as number,
    };
    const region = dataMapRegions(confidence, variability, thresholds);
    rows.text = new Map([["region", region]]);
    const counts = Object.fromEntries(REGIONS.map((r) => [r, region.filter((x) => x === r).length]));
    return {
      rows,
      mean: Float64Array.from(confidence),
      card: { regions: counts, thresholds },
      plots: {
        data_map: dataMap({
          confidence,
          variability,
          correctness,
          thresholds,
          title: `${scoreId} data map`,
        }) as unknown as Record<string, unknown>,
      },
    };
  }
}
