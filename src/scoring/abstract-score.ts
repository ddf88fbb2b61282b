import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { z } from "zod";
import { checkLoadedNetwork, checkSavedModel } from "../assembly/model-check.js";
import { buildForRun } from "../assembly/train-run.js";
import { RUN_FILES, SCORE_RUN_FILES } from "../config/layout.js";
import type { DatasetConfig, RunConfig } from "../config/schema.js";
import type { Batch, Dataset, Subset, SubsetName } from "../data/types.js";
import type { ForwardOptions, ForwardResult, Network, NetworkSpec } from "../engine/types.js";
import { TORCHSCRIPT } from "../models/index.js";
import {
  checkpointDir,
  hasModelCheckpoint,
  importedRunNeedsModel,
  readRunConfig,
} from "../results/run-folder.js";
import {
  checkAligned,
  concatRows,
  describeNonFinite,
  nonFiniteCells,
  readScoreRows,
  type ScoreRows,
  sortByIndex,
  writeScoreRows,
} from "../results/score-table.js";
import { readSavedLogits, savedOutputsDir } from "../results/subset-outputs.js";
import { balancedClassWeights } from "../training/index.js";
import { DataError } from "../util/errors.js";
import { createProgress } from "../util/progress.js";
import { readYaml, writeYaml } from "../util/yaml-io.js";
import { BaseScoreParams, parseScoreParams, type ScoringCriterion } from "./argument-schemas.js";
import { datasetById, datasetConfigById } from "./datasets.js";
import { rankAndNormalize, type TieBreak } from "./math/rank.js";
import { resolveTrainingRuns } from "./runs.js";

/** What a scoring function needs from its surroundings (given by the score manager). */
export interface ScoreContext {
  /** `<results>/<experiment>/curriculum/<type>`. */
  outputDirectory: string;
  resultsDir: string;
  experimentId: string;
  /** Batch size of forward passes (the scoring config's `batch_size`); null = the run's inference batch size. */
  batchSize: number | null;
  progress: boolean;
  /** Local config folder (`conf/`) for group lookups (datasets of Random, CVLoss setups). */
  configPath?: string;
  log: (line: string) => void;
}

/** One unit of scoring work: a folder `<type>/<name>/` with its own `scores.csv`. */
export interface AtomicRun {
  name: string;
  /** Written to `<name>/config.yaml`: the training run's config, or the config this run builds. */
  config: Record<string, unknown>;
  /** The training run folder read, if any. */
  runDir?: string;
  /** Runs of one group are concatenated before averaging (CVLoss folds); default: the name. */
  group?: string;
  /** Function-specific details (e.g. the CVLoss split). */
  details?: Record<string, unknown>;
  /**
   * Files the result depends on besides the training run's config.yaml and metrics.csv (which
   * count when `runDir` is set): a Predefined file, a teacher's model. Their fingerprints are
   * recorded, so a score is never reused after its inputs changed.
   */
  inputs?: string[];
}

/** What a scoring function returns for one atomic run: rows of a subset and its columns. */
export interface ScoreResult {
  subset: Subset;
  classNames: readonly string[];
  /** Subset positions scored (default all, in order). */
  positions?: Int32Array;
  /** Numeric columns, one value per scored position, e.g. `{scores}` or `{sum, count}`. */
  columns: Record<string, ArrayLike<number>>;
}

/** The ensemble of a score id: one row per sample, before ranking. */
export interface FinalScores {
  rows: ScoreRows;
  /** The per-sample score that is ranked. */
  mean: Float64Array;
  /** Extra entries of the score card `<id>.yaml` (e.g. ConfidentLearning's number of label issues). */
  card?: Record<string, unknown>;
  /** Extra plots (vega-lite specs by file name) written beside the score's other plots. */
  plots?: Record<string, Record<string, unknown>>;
}

export type ScoreParams = z.output<typeof BaseScoreParams> & Record<string, unknown>;

/** A loaded training run: its config, rebuilt dataset and network spec. */
export interface LoadedRun {
  config: RunConfig;
  dataset: Dataset;
  spec: NetworkSpec;
}

/**
 * The contract of every scoring function (aucurriculum `AbstractScore`). A subclass declares its
 * parameters (`static schema`), the paper it implements (`static reference`), whether a high score
 * means easy (`reverseScore`), and implements `score(run)`; it may override `preprocess()` (which
 * atomic runs exist) and `postprocess()` (how runs combine). The shared machinery lives here: run
 * resolution, data and model rebuilding, checkpoints, batched forward passes, tables and ranking.
 */
export abstract class AbstractScore {
  /** Constructor arguments; the packaged YAML lists exactly these keys. */
  static readonly schema: z.ZodObject = BaseScoreParams;
  /** Citation shown in docs and the score card. */
  static readonly reference: string = "";

  readonly params: ScoreParams;
  readonly context: ScoreContext;
  /** True when a high score means easy (ranked descending). */
  reverseScore = false;
  /** Seconds per phase of the current atomic run (written to its timer.yaml). */
  protected timings: Record<string, number> = {};
  private readonly loaded = new Map<string, LoadedRun>();
  private named: Promise<Dataset> | null = null;

  constructor(params: Record<string, unknown>, context: ScoreContext, source = "curriculum/scoring") {
    const schema = (this.constructor as typeof AbstractScore).schema;
    this.params = parseScoreParams(schema, params, source) as ScoreParams;
    this.context = context;
  }

  get subsetName(): SubsetName {
    return this.params.subset as SubsetName;
  }

  /** Atomic runs: by default one per resolved training run, named `<run>[_<criterion>][_<b|l>]`. */
  async preprocess(): Promise<AtomicRun[]> {
    const runName = this.params.run_name as string | string[] | undefined;
    if (runName === undefined)
      throw new Error(`${this.constructor.name} must override preprocess() (no run_name)`);
    return resolveTrainingRuns(this.context.resultsDir, this.context.experimentId, runName).map((run) => ({
      name: [run.name, ...this.nameSuffix(run.requested)].join("_"),
      config: readRunConfig(run.dir) as Record<string, unknown>,
      runDir: run.dir,
      details: { requested: run.requested },
    }));
  }

  /** Suffix fields of atomic run names (after the training run's name): the criterion, then the stop's first letter. */
  protected nameSuffix(_requested: string): string[] {
    const out: string[] = [];
    if (typeof this.params.criterion === "string") out.push(this.params.criterion);
    if (typeof this.params.stop === "string") out.push(this.params.stop[0] as string);
    return out;
  }

  /** Scores one atomic run. */
  abstract score(run: AtomicRun): Promise<ScoreResult>;

  /**
   * True when an atomic run's folder holds resumable work (CVLoss trains a model there): a failed
   * run's folder is then kept (its training.log says why); otherwise a failure leaves no folder.
   */
  readonly keepsFolderOnFailure: boolean = false;

  /**
   * Scores one atomic run and saves `<out>/<name>/timer.yaml` and, last, `scores.csv` (its
   * presence marks a finished atomic run); `beforeScores` writes the run's other files first.
   */
  async run(run: AtomicRun, beforeScores?: (dir: string) => void): Promise<void> {
    this.timings = {};
    const started = performance.now();
    const result = await this.score(run);
    const rows = toRows(result);
    const dir = join(this.context.outputDirectory, run.name);
    // A diverged training run gives NaN or infinite losses and logits: refuse to rank them.
    const nonFinite = nonFiniteCells(rows);
    if (nonFinite.length > 0) {
      throw new DataError(
        `${run.name}: non-finite scores (${describeNonFinite(nonFinite, rows.index.length)})` +
          `${run.runDir ? `; the training run ${run.runDir} diverged or its outputs are damaged (see its metrics.csv and training.log)` : ""}. ` +
          "A score is never computed from NaN or infinite values; retrain the run (e.g. with a lower learning_rate) or leave it out of run_name.",
      );
    }
    beforeScores?.(dir);
    const timerPath = join(dir, SCORE_RUN_FILES.timer);
    const previous = existsSync(timerPath) ? (readYaml<Record<string, unknown>>(timerPath) ?? {}) : {};
    writeYaml(timerPath, {
      ...previous,
      ...Object.fromEntries(Object.entries(this.timings).map(([k, v]) => [k, round(v)])),
      total_seconds: round((performance.now() - started) / 1000),
    });
    writeScoreRows(join(dir, SCORE_RUN_FILES.scores), rows);
  }

  /**
   * Combines the atomic runs of a score id: runs of one group are concatenated (folds), groups are
   * aligned by index (checked against source_index and class) and their `scores` averaged into
   * `mean`, skipping NaN.
   */
  postprocess(_scoreId: string, runs: readonly AtomicRun[]): FinalScores {
    const groups = this.readGroups(runs);
    const first = groups[0];
    if (!first) throw new Error("postprocess: no runs");
    const n = first.rows.index.length;
    const mean = new Float64Array(n);
    const seen = new Float64Array(n);
    for (const group of groups) {
      const scores = group.rows.columns.get("scores");
      if (!scores) throw new Error(`${group.label}: no 'scores' column`);
      for (let i = 0; i < n; i++) {
        const v = scores[i] as number;
        if (Number.isNaN(v)) continue;
        mean[i] = (mean[i] as number) + v;
        seen[i] = (seen[i] as number) + 1;
      }
    }
    for (let i = 0; i < n; i++)
      mean[i] = (seen[i] as number) > 0 ? (mean[i] as number) / (seen[i] as number) : Number.NaN;
    const rows = first.rows;
    rows.columns.delete("scores");
    return { rows, mean };
  }

  /** Reads the scores.csv of every run, concatenates groups, checks alignment. */
  protected readGroups(runs: readonly AtomicRun[]): { label: string; rows: ScoreRows }[] {
    const byGroup = new Map<string, { label: string; parts: ScoreRows[] }>();
    for (const run of runs) {
      const key = run.group ?? run.name;
      const path = join(this.context.outputDirectory, run.name, SCORE_RUN_FILES.scores);
      const entry = byGroup.get(key) ?? { label: key === run.name ? path : `${key} (folds)`, parts: [] };
      entry.parts.push(readScoreRows(path));
      byGroup.set(key, entry);
    }
    const groups = [...byGroup.values()].map((g) => ({
      label: g.label,
      rows: g.parts.length === 1 ? sortByIndex(g.parts[0] as ScoreRows) : concatRows(g.parts),
    }));
    const first = groups[0];
    for (const g of groups) checkAligned(g.rows, g.label, g === first || !first ? undefined : first);
    return groups;
  }

  /** `ranks` of the final scores: 0 easiest … 1 hardest. */
  rank(mean: ArrayLike<number>): Float64Array {
    return rankAndNormalize(
      mean,
      this.reverseScore,
      this.params.tie_break as TieBreak,
      this.params.tie_break_seed,
    );
  }

  // ---- shared machinery for subclasses ----

  /** Rebuilds a training run's dataset and network spec from its saved config (cached per run). */
  protected async loadRun(runDir: string): Promise<LoadedRun> {
    const cached = this.loaded.get(runDir);
    if (cached) return cached;
    const config = readRunConfig(runDir);
    const { dataset, spec } = await buildForRun(config);
    const loaded = { config, dataset, spec };
    this.loaded.set(runDir, loaded);
    return loaded;
  }

  /** The config of the dataset named by the `dataset` parameter (no data is loaded). */
  protected namedDatasetConfig(): DatasetConfig {
    return datasetConfigById(this.params.dataset as string, this.context.configPath);
  }

  /**
   * The dataset named by the `dataset` parameter (scores without a training run: Random,
   * Predefined, TransferTeacher), built once per score however many atomic runs use it. Its split
   * is its config's `split_seed`, the same for every run that trains on it.
   */
  protected namedDataset(): Promise<Dataset> {
    this.named ??= datasetById(this.params.dataset as string, this.context.configPath).then((r) => r.dataset);
    return this.named;
  }

  /**
   * Loads the network saved in a folder (model.safetensors, or an older run's model.json), in eval
   * mode; a TorchScript model's on the torch engine (the only one that runs it).
   */
  protected async loadNetwork(
    dir: string,
    expected?: { spec: NetworkSpec; configFile: string },
  ): Promise<Network> {
    if (!hasModelCheckpoint(dir)) {
      const imported = importedRunNeedsModel(dirname(dir), this.constructor.name);
      if (imported) throw imported;
    }
    const engine = await import("../engine/index.js");
    const script = engine.readCheckpointSpec(dir)?.spec.type === TORCHSCRIPT;
    const choice = script ? "torch" : scoringEngine(dir, engine.engineInfo()?.engine);
    await engine.initEngine(choice ? { engine: choice } : {});
    const network = await this.time("model_load", () => engine.loadNetwork(dir, null));
    return expected ? checkLoadedNetwork(network, expected.spec, dir, expected.configFile) : network;
  }

  /** The checkpoint folder of a training run for this score's `stop` (`_best/` or the last saved iteration). */
  protected checkpoint(runDir: string): string {
    return checkpointDir(runDir, (this.params.stop as "best" | "last" | undefined) ?? "best");
  }

  /**
   * A training run's dataset, the scored subset and its logits at this score's `stop` checkpoint
   * (saved outputs, else a forward pass of the model there); an error when the folder has neither.
   */
  protected async checkpointLogits(
    runDir: string,
  ): Promise<{ dataset: Dataset; subset: Subset; logits: Float32Array }> {
    const { dataset } = await this.loadRun(runDir);
    const subset = dataset.subset(this.subsetName);
    const dir = this.checkpoint(runDir);
    const logits = await this.savedOrForwardLogits(runDir, dir);
    if (!logits) throw new Error(`${dir}: neither saved ${this.subsetName} outputs nor a model to score`);
    return { dataset, subset, logits };
  }

  /** Batch size of forward passes for a run. */
  protected batchSizeFor(config?: { inference_batch_size?: number }): number {
    return this.context.batchSize ?? config?.inference_batch_size ?? 32;
  }

  /**
   * Batched forward pass over subset positions (default: all), with a progress bar; `onBatch` maps
   * each batch's outputs (the original's `map_fn`). `layers` names intermediate outputs to return.
   */
  protected async forward(
    network: Network,
    subset: Subset,
    options: {
      batchSize: number;
      positions?: Int32Array;
      layers?: readonly string[];
      /** Asked before each batch: the layers to return pooled (`Network.forward`'s `pool`). */
      pool?: () => ForwardOptions["pool"];
      onBatch: (result: ForwardResult, batch: Batch, offset: number) => void;
    },
  ): Promise<void> {
    const positions = options.positions ?? Int32Array.from({ length: subset.size }, (_, i) => i);
    const bar = createProgress(`${this.constructor.name} forward`, positions.length, {
      enabled: this.context.progress,
      unit: "samples",
    });
    try {
      await this.time("model_forward", async () => {
        for (let start = 0; start < positions.length; start += options.batchSize) {
          const slice = positions.subarray(start, Math.min(positions.length, start + options.batchSize));
          const batch = subset.batch(slice);
          const pool = options.pool?.();
          const result = network.forward(batch.x, slice.length, options.layers ?? [], pool ? { pool } : {});
          options.onBatch(result, batch, start);
          bar.increment(slice.length);
        }
      });
    } finally {
      // A failed forward (a damaged input, a missing layer) leaves no live line behind its error.
      bar.stop();
    }
  }

  /** Logits (N × C) of a model over positions of a subset. */
  protected async logitsOf(
    network: Network,
    subset: Subset,
    batchSize: number,
    positions?: Int32Array,
  ): Promise<Float32Array> {
    const c = network.spec.outputDim;
    const n = positions?.length ?? subset.size;
    const logits = new Float32Array(n * c);
    await this.forward(network, subset, {
      batchSize,
      positions,
      onBatch: (result, _batch, offset) => logits.set(result.logits, offset * c),
    });
    return logits;
  }

  /**
   * Logits of the whole scored subset at one evaluated iteration of a run: the per-sample outputs
   * saved by the trainer when they cover the subset (no re-inference), else a forward pass of the
   * model saved there. Null when the folder has neither.
   */
  protected async savedOrForwardLogits(runDir: string, iterationDir: string): Promise<Float32Array | null> {
    const { config, dataset, spec } = await this.loadRun(runDir);
    const subset = dataset.subset(this.subsetName);
    // The outputs were made by the model saved beside them: it must be the one the config describes.
    const expected = { spec, configFile: join(runDir, RUN_FILES.config) };
    checkSavedModel(iterationDir, spec, expected.configFile);
    const saved = readSavedLogits(
      savedOutputsDir(runDir, iterationDir, this.subsetName),
      this.subsetName,
      subset,
      dataset.outputDim,
    );
    if (saved) return saved;
    if (!hasModelCheckpoint(iterationDir)) return null;
    const network = await this.loadNetwork(iterationDir, expected);
    try {
      return await this.logitsOf(network, subset, this.batchSizeFor(config));
    } finally {
      network.dispose();
    }
  }

  /** Class weights of a criterion (Balanced: from the training subset's class frequencies). */
  protected classWeights(criterion: ScoringCriterion, dataset: Dataset): Float32Array | null {
    return criterion === "BalancedCrossEntropyLoss"
      ? balancedClassWeights(dataset.subset("train").labels, dataset.outputDim)
      : null;
  }

  /** Times a phase into this run's timer.yaml. */
  protected async time<T>(phase: string, fn: () => T | Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.timings[phase] = (this.timings[phase] ?? 0) + (performance.now() - start) / 1000;
    }
  }
}

/** Turns a ScoreResult into table rows with index, source_index, encoded and decoded labels. */
export function toRows(result: ScoreResult): ScoreRows {
  const { subset } = result;
  const positions = result.positions ?? Int32Array.from({ length: subset.size }, (_, i) => i);
  const columns = new Map<string, Float64Array>();
  for (const [name, values] of Object.entries(result.columns)) {
    if (values.length !== positions.length) {
      throw new Error(`column '${name}' has ${values.length} values for ${positions.length} scored samples`);
    }
    columns.set(name, Float64Array.from(values));
  }
  const encoded = Int32Array.from(positions, (p) => subset.labels[p] as number);
  return {
    index: Int32Array.from(positions),
    sourceIndex: Int32Array.from(positions, (p) => subset.sourceIndex[p] as number),
    encoded,
    decoded: Array.from(encoded, (c) => result.classNames[c] ?? String(c)),
    columns,
  };
}

function round(seconds: number): number {
  return Math.round(seconds * 1e4) / 1e4;
}

/**
 * The engine a saved model is scored on: null when CURRICULA_ENGINE is set (initEngine reads and
 * checks it), else the engine already active in this process, else the one the training run
 * recorded in its config.yaml (a run trained on torch is scored on torch when the addon loads, else
 * on wasm: "auto"), else auto. A fresh `curricula score` process no longer falls back to wasm.
 */
export function scoringEngine(
  checkpoint: string,
  active: string | undefined,
): "auto" | "wasm" | "torch" | null {
  if (process.env.CURRICULA_ENGINE) return null;
  if (active === "wasm" || active === "torch") return active;
  const configFile = join(dirname(checkpoint), RUN_FILES.config);
  if (!existsSync(configFile)) return "auto";
  const recorded = readYaml<{ engine?: unknown } | null>(configFile)?.engine;
  return recorded === "wasm" ? "wasm" : "auto";
}
