/**
 * Difficulty scores: the scoring functions, their shared base, ranking, ensembles, correlation and
 * the score manager that runs a scoring config end to end.
 */

export {
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  applyPooling,
  type PoolPlan,
  planPooling,
} from "../engine/pooling.js";
export {
  AbstractScore,
  type AtomicRun,
  type FinalScores,
  type LoadedRun,
  type ScoreContext,
  type ScoreParams,
  type ScoreResult,
  toRows,
} from "./abstract-score.js";
export { BaseScoreParams, describeParams, ModelScoreParams, parseScoreParams } from "./argument-schemas.js";
export {
  listScoreFiles,
  type MatrixResult,
  type MatrixSelection,
  type ScoreFile,
  writeCorrelationMatrix,
} from "./correlation-matrix.js";
export { AUM } from "./functions/aum.js";
export { averageColumns } from "./functions/average-columns.js";
export { Cartography } from "./functions/cartography.js";
export { CELoss } from "./functions/ce-loss.js";
export { ConfidentLearning } from "./functions/confident-learning.js";
export { CumulativeAccuracy } from "./functions/cumulative-accuracy.js";
export { CVLoss, type CvFold, cvFold, expandSetup } from "./functions/cv-loss.js";
export { EL2N } from "./functions/el2n.js";
export { FirstIteration } from "./functions/first-iteration.js";
export { Forgetting } from "./functions/forgetting.js";
export { GraNd } from "./functions/grand.js";
export { OnlineLoss } from "./functions/online-loss.js";
export { PassRate } from "./functions/pass-rate.js";
export { Predefined } from "./functions/predefined.js";
export { PredictionDepth, predictionDepth } from "./functions/prediction-depth.js";
export { RandomScore } from "./functions/random.js";
export { TransferTeacher } from "./functions/transfer-teacher.js";
export {
  CurriculumScoreManager,
  type ScoreManagerConfig,
  type ScoreManagerOptions,
  type ScorePostprocessResult,
} from "./manager.js";
export {
  CORRELATION_METHODS,
  type CorrelationMethod,
  correlation,
  correlationMatrix,
  kendallTauB,
} from "./math/correlation.js";
export {
  type CartographyStats,
  type ConfidentJoint,
  cartography,
  confidentJoint,
  dataMapRegions,
  grandLastLayer,
  REGIONS,
  type Region,
} from "./math/dynamics.js";
export { complement, crossValidationFolds } from "./math/folds.js";
export { type KnnOptions, knnPredict } from "./math/knn/index.js";
export { rankAndNormalize, type TieBreak, type TieStatistics, tieStatistics } from "./math/rank.js";
export { isPlaceholderScoring, resolveScoreClass, SCORING_TYPES, type ScoreClass } from "./registry.js";
export {
  bootstrapResamples,
  disjointPairs,
  type EnsembleSizeRow,
  ensembleSizeCurve,
  type RobustnessCard,
  type RobustnessOptions,
  resampledMeanSpearman,
  robustnessOf,
  writeRobustness,
} from "./robustness.js";
export { type ResolvedRun, resolveTrainingRuns } from "./runs.js";
export { type ScoreOptions, score } from "./score.js";
