import type { Dataset, Subset } from "../../data/types.js";
import { bestIteration, listIterations } from "../../results/run-folder.js";
import { DataError } from "../../util/errors.js";
import { AbstractScore } from "../abstract-score.js";
import { correctFromLogits } from "../math/correctness.js";

/** Correctness of every scored sample at every evaluated iteration (row t = iterations[t]). */
export interface CorrectnessMatrix {
  dataset: Dataset;
  subset: Subset;
  /** iterations.length × subset.size, 1 = classified correctly. */
  correct: Uint8Array;
  iterations: number[];
}

/**
 * Base of the scores computed from a run's training dynamics (CumulativeAccuracy, FirstIteration):
 * correctness at every evaluated iteration up to the stop (all for `last`, up to the best iteration
 * for `best`). The trainer saves the logits of the whole train and dev subsets at every evaluation,
 * so these need no re-inference; iterations without saved outputs fall back to a forward pass of
 * their checkpoint (test subset).
 */
export abstract class IterationScore extends AbstractScore {
  protected async correctness(runDir: string): Promise<CorrectnessMatrix> {
    const { dataset } = await this.loadRun(runDir);
    const subset = dataset.subset(this.subsetName);
    const stop = this.params.stop as "best" | "last";
    const limit = stop === "best" ? bestIteration(runDir) : Number.POSITIVE_INFINITY;
    const rows: Uint8Array[] = [];
    const iterations: number[] = [];
    for (const it of listIterations(runDir).filter((i) => i.iteration <= limit)) {
      const logits = await this.savedOrForwardLogits(runDir, it.dir);
      if (!logits) continue;
      rows.push(correctFromLogits(logits, subset.labels, dataset.outputDim));
      iterations.push(it.iteration);
    }
    if (rows.length === 0) {
      throw new DataError(
        `No model states found for '${runDir}'\n\twith stop='${stop}': no iteration folder up to ${limit} holds ` +
          `saved ${this.subsetName} outputs or a model`,
      );
    }
    const n = subset.size;
    const correct = new Uint8Array(rows.length * n);
    rows.forEach((row, t) => {
      correct.set(row, t * n);
    });
    return { dataset, subset, correct, iterations };
  }
}
