import { existsSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { parse, stringify } from "yaml";
import { diffConfigs } from "../config/diff.js";
import { curriculumDir, SCORE_MAPPINGS_FILE, SCORE_RUN_FILES, scoreTypeDir } from "../config/layout.js";
import { upgradeSavedConfig } from "../config/schema.js";
import { renderPlot, type VegaLiteSpec } from "../plots/render.js";
import { writeScoreRows } from "../results/score-table.js";
import { ensureDir } from "../util/dirs.js";
import { ConfigError, UsageError } from "../util/errors.js";
import { writeLine } from "../util/progress.js";
import { readYaml, writeYaml } from "../util/yaml-io.js";
import type { AbstractScore, AtomicRun, ScoreContext } from "./abstract-score.js";
import { type MatrixResult, type MatrixSelection, writeCorrelationMatrix } from "./correlation-matrix.js";
import { CORRELATION_METHODS, type CorrelationMethod } from "./math/correlation.js";
import { tieStatistics } from "./math/rank.js";
import { plotScore } from "./plots.js";
import { isPlaceholderScoring, resolveScoreClass } from "./registry.js";
import { type RobustnessOptions, writeRobustness } from "./robustness.js";

/** The resolved scoring config (`conf/curriculum.yaml` + overrides, one sweep point). */
export interface ScoreManagerConfig {
  results_dir: string;
  experiment_id: string;
  /** Forward-pass batch size; default the run's inference batch size. */
  batch_size?: number | null;
  progress_bar?: boolean;
  curriculum: { scoring: Record<string, unknown> };
  /** `{<matrix name>: all | [score ids]}`; null = no matrix. */
  correlation?: Record<string, MatrixSelection> | null;
  /** Correlation of the matrices (default spearman). */
  correlation_method?: CorrelationMethod;
  /** Per-score plots (default true). */
  plots?: boolean;
  /** Seed robustness of scores with two or more runs (default on; null turns it off). */
  robustness?: { bootstrap?: number; seed?: number; max_pairs?: number } | null;
}

export interface ScoreManagerOptions {
  /** Local config folder (`-cp`). */
  configPath?: string;
  /** Folder custom score modules are resolved against. */
  cwd?: string;
  log?: (line: string) => void;
}

export interface ScorePostprocessResult {
  scoreFile: string;
  card: string;
  plots: string[];
  matrices: MatrixResult[];
}

/**
 * Keys of score.yaml that do not change an atomic run's result (ignored when reusing it);
 * `dataset_seed` of earlier versions is compared through config.yaml (as the dataset's split_seed).
 */
const RUN_INDEPENDENT = new Set([
  "id",
  "run_name",
  "model",
  "setup",
  "cvloss",
  "tie_break",
  "tie_break_seed",
  "knn_threads",
  "dataset_seed",
]);

/**
 * An atomic run's saved config.yaml as this version writes it: a training run's config gets its
 * dataset's split_seed (upgradeSavedConfig); the config of a score built without a training run
 * (Random, Predefined, TransferTeacher) had a `dataset_seed`, which was that split seed.
 */
export function upgradeSavedScoreConfig(raw: unknown): unknown {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const config = { ...(raw as Record<string, unknown>) };
  if (config.model && typeof config.model === "object" && "dataset" in (config.model as object)) {
    config.model = upgradeSavedConfig(config.model); // TransferTeacher: the teacher run's config
  }
  if (!("dataset_seed" in config)) return upgradeSavedConfig(config);
  const { dataset_seed: seed, ...rest } = config;
  const dataset = rest.dataset;
  if (dataset && typeof dataset === "object" && !Array.isArray(dataset) && !("split_seed" in dataset)) {
    rest.dataset = { ...dataset, split_seed: seed };
  }
  return rest;
}

/**
 * Runs one scoring config end to end (aucurriculum `CurriculumScoreManager`): `preprocess()` lists the
 * atomic runs and writes their configs and `mappings.yaml`, `run()` scores each (reusing a finished
 * one whose saved configs match), `postprocess()` combines them into `<id>.csv` with ranks, a card,
 * plots and correlation matrices.
 */
export class CurriculumScoreManager {
  readonly outputDirectory: string;
  private runs: AtomicRun[] | null = null;
  private readonly log: (line: string) => void;

  private constructor(
    readonly config: ScoreManagerConfig,
    readonly scoring: AbstractScore,
    outputDirectory: string,
    log: (line: string) => void,
  ) {
    this.outputDirectory = outputDirectory;
    this.log = log;
  }

  /** Validates the config and builds its scoring function (importing a custom module if named). */
  static async create(
    config: ScoreManagerConfig,
    options: ScoreManagerOptions = {},
  ): Promise<CurriculumScoreManager> {
    const scoringConfig = config.curriculum?.scoring;
    if (isPlaceholderScoring(scoringConfig)) throw new UsageError("No scoring function provided.");
    const method = config.correlation_method ?? "spearman";
    if (!CORRELATION_METHODS.includes(method)) {
      throw new ConfigError(
        "correlation_method",
        `must be one of ${CORRELATION_METHODS.join(", ")}, got '${method}'`,
      );
    }
    const outputDirectory = scoreTypeDir(config.results_dir, config.experiment_id, {
      type: typeof scoringConfig.type === "string" ? scoringConfig.type : undefined,
      id: String(scoringConfig.id),
    });
    const log = options.log ?? writeLine;
    const context: ScoreContext = {
      outputDirectory,
      resultsDir: config.results_dir,
      experimentId: config.experiment_id,
      batchSize: config.batch_size ?? null,
      progress: config.progress_bar ?? true,
      configPath: options.configPath,
      log,
    };
    const cls = await resolveScoreClass(scoringConfig, options.cwd);
    const scoring = new cls(scoringConfig, context, `curriculum/scoring/${String(scoringConfig.id)}`);
    return new CurriculumScoreManager(config, scoring, outputDirectory, log);
  }

  get scoreId(): string {
    return String(this.config.curriculum.scoring.id);
  }

  /**
   * Atomic runs, and mappings.yaml. An atomic run's folder is written only when it is scored
   * (`run`): its config.yaml and score.yaml, then scores.csv, so a folder never holds configs
   * without scores.
   */
  async preprocess(): Promise<AtomicRun[]> {
    // Atomic runs scoring another subset than train get their own folders (`…_dev`, `…_test`).
    const subset = this.scoring.subsetName;
    const runs = (await this.scoring.preprocess()).map((r) =>
      subset === "train" ? r : { ...r, name: `${r.name}_${subset}` },
    );
    const mappingsPath = join(this.outputDirectory, SCORE_MAPPINGS_FILE);
    const mappings = existsSync(mappingsPath) ? (readYaml<Record<string, string[]>>(mappingsPath) ?? {}) : {};
    mappings[this.scoreId] = runs.map((r) => r.name);
    writeYaml(mappingsPath, mappings);
    this.runs = runs;
    return runs;
  }

  /**
   * Scores one atomic run unless its scores.csv exists; an existing result made from another config
   * is an error (delete its folder to recompute). Returns whether it was skipped.
   */
  async run(run: AtomicRun): Promise<{ skipped: boolean }> {
    const dir = join(this.outputDirectory, run.name);
    if (existsSync(join(dir, SCORE_RUN_FILES.scores))) {
      this.checkSaved(run, dir);
      this.log(`Skipping ${run.name}: scores.csv exists`);
      return { skipped: true };
    }
    this.log(`Scoring ${run.name}`);
    const created = !existsSync(dir);
    try {
      await this.scoring.run(run, (target) => {
        ensureDir(target);
        writeYaml(join(target, SCORE_RUN_FILES.config), run.config);
        writeYaml(join(target, SCORE_RUN_FILES.score), this.config.curriculum.scoring);
      });
    } catch (error) {
      // Nothing half-written stays behind (unless the folder holds resumable training).
      if (created && !this.scoring.keepsFolderOnFailure) rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return { skipped: false };
  }

  private checkSaved(run: AtomicRun, dir: string): void {
    const roundTrip = (v: unknown) => parse(stringify(v)) as unknown;
    const differences = [
      ...diffConfigs(
        upgradeSavedScoreConfig(readYaml(join(dir, SCORE_RUN_FILES.config))),
        roundTrip(run.config),
      ).map((d) => `config.yaml: ${d}`),
      ...diffConfigs(
        withoutKeys(readYaml(join(dir, SCORE_RUN_FILES.score))),
        withoutKeys(roundTrip(this.config.curriculum.scoring)),
      ).map((d) => `score.yaml: ${d}`),
    ];
    if (differences.length > 0) {
      throw new ConfigError(
        "curriculum.scoring",
        `${dir} holds scores of a different config; delete the folder to recompute. Differences:\n  ${differences.join("\n  ")}`,
      );
    }
  }

  /** Writes `<id>.csv` (ranks), the card `<id>.yaml`, plots and correlation matrices. */
  async postprocess(
    scoreId = this.scoreId,
    correlation = this.config.correlation,
  ): Promise<ScorePostprocessResult> {
    const runs = this.runs ?? (await this.preprocess());
    const started = performance.now();
    const final = this.scoring.postprocess(scoreId, runs);
    const ranks = this.scoring.rank(final.mean);
    final.rows.columns.set("mean", final.mean);
    final.rows.columns.set("ranks", ranks);
    const scoreFile = join(this.outputDirectory, `${scoreId}.csv`);
    writeScoreRows(scoreFile, final.rows, ["mean", "ranks"]);
    const card = join(this.outputDirectory, `${scoreId}.yaml`);
    const robustness =
      this.config.robustness === null
        ? null
        : await writeRobustness(this.scoring, scoreId, runs, this.outputDirectory, {
            ...robustnessOptions(this.config.robustness),
            plot: this.config.plots !== false,
          });
    const p = this.scoring.params;
    const cls = this.scoring.constructor as typeof AbstractScore;
    writeYaml(card, {
      id: scoreId,
      type: basename(this.outputDirectory),
      reference: cls.reference,
      subset: p.subset,
      stop: p.stop ?? null,
      reverse: this.scoring.reverseScore,
      tie_break: p.tie_break,
      samples: final.mean.length,
      runs: runs.map((r) => r.name),
      training_runs: [...new Set(runs.flatMap((r) => (r.runDir ? [basename(r.runDir)] : [])))],
      ties: tieStatistics(final.mean),
      ...(final.card ?? {}),
      ...(robustness ? { robustness: robustness.card } : {}),
      time_seconds: round(
        runs.reduce((s, r) => s + runSeconds(join(this.outputDirectory, r.name)), 0) +
          (performance.now() - started) / 1000,
      ),
      created: new Date().toISOString(),
    });
    const plots =
      this.config.plots === false
        ? []
        : await plotScore(
            join(this.outputDirectory, "_plots", scoreId),
            scoreId,
            final.mean,
            ranks,
            final.rows.decoded,
          );
    if (this.config.plots !== false) {
      for (const [name, spec] of Object.entries(final.plots ?? {})) {
        const base = join(this.outputDirectory, "_plots", scoreId, name);
        await renderPlot(spec as unknown as VegaLiteSpec, base);
        plots.push(base);
      }
    }
    const matrices: MatrixResult[] = [];
    const matrixDir = curriculumDir(this.config.results_dir, this.config.experiment_id);
    for (const [name, selection] of Object.entries(correlation ?? {})) {
      const result = await writeCorrelationMatrix(
        matrixDir,
        name,
        selection,
        this.config.correlation_method ?? "spearman",
        {
          anchor: scoreId,
          plot: this.config.plots !== false,
        },
      );
      if (result?.skipped.length)
        this.log(`${name}: left out ${result.skipped.join(", ")} (they rank other samples)`);
      if (result) matrices.push(result);
    }
    return { scoreFile, card, plots, matrices };
  }

  /** preprocess → run every atomic run → postprocess. */
  async execute(): Promise<ScorePostprocessResult> {
    for (const run of await this.preprocess()) await this.run(run);
    return this.postprocess();
  }
}

function robustnessOptions(config: ScoreManagerConfig["robustness"]): RobustnessOptions {
  return { bootstrap: config?.bootstrap, seed: config?.seed, maxPairs: config?.max_pairs };
}

function withoutKeys(value: unknown): unknown {
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).filter(([k]) => !RUN_INDEPENDENT.has(k)),
  );
}

function runSeconds(dir: string): number {
  const path = join(dir, SCORE_RUN_FILES.timer);
  if (!existsSync(path)) return 0;
  const timer = readYaml<Record<string, unknown>>(path);
  return typeof timer?.total_seconds === "number" ? timer.total_seconds : 0;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
