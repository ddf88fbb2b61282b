import type { Dataset, Subset } from "../../data/types.js";
import { bestIteration, listIterations } from "../../results/run-folder.js";
import { correctFromLogits } from "../../training/measures/logits.js";
import { DataError } from "../../util/errors.js";
import { AbstractScore } from "../abstract-score.js";

/** Correctness of every scored sample at every evaluated iteration (row t = iterations[t]). */
export interface CorrectnessMatrix {
  dataset: Dataset;
  subset: Subset;
  /** iterations.length × subset.size, 1 = classified correctly. */
  correct: Uint8Array;
  iterations: number[];
}

/** The logits of every scored sample at every evaluated iteration up to the stop. */
export interface LogitSequence {
  dataset: Dataset;
  subset: Subset;
  /** One subset.size × classes array per evaluated iteration, in iteration order. */
  logits: Float32Array[];
  iterations: number[];
}

/**
 * Base of the scores computed from a run's training dynamics (CumulativeAccuracy, FirstIteration,
 * AUM, Forgetting, Cartography, EL2N): the outputs at every evaluated iteration up to the stop (all
 * for `last`, up to the best iteration for `best`). The trainer saves the logits of the whole train
 * and dev subsets at every evaluation, so these need no re-inference; iterations without saved
 * outputs fall back to a forward pass of their checkpoint (test subset).
 */
export abstract class IterationScore extends AbstractScore {
  protected async logitSequence(runDir: string): Promise<LogitSequence> {
    const { dataset } = await this.loadRun(runDir);
    const subset = dataset.subset(this.subsetName);
    const stop = this.params.stop as "best" | "last";
    const limit = stop === "best" ? bestIteration(runDir) : Number.POSITIVE_INFINITY;
    const logits: Float32Array[] = [];
    const iterations: number[] = [];
    for (const it of listIterations(runDir).filter((i) => i.iteration <= limit)) {
      const values = await this.savedOrForwardLogits(runDir, it.dir);
      if (!values) continue;
      logits.push(values);
      iterations.push(it.iteration);
    }
    if (logits.length === 0) {
      throw new DataError(
        `No model states found for '${runDir}'\n\twith stop='${stop}': no iteration folder up to ${limit} holds ` +
          `saved ${this.subsetName} outputs or a model`,
      );
    }
    return { dataset, subset, logits, iterations };
  }

  protected async correctness(runDir: string): Promise<CorrectnessMatrix> {
    const { dataset, subset, logits, iterations } = await this.logitSequence(runDir);
    const n = subset.size;
    const correct = new Uint8Array(logits.length * n);
    logits.forEach((values, t) => {
      correct.set(correctFromLogits(values, subset.labels, dataset.outputDim), t * n);
    });
    return { dataset, subset, correct, iterations };
  }
}
