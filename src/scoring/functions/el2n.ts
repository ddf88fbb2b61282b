import { z } from "zod";
import { bestIteration, listIterations } from "../../results/run-folder.js";
import type { ScoreRows } from "../../results/score-table.js";
import { el2n } from "../../training/measures/logits.js";
import { DataError } from "../../util/errors.js";
import { AbstractScore, type AtomicRun, type FinalScores, type ScoreResult } from "../abstract-score.js";
import { ModelScoreParams } from "../argument-schemas.js";
import { averageColumns } from "./average-columns.js";

/** The `iteration` parameter of EL2N and GraNd: an evaluated iteration, or null for the first one. */
export const EarlyIteration = z.number().int().positive().nullable().default(null);

/**
 * The iteration folders a score may use: those up to the stop (the best iteration for `best`, all for
 * `last`), narrowed to `iteration` when it is given; errors list what is available.
 */
export function iterationCandidates(
  runDir: string,
  stop: "best" | "last",
  iteration: number | null,
): { iteration: number; dir: string; hasModel: boolean }[] {
  const limit = stop === "best" ? bestIteration(runDir) : Number.POSITIVE_INFINITY;
  const all = listIterations(runDir).filter((it) => it.iteration <= limit);
  if (iteration === null) return all;
  const match = all.filter((it) => it.iteration === iteration);
  if (match.length === 0) {
    throw new DataError(
      `${runDir}: curriculum.scoring.iteration: no evaluated iteration ${iteration} up to stop='${stop}' ` +
        `(expected one of ${all.map((it) => it.iteration).join(", ") || "none"})`,
    );
  }
  return match;
}

/**
 * EL2N: the error L2 norm ‖softmax(z) − onehot(y)‖₂ at one early evaluation (`iteration`, default
 * the first one), from the saved outputs; a high norm is hard. Paul, Ganguli & Dziugaite, "Deep
 * Learning on a Data Diet: Finding Important Examples Early in Training", NeurIPS 2021 (arXiv
 * 2107.07075), where it is averaged over several runs: an ensemble averages the runs' norms.
 */
export class EL2N extends AbstractScore {
  static override readonly schema = ModelScoreParams.extend({ iteration: EarlyIteration });
  static override readonly reference = "Paul, Ganguli & Dziugaite, NeurIPS 2021, arXiv 2107.07075";

  /** `<run>_<b|l>`, plus `_<iteration>` when one is given. */
  protected override nameSuffix(requested: string): string[] {
    const it = this.params.iteration as number | null;
    return [...super.nameSuffix(requested), ...(it === null ? [] : [String(it)])];
  }

  async score(run: AtomicRun): Promise<ScoreResult> {
    const runDir = run.runDir as string;
    const { dataset } = await this.loadRun(runDir);
    const subset = dataset.subset(this.subsetName);
    const candidates = iterationCandidates(
      runDir,
      this.params.stop as "best" | "last",
      this.params.iteration as number | null,
    );
    for (const it of candidates) {
      const logits = await this.savedOrForwardLogits(runDir, it.dir);
      if (!logits) continue;
      const values = el2n(logits, subset.labels, dataset.outputDim);
      const iteration = new Float64Array(subset.size).fill(it.iteration);
      return { subset, classNames: dataset.classNames, columns: { el2n: values, iteration } };
    }
    throw new DataError(
      `${runDir}: no evaluated iteration${this.params.iteration === null ? "" : ` ${this.params.iteration}`} holds saved ${this.subsetName} outputs or a model`,
    );
  }

  override postprocess(_scoreId: string, runs: readonly AtomicRun[]): FinalScores {
    const groups = this.readGroups(runs);
    const rows = averageColumns(groups, ["el2n"]);
    return {
      rows,
      mean: Float64Array.from(rows.columns.get("el2n") as Float64Array),
      card: { iteration: usedIterations(groups) },
    };
  }
}

/** The evaluated iteration each run was scored at (the constant `iteration` column of its scores.csv). */
export function usedIterations(groups: readonly { label: string; rows: ScoreRows }[]): number[] {
  return groups.map((g) => {
    const column = g.rows.columns.get("iteration");
    if (!column || column.length === 0) throw new DataError(`${g.label}: no 'iteration' column`);
    return column[0] as number;
  });
}
