import { AbstractScore, type AtomicRun, type ScoreResult } from "../abstract-score.js";
import { firstIteration } from "../math/correctness.js";
import { ModelScoreParams } from "../params.js";
import { correctnessMatrix } from "./iterations.js";

/**
 * FirstIteration: how late a sample is learnt for good, (T − L)/T with L the trailing run of
 * iterations that classify it correctly; 0 = learnt at the first evaluation, 1 = wrong at the last.
 * The "learned iteration" of Wu, Dyer & Neyshabur, "When Do Curricula Work?", ICLR 2021
 * (arXiv 2012.03107).
 */
export class FirstIteration extends AbstractScore {
  static override readonly schema = ModelScoreParams;
  static override readonly reference = "Wu, Dyer & Neyshabur, ICLR 2021, arXiv 2012.03107";

  async score(run: AtomicRun): Promise<ScoreResult> {
    const runDir = run.runDir as string;
    const { dataset } = await this.loadRun(runDir);
    const subset = dataset.subset(this.subsetName);
    const { correct, iterations } = await correctnessMatrix(
      this,
      runDir,
      (dir) => this.savedOrForwardLogits(runDir, dir),
      subset.labels,
      dataset.outputDim,
    );
    const scores = firstIteration(correct, subset.size, iterations.length);
    return { subset, classNames: dataset.classNames, columns: { scores } };
  }
}
