/**
 * Experiments: config composition, overrides, grids, filters, run naming, executors and
 * postprocessing, plus the library API that mirrors the CLI.
 */

export {
  CONFIG_GROUPS,
  type ConfigListing,
  type CreateOptions,
  create,
  ENTRY_CONFIGS,
  findFailedRuns,
  findStateFiles,
  formatListing,
  globToRegExp,
  type ListOptions,
  list,
  postprocess,
  preprocess,
  type RmStatesOptions,
  removeRuns,
  rmFailed,
  rmStates,
  type ShowOptions,
  STATE_FILES,
  show,
  type TrainCommandOptions,
  type TrainSummary,
  train,
} from "./api.js";
export {
  DIFFICULTY_QUANTILES,
  type DifficultyRow,
  type DifficultyScore,
  evaluateByDifficulty,
  hardestPositions,
  readDifficultyScore,
  writeDifficultyEvaluation,
} from "./by-difficulty.js";
export {
  createExecutor,
  type Executor,
  type ExecutorEvents,
  InProcessExecutor,
  LocalProcessExecutor,
  type LocalProcessOptions,
} from "./executors/local.js";
export {
  baselineRuns,
  type FusedMetrics,
  type FusionOptions,
  type FusionResult,
  fuse,
  fusedMetrics,
  isBaselineRun,
  meanProbabilities,
  readTestOutputs,
  type TestOutputs,
} from "./fusion.js";
export {
  aggregateConfigs,
  aggregateMetricRows,
  aggregateResults,
  checkExperiment,
  groupRuns,
  type PlotRenderer,
  type PostprocessOptions,
  type PostprocessResult,
  postprocessExperiment,
  type RunRecord,
  readRunRecord,
  trainingCurveSpec,
  writeSummaryTables,
} from "./postprocess.js";
export {
  acquireLock,
  describeError,
  type ExecuteOptions,
  executeSpec,
  lockPath,
  type RunOutcome,
  type RunSpec,
  type RunStatus,
  type TrainFunction,
} from "./run-spec.js";
