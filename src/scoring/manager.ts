import { existsSync, readdirSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { parse, stringify } from "yaml";
import { diffConfigs } from "../config/diff.js";
import {
  curriculumDir,
  RUN_FILES,
  SCORE_REPLACED_DIR,
  SCORE_RUN_FILES,
  scoreTypeDir,
} from "../config/layout.js";
import { upgradeSavedConfig } from "../config/schema.js";
import { renderPlot, type VegaLiteSpec } from "../plots/render.js";
import { recordScoreMapping } from "../results/score-mappings.js";
import { describeNonFinite, nonFiniteCells, readScoreRows, writeScoreRows } from "../results/score-table.js";
import { removeStaleTemporaries } from "../util/atomic.js";
import { ensureDir } from "../util/dirs.js";
import { ConfigError, CurriculaError, DataError, UsageError } from "../util/errors.js";
import { fingerprintFiles, textSha256 } from "../util/fingerprint.js";
import { acquireLock, removeStaleLock } from "../util/lock.js";
import { checkPathId, moveInsideResults, removeInsideResults } from "../util/path-safety.js";
import { writeLine } from "../util/progress.js";
import { readYaml, writeYaml } from "../util/yaml-io.js";
import type { AbstractScore, AtomicRun, ScoreContext } from "./abstract-score.js";
import { type MatrixResult, type MatrixSelection, writeCorrelationMatrix } from "./correlation-matrix.js";
import { labelNoiseCard } from "./label-noise-card.js";
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
  /**
   * Recompute a score id whose existing files were made from another config or other inputs
   * (refused otherwise); the old files are kept under `<type>/_replaced/<id>-<time>/`.
   */
  force?: boolean;
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

/** Scoring config keys that change nothing in a score's values (left out of its provenance). */
const RESULT_NEUTRAL = new Set(["knn_threads"]);

/** What a score id was made of: its config and, per atomic run, the fingerprint of its inputs. */
export interface ScoreProvenance {
  config: Record<string, unknown>;
  runs: Record<string, string>;
}

/**
 * Runs one scoring config end to end (aucurriculum `CurriculumScoreManager`): `preprocess()` lists the
 * atomic runs, `run()` scores each (reusing a finished one whose saved configs and inputs match),
 * `postprocess()` combines them into `<id>.csv` with ranks, a card with the score's provenance,
 * plots and correlation matrices, and then records the id in `mappings.yaml`. A score id made from
 * another config or other inputs is never recomputed over silently: that is refused unless
 * `force`, which keeps the old files aside.
 */
export class CurriculumScoreManager {
  readonly outputDirectory: string;
  private runs: AtomicRun[] | null = null;
  private readonly log: (line: string) => void;
  private readonly force: boolean;
  /** Where `force` put the files it replaced (made on first use). */
  private replacedDir: string | null = null;

  private constructor(
    readonly config: ScoreManagerConfig,
    readonly scoring: AbstractScore,
    outputDirectory: string,
    log: (line: string) => void,
    force: boolean,
  ) {
    this.outputDirectory = outputDirectory;
    this.log = log;
    this.force = force;
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
    checkPathId("curriculum.scoring.id", scoringConfig.id);
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
    return new CurriculumScoreManager(config, scoring, outputDirectory, log, options.force ?? false);
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
    this.runs = runs;
    return runs;
  }

  /** The files an atomic run is computed from, with their fingerprints (labels relative to the results). */
  inputsOf(run: AtomicRun): Record<string, string> {
    const files = [
      ...(run.runDir ? [join(run.runDir, RUN_FILES.config), join(run.runDir, RUN_FILES.metrics)] : []),
      ...(run.inputs ?? []),
    ];
    return fingerprintFiles(files, (path) => relative(this.config.results_dir, path));
  }

  /** One fingerprint of an atomic run's inputs. */
  private inputsDigest(run: AtomicRun): string {
    return digest(this.inputsOf(run));
  }

  /** The provenance the score id would have: the scoring config and every atomic run's inputs. */
  provenance(runs: readonly AtomicRun[]): ScoreProvenance {
    const config = Object.fromEntries(
      Object.entries(plain(this.config.curriculum.scoring) as Record<string, unknown>).filter(
        ([k]) => !RESULT_NEUTRAL.has(k),
      ),
    );
    return { config, runs: Object.fromEntries(runs.map((r) => [r.name, this.inputsDigest(r)])) };
  }

  /** The files of a score id besides its atomic runs: `<id>.csv`, the card, plots, robustness. */
  private scoreFiles(id = this.scoreId): string[] {
    return [
      join(this.outputDirectory, `${id}.csv`),
      join(this.outputDirectory, `${id}.yaml`),
      join(this.outputDirectory, "_plots", id),
      ...readdirNames(join(this.outputDirectory, "_robustness"))
        .filter((f) => f.startsWith(`${id}_`))
        .map((f) => join(this.outputDirectory, "_robustness", f)),
    ];
  }

  /**
   * Refuses to recompute a finished score id from another config or other runs or inputs, naming
   * the differences; with `force` the old score files are moved aside instead. A score is finished
   * when its card `<id>.yaml` exists: the card is written last (postprocess), so files of a score
   * that was stopped before its card (an orphan `<id>.csv`, plots, robustness) are unfinished work,
   * removed and recomputed without `force`.
   */
  checkExisting(runs: readonly AtomicRun[]): void {
    const scoreFile = join(this.outputDirectory, `${this.scoreId}.csv`);
    const card = join(this.outputDirectory, `${this.scoreId}.yaml`);
    if (!existsSync(card)) {
      const leftovers = this.scoreFiles().filter((p) => existsSync(p));
      if (leftovers.length > 0) {
        this.log(`Recomputing score '${this.scoreId}': it was stopped before its card was written`);
        for (const path of leftovers) removeInsideResults(this.config.results_dir, path);
      }
      return;
    }
    if (!existsSync(scoreFile)) return; // a card without its scores: nothing to protect
    const saved = readYaml<Record<string, unknown>>(card);
    const now = this.provenance(runs);
    const before = saved?.provenance as ScoreProvenance | undefined;
    const differences = before
      ? [
          ...diffConfigs(before.config, now.config, ["existing", "requested"], "config"),
          ...runDifferences(before.runs, now.runs),
        ]
      : // A score of an earlier version records only its runs.
        runDifferences(
          Object.fromEntries(((saved?.runs as string[] | undefined) ?? []).map((r) => [r, "?"])),
          Object.fromEntries(Object.keys(now.runs).map((r) => [r, "?"])),
        );
    if (differences.length === 0) return;
    if (!this.force) {
      throw new ConfigError(
        "curriculum.scoring",
        `score '${this.scoreId}' exists (${scoreFile}) and was made from another config or other runs; ` +
          `recomputing it would replace it. Give the new score another id (curriculum.scoring.id=...), or ` +
          `recompute with --force (the old files are kept under ${join(this.outputDirectory, SCORE_REPLACED_DIR)}/). ` +
          `Differences:\n  ${differences.join("\n  ")}`,
        card,
      );
    }
    this.keepAside(this.scoreFiles());
    this.log(`Recomputing score '${this.scoreId}' (--force); the old files are in ${this.replacedDir}`);
  }

  /** Moves files or folders into this run's `_replaced/<id>-<time>/`. */
  private keepAside(paths: readonly string[]): void {
    const present = paths.filter((p) => existsSync(p));
    if (present.length === 0) return;
    if (!this.replacedDir) {
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      this.replacedDir = join(this.outputDirectory, SCORE_REPLACED_DIR, `${this.scoreId}-${stamp}`);
      ensureDir(this.replacedDir);
    }
    for (const path of present) {
      const target = join(this.replacedDir, relative(this.outputDirectory, path));
      ensureDir(dirname(target));
      moveInsideResults(this.config.results_dir, path, target);
    }
  }

  /**
   * Scores one atomic run unless its scores.csv exists; an existing result made from another config
   * is an error (delete its folder to recompute). Returns whether it was skipped.
   */
  async run(run: AtomicRun): Promise<{ skipped: boolean }> {
    const dir = join(this.outputDirectory, run.name);
    if (existsSync(join(dir, SCORE_RUN_FILES.scores))) {
      const differences = this.savedDifferences(run, dir);
      if (differences.length === 0) {
        // A CVLoss fold killed after its scores, before it let go of its run lock, left the lock.
        removeStaleLock(dir);
        this.log(`Skipping ${run.name}: scores.csv exists`);
        return { skipped: true };
      }
      if (!this.force) {
        throw new ConfigError(
          "curriculum.scoring",
          `${dir} holds scores of a different config or other inputs; recompute with --force (the old ` +
            `folder is kept under ${join(this.outputDirectory, SCORE_REPLACED_DIR)}/) or delete it. ` +
            `Differences:\n  ${differences.join("\n  ")}`,
        );
      }
      this.keepAside([dir]);
    }
    this.log(`Scoring ${run.name}`);
    const created = !existsSync(dir);
    try {
      await this.scoring.run(run, (target) => {
        ensureDir(target);
        writeYaml(join(target, SCORE_RUN_FILES.config), run.config);
        writeYaml(join(target, SCORE_RUN_FILES.score), this.config.curriculum.scoring);
        const files = this.inputsOf(run);
        writeYaml(join(target, SCORE_RUN_FILES.inputs), { fingerprint: digest(files), files });
      });
    } catch (error) {
      // Nothing half-written stays behind (unless the folder holds resumable training).
      if (created && !this.scoring.keepsFolderOnFailure) removeInsideResults(this.config.results_dir, dir);
      throw error;
    }
    return { skipped: false };
  }

  /** How an atomic run's saved folder differs from what would be computed now (empty: reusable). */
  private savedDifferences(run: AtomicRun, dir: string): string[] {
    const roundTrip = (v: unknown) => parse(stringify(v)) as unknown;
    const inputsPath = join(dir, SCORE_RUN_FILES.inputs);
    // Folders of earlier versions record no inputs.
    const savedInputs = existsSync(inputsPath)
      ? (readYaml<{ files?: Record<string, string> } | null>(inputsPath)?.files ?? {})
      : null;
    const inputDifferences = savedInputs
      ? diffConfigs(savedInputs, this.inputsOf(run), ["when scored", "now"]).map(
          (d) => `${SCORE_RUN_FILES.inputs}: ${d}`,
        )
      : [];
    return [
      ...diffConfigs(
        upgradeSavedScoreConfig(readYaml(join(dir, SCORE_RUN_FILES.config))),
        roundTrip(run.config),
      ).map((d) => `config.yaml: ${d}`),
      ...diffConfigs(
        withoutKeys(readYaml(join(dir, SCORE_RUN_FILES.score))),
        withoutKeys(roundTrip(this.config.curriculum.scoring)),
      ).map((d) => `score.yaml: ${d}`),
      ...inputDifferences,
    ];
  }

  /** Writes `<id>.csv` (ranks), the card `<id>.yaml`, plots and correlation matrices. */
  async postprocess(
    scoreId = this.scoreId,
    correlation = this.config.correlation,
  ): Promise<ScorePostprocessResult> {
    const runs = this.runs ?? (await this.preprocess());
    const started = performance.now();
    const final = this.scoring.postprocess(scoreId, runs);
    this.checkFinite(scoreId, runs, final.mean);
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
    const p = this.scoring.params;
    const cls = this.scoring.constructor as typeof AbstractScore;
    const provenance = this.provenance(runs);
    const noise = await labelNoiseCard(
      runs,
      p.subset,
      final.rows,
      final.mean,
      ranks,
      this.scoring.reverseScore,
    );
    // The card is written last of the score's files: a score is finished when its card exists
    // (checkExisting recomputes one stopped before it).
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
      ...(noise ? { label_noise: noise } : {}),
      time_seconds: round(
        runs.reduce((s, r) => s + runSeconds(join(this.outputDirectory, r.name)), 0) +
          (performance.now() - started) / 1000,
      ),
      created: new Date().toISOString(),
      provenance,
    });
    // The index is written after the scores it lists (atomically, like every file here).
    await recordScoreMapping(
      this.outputDirectory,
      scoreId,
      runs.map((r) => r.name),
    );
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

  /**
   * Takes the score id's lock (two commands computing one id at once would overwrite each other's
   * files), removes temporary files that stopped processes left under `curriculum/`, then:
   * preprocess → refuse (or, with force, set aside) a different finished score → run every atomic
   * run → postprocess. A score another live process is computing throws {@link ScoreBusyError}.
   */
  async execute(): Promise<ScorePostprocessResult> {
    const scoreFile = join(this.outputDirectory, `${this.scoreId}.csv`);
    const lock = acquireLock(scoreFile);
    if ("heldBy" in lock) {
      throw new ScoreBusyError(`${basename(this.outputDirectory)}/${this.scoreId}`, lock.heldBy);
    }
    try {
      // This score's folder, and the matrices beside the score folders (other scoring functions may
      // be computed at the same time on other machines: their folders are theirs to clean).
      removeStaleTemporaries(this.outputDirectory);
      removeStaleTemporaries(curriculumDir(this.config.results_dir, this.config.experiment_id), false);
      const runs = await this.preprocess();
      this.checkExisting(runs);
      for (const run of runs) await this.run(run);
      return await this.postprocess();
    } finally {
      lock.release();
    }
  }

  /** Refuses final scores that are not finite, naming the samples and the atomic runs they come from. */
  private checkFinite(scoreId: string, runs: readonly AtomicRun[], mean: Float64Array): void {
    const bad: number[] = [];
    mean.forEach((v, i) => {
      if (!Number.isFinite(v)) bad.push(i);
    });
    if (bad.length === 0) return;
    const culprits: string[] = [];
    for (const run of runs) {
      const path = join(this.outputDirectory, run.name, SCORE_RUN_FILES.scores);
      if (!existsSync(path)) continue;
      const rows = readScoreRows(path);
      const cells = nonFiniteCells(rows);
      if (cells.length > 0) culprits.push(`${path}: ${describeNonFinite(cells, rows.index.length)}`);
    }
    const shown = bad.slice(0, 5).join(", ") + (bad.length > 5 ? ", …" : "");
    throw new DataError(
      `score '${scoreId}': ${bad.length} of ${mean.length} samples have no finite score (index ${shown}); ` +
        (culprits.length > 0
          ? `non-finite values in:\n  ${culprits.join("\n  ")}\n`
          : "every run left them unscored. ") +
        "A score is never written from NaN or infinite values (a diverged training run gives them): " +
        "retrain the run or leave it out of run_name, and delete the atomic run folders named above.",
    );
  }
}

/** A score id another live process is computing (its lock is held). */
export class ScoreBusyError extends CurriculaError {
  readonly score: string;
  readonly heldBy: string;
  constructor(score: string, heldBy: string) {
    super(`${score}: being scored by ${heldBy}`);
    this.name = "ScoreBusyError";
    this.score = score;
    this.heldBy = heldBy;
  }
}

function robustnessOptions(config: ScoreManagerConfig["robustness"]): RobustnessOptions {
  return { bootstrap: config?.bootstrap, seed: config?.seed, maxPairs: config?.max_pairs };
}

function plain(value: unknown): unknown {
  return parse(stringify(value)) as unknown;
}

/** One SHA-256 over a map of fingerprints (16 hex digits). */
function digest(files: Record<string, string>): string {
  return textSha256(JSON.stringify(Object.entries(files).sort())).slice(0, 16);
}

/** Atomic runs added, dropped or with other inputs. */
function runDifferences(before: Record<string, string>, now: Record<string, string>): string[] {
  const out: string[] = [];
  for (const name of Object.keys(before))
    if (!(name in now)) out.push(`runs: ${name} (existing) is not requested`);
  for (const name of Object.keys(now)) {
    if (!(name in before)) out.push(`runs: ${name} (requested) is not in the existing score`);
    else if (before[name] !== now[name] && before[name] !== "?" && now[name] !== "?") {
      out.push(
        `runs: ${name}: its inputs changed since it was scored (fingerprint ${before[name]} then, ${now[name]} now)`,
      );
    }
  }
  return out;
}

function readdirNames(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
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
