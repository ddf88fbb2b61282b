// A custom scoring function: the model's confidence (maximum softmax probability) at a checkpoint.
// Confident predictions are easy, so high scores rank first (reverseScore = true).
// Use it from conf/curriculum/scoring/MaxProbability.yaml (module + class), see
// docs/tutorials/custom-score.md.
import { AbstractScore, ModelScoreParams } from "curricula";

/** Per-row maximum of the softmax of N × C logits. */
export function maxSoftmax(logits, numClasses) {
  const n = logits.length / numClasses;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * numClasses, (i + 1) * numClasses);
    const max = Math.max(...row);
    let sum = 0;
    for (const z of row) sum += Math.exp(z - max);
    out[i] = 1 / sum; // exp(max - max) / sum
  }
  return out;
}

export class MaxProbability extends AbstractScore {
  // The constructor arguments (run_name, stop, subset, tie_break, tie_break_seed), validated.
  static schema = ModelScoreParams;
  static reference = "maximum softmax probability (Hendrycks & Gimpel, ICLR 2017, arXiv 1610.02136)";
  reverseScore = true;

  // preprocess() is inherited: one atomic run per training run in run_name (ensembles work).
  async score(run) {
    const { config, dataset } = await this.loadRun(run.runDir);
    const subset = dataset.subset(this.subsetName);
    const network = await this.loadNetwork(this.checkpoint(run.runDir));
    try {
      const logits = await this.logitsOf(network, subset, this.batchSizeFor(config));
      return {
        subset,
        classNames: dataset.classNames,
        columns: { scores: maxSoftmax(logits, dataset.outputDim) },
      };
    } finally {
      network.dispose();
    }
  }
}
