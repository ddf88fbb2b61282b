import { createRunDataset } from "../assembly/review.js";
import { type DatasetConfig, DatasetConfigSchema } from "../config/schema.js";
import type { ScoreRows } from "../results/score-table.js";
import type { AtomicRun } from "./abstract-score.js";
import { probabilityColumnCount, probabilityMatrix } from "./functions/confident-learning.js";
import { FILTER_BY_METHODS, findLabelIssues } from "./math/label-issues.js";
import { flagPrecisionRecall, noiseDetection } from "./math/noise-detection.js";

/**
 * The `label_noise` entry of a score card: when the runs a train-subset score was computed from
 * trained on a dataset with `label_noise`, how well the score finds the changed samples (average
 * precision, AUROC, recall in the hardest 1/5/10 %), and for a `label_issue` flag (ConfidentLearning)
 * its precision and recall. The changed samples are drawn again from the dataset config (the draw is
 * a pure function of it) and matched to the score's rows by source index.
 */
export async function labelNoiseCard(
  runs: readonly AtomicRun[],
  subset: unknown,
  rows: ScoreRows,
  mean: ArrayLike<number>,
  ranks: ArrayLike<number>,
  reverse: boolean,
): Promise<Record<string, unknown> | null> {
  if (subset !== "train") return null;
  const noisy = runs.map((r) => (r.config.dataset as Record<string, unknown> | undefined)?.label_noise);
  const first = noisy.find((n) => n !== undefined && n !== null);
  if (first === undefined) return null;
  if (noisy.some((n) => JSON.stringify(n) !== JSON.stringify(first))) {
    return { note: "the runs of this score trained with different label noise: no detection figures" };
  }
  const config = DatasetConfigSchema.parse(runs[0]?.config.dataset) as DatasetConfig;
  const dataset = await createRunDataset(config);
  const noise = dataset.labelNoise;
  if (!noise) return null;
  const train = dataset.subset("train");
  const changed = new Set(Array.from(noise.positions, (p) => train.sourceIndex[p] as number));
  const flipped = Array.from(rows.sourceIndex, (s) => changed.has(s));
  const card: Record<string, unknown> = {
    config: noise.config,
    ...noiseDetection(mean, reverse, ranks, flipped),
  };
  const issue = rows.text?.get("label_issue");
  if (issue)
    card.label_issue = flagPrecisionRecall(
      issue.map((v) => v === "true"),
      flipped,
    );
  const methods = filterByMethods(rows, flipped);
  if (methods) card.filter_by = methods;
  return card;
}

/**
 * Precision and recall of every `filter_by` method on the same probabilities, when the rows carry
 * them (ConfidentLearning's `p_0 … p_{K−1}`), so a card compares the methods on the same noise.
 */
function filterByMethods(rows: ScoreRows, flipped: readonly boolean[]): Record<string, unknown> | null {
  const c = probabilityColumnCount(rows);
  const probs = c < 2 ? null : probabilityMatrix(rows, c);
  if (!probs) return null;
  return Object.fromEntries(
    FILTER_BY_METHODS.map((method) => {
      const { issue } = findLabelIssues(probs, rows.encoded, c, method);
      return [
        method,
        flagPrecisionRecall(
          Array.from(issue, (v) => v === 1),
          flipped,
        ),
      ];
    }),
  );
}
