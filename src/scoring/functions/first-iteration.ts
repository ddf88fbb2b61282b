import { firstIteration } from "../../training/measures/dynamics.js";
import type { AtomicRun, ScoreResult } from "../abstract-score.js";
import { ModelScoreParams } from "../argument-schemas.js";
import { IterationScore } from "./iteration-score.js";

/**
 * FirstIteration: how late a sample is learnt for good, (T − L)/T with L the trailing run of
 * iterations that classify it correctly; 0 = learnt at the first evaluation, 1 = wrong at the last.
 * The "learned iteration" of Wu, Dyer & Neyshabur, "When Do Curricula Work?", ICLR 2021
 * (arXiv 2012.03107).
 */
export class FirstIteration extends IterationScore {
  static override readonly schema = ModelScoreParams;
  static override readonly reference = "Wu, Dyer & Neyshabur, ICLR 2021, arXiv 2012.03107";

  async score(run: AtomicRun): Promise<ScoreResult> {
    const { dataset, subset, correct, iterations } = await this.correctness(run.runDir as string);
    const scores = firstIteration(correct, subset.size, iterations.length);
    return { subset, classNames: dataset.classNames, columns: { scores } };
  }
}
