import type { AtomicRun, FinalScores, ScoreResult } from "../abstract-score.js";
import { ModelScoreParams } from "../argument-schemas.js";
import { TrackerScore } from "./tracker-score.js";

/**
 * PassRate: the fraction of a train sample's training steps (attempts) whose own forward pass
 * classified it correctly, as the trainer tracked it (`train_trackers.csv`, `correct / attempts`);
 * a high pass rate is easy (ranked in reverse). No model is loaded and nothing is inferred. A sample
 * never trained on scores 0 (the trackers' cold-start rule). The per-presentation correctness of
 * Toneva et al., "An Empirical Study of Example Forgetting during Deep Neural Network Learning",
 * ICLR 2019 (arXiv 1812.05159), accumulated as the pass rate of dynamic-instance-hardness
 * curricula (Zhou et al., NeurIPS 2020). Ensembles pool correct steps and attempts (Σ correct /
 * Σ attempts, 0 where no run trained on the sample), as CumulativeAccuracy pools its counts.
 */
export class PassRate extends TrackerScore {
  static override readonly schema = ModelScoreParams;
  static override readonly reference =
    "Toneva et al., ICLR 2019, arXiv 1812.05159 (per-presentation correctness); Zhou et al., NeurIPS 2020";
  override reverseScore = true;

  async score(run: AtomicRun): Promise<ScoreResult> {
    const { dataset, subset, table } = await this.trackerTable(run.runDir as string);
    return {
      subset,
      classNames: dataset.classNames,
      columns: { correct: table.correct, attempts: table.attempts },
    };
  }

  override postprocess(_scoreId: string, runs: readonly AtomicRun[]): FinalScores {
    const groups = this.readGroups(runs);
    const rows = (groups[0] as (typeof groups)[number]).rows;
    const n = rows.index.length;
    const correct = new Float64Array(n);
    const attempts = new Float64Array(n);
    for (const g of groups) {
      const c = g.rows.columns.get("correct");
      const a = g.rows.columns.get("attempts");
      if (!c || !a) throw new Error(`${g.label}: expected columns 'correct' and 'attempts'`);
      for (let i = 0; i < n; i++) {
        correct[i] = (correct[i] as number) + (c[i] as number);
        attempts[i] = (attempts[i] as number) + (a[i] as number);
      }
    }
    rows.columns.set("correct", correct);
    rows.columns.set("attempts", attempts);
    const mean = Float64Array.from(correct, (c, i) =>
      (attempts[i] as number) > 0 ? c / (attempts[i] as number) : 0,
    );
    return { rows, mean };
  }
}
