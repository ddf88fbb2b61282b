/**
 * Experiments: config composition, overrides, grids, filters, run naming, executors and
 * postprocessing, plus the library API that mirrors the CLI.
 */

export {
  applyFilters,
  type ComposeOptions,
  type ConfigRecord,
  cartesian,
  checkMandatory,
  composeGrid,
  type FilterSpec,
  findConfigFile,
  type GridPoint,
  isConfigGroup,
  isPartialCurriculum,
  listConfigNames,
  loadGroupConfig,
  readSweep,
} from "../config/compose.js";
export { type ExprValue, evaluateExpr, parseExpr } from "../config/expr.js";
export {
  AGGREGATION_KEYS,
  aggregatedName,
  aggregationDir,
  aggregationDirName,
  experimentDir,
  formatNumber,
  isAggregatedName,
  matchesAggregatedName,
  NAMING_KEYS,
  type NamingKey,
  namingField,
  parseRunName,
  runDir,
  runName,
  summaryDir,
  trainingDir,
  validateAggregation,
} from "../config/naming.js";
export {
  formatOverrideValue,
  type Override,
  parseOverride,
  parseOverrideValue,
  parseScalar,
  splitTopLevel,
  sweepParamValues,
} from "../config/overrides.js";
export { configSearchPath, PACKAGE_ROOT, PACKAGED_CONFIG_DIR, packageVersion } from "../config/package.js";
export { formatKey, type ParseOptions, parseConfig, parseRunConfig } from "../config/parse.js";
export * from "../config/schema.js";
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
  createExecutor,
  type Executor,
  type ExecutorEvents,
  InProcessExecutor,
  LocalProcessExecutor,
  type LocalProcessOptions,
} from "./executors/local.js";
export {
  aggregateConfigs,
  aggregateMetricRows,
  aggregateResults,
  checkExperiment,
  groupRuns,
  listRuns,
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
