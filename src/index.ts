/**
 * curricula's library API. Only the names exported here are public; docs/api.md documents each,
 * under the same headings as the banners below (this file is exempt from Biome's import sorting,
 * which would carry a banner with its first export: biome.json).
 *
 *   import { composeGrid, trainRun, score, study, AbstractScore, AbstractPace } from "curricula";
 */

// ── Experiments: the CLI's commands as functions ─────────────────────────────────────────────
export { rmFailed, rmStates } from "./experiments/cleanup.js";
export {
  type CreateOptions,
  create,
  type ListOptions,
  list,
  type ShowOptions,
  show,
} from "./experiments/configs.js";
export { writeDifficultyEvaluation } from "./experiments/by-difficulty.js";
export {
  type ComparedRun,
  type ComparisonOptions,
  type ComparisonRow,
  type ComputeRow,
  compareRuns,
  computeLine,
  verdictLine,
} from "./experiments/comparison.js";
export {
  type Executor,
  type ExecutorEvents,
  InProcessExecutor,
  LocalProcessExecutor,
  type ScoredId,
  type ScoreEvents,
  type ScoreSweep,
} from "./experiments/executors/local.js";
export { type FusionOptions, type FusionResult, fuse } from "./experiments/fusion.js";
export { type ImportOptions, type ImportResult, importRun, writeSplit } from "./experiments/import-run.js";
export {
  compareExperiment,
  type PostprocessOptions,
  type PostprocessResult,
  postprocess,
  postprocessExperiment,
} from "./experiments/postprocess.js";
export type { RunOutcome, RunSpec, RunStatus } from "./experiments/run-spec.js";
export {
  preprocess,
  type TrainCommandOptions,
  type TrainSummary,
  train,
} from "./experiments/train.js";

// ── Configs: composition, the run-config schema and run names ────────────────────────────────
export { type ComposeOptions, composeGrid, type GridPoint, loadGroupConfig } from "./config/compose.js";
export { runDir, scoreFile, trainingDir } from "./config/layout.js";
export { parseRunName, runName } from "./config/naming.js";
export { CURRICULUM_TYPES, type RunConfig, RunConfigSchema } from "./config/schema.js";

// ── Training ─────────────────────────────────────────────────────────────────────────────────
export { trainRun } from "./assembly/train-run.js";
export { checkpointDir, listIterations, readRunConfig } from "./results/run-folder.js";
export type { TrainCallback, TrainContext, TrainOptions, TrainResult } from "./training/types.js";

// ── Scoring ──────────────────────────────────────────────────────────────────────────────────
export { readScoreRows, type ScoreRows } from "./results/score-table.js";
export {
  AbstractScore,
  type AtomicRun,
  type FinalScores,
  type ScoreContext,
  type ScoreResult,
} from "./scoring/abstract-score.js";
export { BaseScoreParams, ModelScoreParams } from "./scoring/argument-schemas.js";
export { CurriculumScoreManager, type ScoreManagerConfig } from "./scoring/manager.js";
export { rankAndNormalize, type TieBreak } from "./scoring/math/rank.js";
export { SCORING_TYPES } from "./scoring/registry.js";
export { type NoiseDetection, noiseDetection } from "./scoring/math/noise-detection.js";
export { type RobustnessCard, robustnessOf } from "./scoring/robustness.js";
export { type ScoreOptions, score } from "./scoring/score.js";

// ── Curricula: pacing functions, orderings, the sampler ──────────────────────────────────────
export { CurriculumSampler } from "./curriculum/curriculum-sampler.js";
export { difficultyOrder } from "./curriculum/ordering.js";
export { createCurriculumCallback } from "./curriculum/pace-manager.js";
export { AbstractPace, type PaceOptions } from "./curriculum/pacing/abstract-pace.js";
export {
  AbstractSampler,
  type PassInfo,
  type SamplerOutputs,
  type SamplerSetup,
} from "./curriculum/sampling/abstract-sampler.js";
export { InfoBatch } from "./curriculum/sampling/info-batch.js";
export { Pools, poolAssignment, poolQuotas } from "./curriculum/sampling/pools.js";
export { SelfPaced, selfPacedPass } from "./curriculum/sampling/self-paced.js";
export { StaticPrune, staticPruneKept } from "./curriculum/sampling/static-prune.js";
export { DYNAMIC_SAMPLERS, registerSampler } from "./curriculum/sampling/registry.js";
export { createPacing, PACING_TYPES } from "./curriculum/pacing/registry.js";
export { summarizePace } from "./experiments/pace-summary.js";

// ── Study and report ─────────────────────────────────────────────────────────────────────────
export { barChart, heatmap, histogram, lineChart } from "./plots/charts.js";
export { renderPlot, type VegaLiteSpec } from "./plots/render.js";
export { type ReportOptions, writeReport } from "./report/report.js";
export { type StudyOptions, study } from "./study/index.js";

// ── Data, models and engines ─────────────────────────────────────────────────────────────────
// The package's createDataset reads the review tags a config names (dataset.exclude, dataset.relabel).
export { createRunDataset as createDataset } from "./assembly/review.js";
export { DATASET_TYPES, datasetKeys, preprocessDataset } from "./data/index.js";
export {
  drawLabelNoise,
  LABEL_NOISE_KINDS,
  type LabelNoiseConfig,
  type LabelNoiseKind,
  labelNoiseRows,
  parseLabelNoise,
  withLabelNoise,
} from "./data/label-noise.js";
export type { Dataset, LabelNoise, Subset, SubsetName } from "./data/types.js";
export { createNetwork, initEngine, loadNetwork } from "./engine/index.js";
export type { ForwardOptions, ForwardResult, Network, OptimizerSpec } from "./engine/types.js";
export type { LayerDescription, ModelDescription, NetworkSpec } from "./models/description.js";
export { describeModel, MODEL_TYPES } from "./models/index.js";

// ── Utilities ────────────────────────────────────────────────────────────────────────────────
export { ConfigError, CurriculaError, DataError, UsageError } from "./util/errors.js";
export { loadNpy, type Npy, saveNpy } from "./util/npy.js";
export { comparePaired, type PairedComparison, type PairedOptions } from "./util/paired.js";
export { Rng, type RngState } from "./util/rng.js";
