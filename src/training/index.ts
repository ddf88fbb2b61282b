/**
 * The trainer and the run folder: training runs that scoring can read. The trainer is handed a
 * built run (src/assembly builds it from the config); it imports no curriculum code.
 */

export {
  balancedClassWeights,
  type CriterionName,
  countClasses,
  criterionClassWeights,
  perSampleCrossEntropy,
  reduceLosses,
} from "./criteria.js";
export {
  areaUnderMargin,
  cumulativeAccuracy,
  firstIteration,
  forgettingEvents,
  meanOverEvaluations,
  stackCorrectness,
} from "./measures/dynamics.js";
export {
  correctFromLogits,
  el2n,
  labelProbabilities,
  logitMargins,
  mistakenness,
  softmaxEntropy,
  softmaxRows,
} from "./measures/logits.js";
export { averageRanks, pearson, spearman } from "./measures/ranks.js";
export {
  accuracy,
  argmaxRows,
  computeMetrics,
  isImprovement,
  METRIC_NAMES,
  type MetricName,
  macroF1,
  unweightedAverageRecall,
} from "./metrics.js";
export { forwardSubset, scoreOutputs } from "./outputs.js";
export {
  configDifferences,
  inspectRunFolder,
  type RunFolderState,
  type TrainerState,
} from "./resume.js";
export {
  cosineLr,
  countEvaluations,
  createSchedule,
  type LearningRateSchedule,
  stepLr,
} from "./schedulers.js";
export { restrictSubset, ShufflePassSampler } from "./shuffle-sampler.js";
export { runTrainer, type TrainerSetup } from "./trainer.js";
export type {
  MetricValues,
  PassSampler,
  TrainCallback,
  TrainContext,
  TrainOptions,
  TrainResult,
} from "./types.js";
