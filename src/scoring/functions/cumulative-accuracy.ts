import { cumulativeAccuracy } from "../../training/measures/dynamics.js";
import type { AtomicRun, FinalScores, ScoreResult } from "../abstract-score.js";
import { ModelScoreParams } from "../argument-schemas.js";
import { IterationScore } from "./iteration-score.js";

/**
 * CumulativeAccuracy: the fraction of evaluated iterations at which a sample was classified
 * correctly; high accuracy is easy (ranked in reverse). A cheap proxy of the consistency score
 * (C-score) of Jiang et al., "Characterizing Structural Regularities of Labeled Data in
 * Overparameterized Models", ICML 2021 (arXiv 2002.03206). Ensembles pool sums and counts.
 */
export class CumulativeAccuracy extends IterationScore {
  static override readonly schema = ModelScoreParams;
  static override readonly reference = "Jiang et al., ICML 2021, arXiv 2002.03206 (C-score proxy)";
  override reverseScore = true;

  async score(run: AtomicRun): Promise<ScoreResult> {
    const { dataset, subset, correct, iterations } = await this.correctness(run.runDir as string);
    const { sum, count } = cumulativeAccuracy(correct, subset.size, iterations.length);
    return { subset, classNames: dataset.classNames, columns: { sum, count } };
  }

  /** Pools over runs: mean = Σ sum / Σ count (not a mean of per-run means). */
  override postprocess(_scoreId: string, runs: readonly AtomicRun[]): FinalScores {
    const groups = this.readGroups(runs);
    const rows = (groups[0] as (typeof groups)[number]).rows;
    const n = rows.index.length;
    const sum = new Float64Array(n);
    const count = new Float64Array(n);
    for (const g of groups) {
      const s = g.rows.columns.get("sum");
      const c = g.rows.columns.get("count");
      if (!s || !c) throw new Error(`${g.label}: expected columns 'sum' and 'count'`);
      for (let i = 0; i < n; i++) {
        sum[i] = (sum[i] as number) + (s[i] as number);
        count[i] = (count[i] as number) + (c[i] as number);
      }
    }
    rows.columns.set("sum", sum);
    rows.columns.set("count", count);
    return { rows, mean: Float64Array.from(sum, (s, i) => s / (count[i] as number)) };
  }
}
