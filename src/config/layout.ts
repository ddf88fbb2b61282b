/**
 * The results tree: every folder and file name curricula writes under `<results_dir>` is spelled
 * here, once. Writers and readers (src/results/) both use these names, so they cannot drift apart.
 *
 * ```
 * <results_dir>/<experiment_id>/
 *   training/<run_name>/            one run folder (RUN_FILES; epoch_N/ or step_N/ per evaluation)
 *   curriculum/<type>/<id>.csv      a final score file (scoreFile), its card <id>.yaml
 *   curriculum/<type>/<run>/        one atomic score run (SCORE_RUN_FILES)
 *   curriculum/<a>_<b>.csv          correlation matrices (correlationFile)
 *   curriculum/<type>/_robustness/  seed robustness curves (<id>_ensemble_size.csv, ensembleSizeFile)
 *   curriculum/<type>/mappings.yaml which atomic runs each score id is made of (SCORE_MAPPINGS_FILE)
 *   curriculum/<type>/_replaced/    the files of score ids recomputed with --force (SCORE_REPLACED_DIR)
 *   summary/                        postprocess (SUMMARY_FILES)
 *   fusion/<id>/                    late fusion of runs' test outputs (FUSION_FILES)
 *   agg_<keys>/<name with #>/       aggregated runs (run files + runs.yaml)
 *   study/                          the study's state and generated configs (STUDY_FILES)
 *   review/tags.csv                 a person's review tags of samples (reviewTagsFile)
 *   report.html
 * ```
 */
import { join } from "node:path";
import { checkPathId } from "../util/path-safety.js";

/** Files and folders of one training run folder. */
export const RUN_FILES = {
  config: "config.yaml",
  metrics: "metrics.csv",
  log: "training.log",
  timer: "timer.yaml",
  /**
   * Wall-clock training seconds at each evaluation (iteration, samples_seen, train_seconds). Kept
   * apart from metrics.csv so that stays a deterministic function of the config and seed.
   */
  timing: "timing.csv",
  hardware: "hardware.yaml",
  /** The network for PyTorch users: architecture, class names in code order, layers (python/curricula_models.py). */
  model: "model.yaml",
  devYaml: "dev.yaml",
  bestResults: "best_results.yaml",
  testHolistic: "test_holistic.yaml",
  trainerState: "trainer_state.json",
  /** SHA-256 of a checkpoint's files (model, optimiser, trainer state, the `_best/` it restores); checked on resume. */
  checksums: "checksums.json",
  pace: "pace.csv",
  /**
   * A curriculum run with `curriculum.rescore_every`: one row per re-scoring (iteration, evaluation,
   * the snapshot it is compared with, their Spearman correlation).
   */
  scoreDrift: "score_drift.csv",
  /** A run's own plots (pace, score drift), as `<name>.svg` and `<name>.png`. */
  plots: "_plots",
  /**
   * A dynamic sampler's counts at each evaluation (`iteration`, then the keys of its `record()`,
   * e.g. the Pools sampler's pool sizes); only for a sampler that records any (src/results/sampler-log.ts).
   */
  samplerLog: "sampler.csv",
  /** Members of an aggregated run. */
  runs: "runs.yaml",
  best: "_best",
  test: "_test",
  /** Hard links to `_best` as of the last checkpoint; lets a resumed run restore `_best`. Removed when the run finishes. */
  resume: ".resume",
  /** aucurriculum/autrainer keep the resolved config here. */
  hydraConfig: join(".hydra", "config.yaml"),
  /** A curriculum run's score file and its fingerprint, as trained on. */
  curriculumScore: "curriculum_score.yaml",
  /** The train labels a run's `dataset.label_noise` changed: position, source index, original and noisy label. */
  labelNoise: "label_noise.csv",
  /**
   * In each `epoch_N/`/`step_N/` and `_best/`: the trainer's online difficulty trackers of every
   * train sample up to that evaluation (attempts, correct, forgetting, pass_rate, ema_loss), from
   * the training steps' own forward passes (src/results/tracker-table.ts).
   */
  trackers: "train_trackers.csv",
} as const;

/** Model and optimiser files inside `_best/`, `epoch_N/` or `step_N/`. */
export const MODEL_FILES = {
  /** Weights and buffers, PyTorch names and layouts (written by both engines; src/engine/checkpoint.ts). */
  model: "model.safetensors",
  /** Optimiser slots, torch.optim names. */
  optimizer: "optimizer.safetensors",
  /** Older runs (TensorFlow.js layers format), still read. */
  legacyModel: "model.json",
  legacyWeights: "weights.bin",
  legacyOptimizer: "optimizer.json",
  legacyOptimizerWeights: "optimizer.bin",
} as const;

export type OutputSubset = "train" | "dev" | "test";
export type OutputKind = "outputs" | "targets" | "indices" | "losses";

/** `<subset>_<kind>.npy`: per-sample outputs saved at an evaluation. */
export function outputFile(subset: OutputSubset, kind: OutputKind): string {
  return `${subset}_${kind}.npy`;
}

export type TrainingType = "epoch" | "step";

/** `epoch_N` or `step_N`. */
export function iterationDirName(trainingType: TrainingType, iteration: number): string {
  return `${trainingType}_${iteration}`;
}

const ITERATION_DIR = /^(epoch|step)_(\d+)$/;

/** Parses `epoch_N`/`step_N`; null for any other name. */
export function parseIterationDirName(
  name: string,
): { trainingType: TrainingType; iteration: number } | null {
  const m = ITERATION_DIR.exec(name);
  return m ? { trainingType: m[1] as TrainingType, iteration: Number(m[2]) } : null;
}

/** Files of one atomic score run (`curriculum/<type>/<run>/`) and of a score folder. */
export const SCORE_RUN_FILES = {
  scores: "scores.csv",
  score: "score.yaml",
  config: "config.yaml",
  timer: "timer.yaml",
  /** Fingerprints of the files the atomic run was computed from (its training run's outputs). */
  inputs: "inputs.yaml",
} as const;

/**
 * `embeddings_<probe>.npy` in an atomic PredictionDepth run's folder (with `save_embeddings`): probe
 * `probe`'s pooled outputs, one row per scored sample (src/results/probe-embeddings.ts).
 */
export function probeEmbeddingsFile(probe: number): string {
  return `embeddings_${probe}.npy`;
}

/** `curriculum/<type>/_replaced/`: where `--force` keeps the files of a score id it recomputes. */
export const SCORE_REPLACED_DIR = "_replaced";

/** `curriculum/<type>/mappings.yaml`: which atomic runs each score id is made of. */
export const SCORE_MAPPINGS_FILE = "mappings.yaml";

/** Files written by postprocess into `summary/`. */
export const SUMMARY_FILES = {
  metrics: "metrics.csv",
  config: "config.csv",
  bestRuns: "best_runs.yaml",
  pace: "pace.csv",
  /** Metrics per difficulty quantile of chosen scores. */
  difficulty: "difficulty.csv",
  /** Paired comparisons of conditions over seeds (experiments/comparison.ts). */
  comparison: "comparison.csv",
  /** Samples seen until each condition's dev metric reaches the reference's best, as a ratio. */
  compute: "compute.csv",
  plots: "plots",
  curriculumPlots: join("plots", "curriculum_plots"),
} as const;

export const STUDY_FILES = {
  dir: "study",
  state: join("study", "state.yaml"),
  conf: join("study", "conf"),
} as const;

export const REPORT_FILE = "report.html";

/** `review/`: what a person decided about samples while looking at the results (REVIEW_FILES). */
export const REVIEW_FILES = {
  dir: "review",
  /** One row per tagged sample: source_index, tag, new_label, time (src/results/review-tags.ts). */
  tags: join("review", "tags.csv"),
} as const;

/** `<results_dir>/<experiment_id>/review/tags.csv`: the review tags of an experiment's samples. */
export function reviewTagsFile(resultsDir: string, experimentId: string): string {
  return join(experimentDir(resultsDir, experimentId), REVIEW_FILES.tags);
}

/** Files whose name marks a half-written atomic folder or file (`<name>.tmp-<pid>-…`). */
export function isTemporaryName(name: string): boolean {
  return name.includes(".tmp-");
}

/** `<results_dir>/<experiment_id>`. */
export function experimentDir(resultsDir: string, experimentId: string): string {
  return join(resultsDir, checkPathId("experiment_id", experimentId));
}

/** `<results_dir>/<experiment_id>/training`. */
export function trainingDir(resultsDir: string, experimentId: string): string {
  return join(experimentDir(resultsDir, experimentId), "training");
}

/** `<results_dir>/<experiment_id>/training/<run_name>`. */
export function runDir(resultsDir: string, experimentId: string, name: string): string {
  return join(trainingDir(resultsDir, experimentId), checkPathId("run name", name));
}

/** `<results_dir>/<experiment_id>/summary`. */
export function summaryDir(resultsDir: string, experimentId: string): string {
  return join(experimentDir(resultsDir, experimentId), "summary");
}

/** Folder name of an aggregation: `agg_<keys joined by _>`. */
export function aggregationDirName(keys: readonly string[]): string {
  return `agg_${keys.join("_")}`;
}

export const AGGREGATION_PREFIX = "agg_";

/** Folder of scores and their correlations inside an experiment. */
export const CURRICULUM_DIRNAME = "curriculum";

/** `<results_dir>/<experiment_id>/curriculum`: scores and their correlations. */
export function curriculumDir(resultsDir: string, experimentId: string): string {
  return join(experimentDir(resultsDir, experimentId), CURRICULUM_DIRNAME);
}

/**
 * The folder of a scoring function's results: its `type` (e.g. `CELoss`), or the id when the
 * config has no type (a custom score). The one rule for where score files live.
 */
export function scoreTypeDir(
  resultsDir: string,
  experimentId: string,
  scoring: { type?: string | null; id: string },
): string {
  const typed = Boolean(scoring.type && scoring.type !== "None");
  const folder = typed ? String(scoring.type) : scoring.id;
  checkPathId(typed ? "curriculum.scoring.type" : "curriculum.scoring.id", folder);
  return join(curriculumDir(resultsDir, experimentId), folder);
}

/** `curriculum/<type>/<id>.csv`: the final score file a curriculum run trains with. */
export function scoreFile(
  resultsDir: string,
  experimentId: string,
  scoring: { type?: string | null; id: string },
): string {
  const id = checkPathId("curriculum.scoring.id", scoring.id);
  return join(scoreTypeDir(resultsDir, experimentId, scoring), `${id}.csv`);
}

/** The card beside a score file: `<id>.yaml` for `<id>.csv`. */
export function scoreCardFile(scoreCsv: string): string {
  return scoreCsv.replace(/\.csv$/, ".yaml");
}

/** `curriculum/<name>.csv` in an experiment's {@link curriculumDir}: a correlation matrix over score files. */
export function correlationFile(curriculumFolder: string, name: string): string {
  return join(curriculumFolder, `${checkPathId("correlation", name)}.csv`);
}

/** `curriculum/<type>/_robustness/<id>_ensemble_size.csv` (plot: same base with .svg/.png). */
export function ensembleSizeFile(scoreTypeFolder: string, scoreId: string): string {
  return join(scoreTypeFolder, "_robustness", `${scoreId}_ensemble_size.csv`);
}

/** Files of one late fusion, `fusion/<id>/`. */
export const FUSION_FILES = {
  testHolistic: RUN_FILES.testHolistic,
  card: "fusion.yaml",
  probabilities: "test_probabilities.npy",
  targets: "test_targets.npy",
  indices: "test_indices.npy",
} as const;

/** `<results_dir>/<experiment_id>/fusion`: late fusions, one folder each. */
export function fusionRoot(resultsDir: string, experimentId: string): string {
  return join(experimentDir(resultsDir, experimentId), "fusion");
}
