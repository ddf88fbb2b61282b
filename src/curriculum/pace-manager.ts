import { join } from "node:path";
import { iterationDirName, RUN_FILES, scoreFile } from "../config/layout.js";
import type { CurriculumType, RunConfig } from "../config/schema.js";
import { DYNAMIC_CURRICULUM, parseSeed } from "../config/schema.js";
import { renderPlot } from "../plots/render.js";
import { type ScoreDriftRow, writeScoreDrift } from "../results/score-drift.js";
import { readScoreRanks } from "../results/score-table.js";
import { readSubsetOutputs } from "../results/subset-outputs.js";
import { spearman } from "../training/measures/ranks.js";
import type { MetricValues, TrainCallback, TrainContext } from "../training/types.js";
import { writeCsv } from "../util/csv.js";
import { ConfigError, CurriculaError, DataError } from "../util/errors.js";
import { type SamplingMode, subsetClassWeights } from "./class-quotas.js";
import { CurriculumSampler, type CurriculumSamplerState } from "./curriculum-sampler.js";
import { DynamicSamplingManager } from "./dynamic-manager.js";
import { difficultyOrder } from "./ordering.js";
import { paceSpec } from "./pace-plot.js";
import type { AbstractPace, PaceHooks } from "./pacing/abstract-pace.js";
import { resolvePacing } from "./pacing/registry.js";
import { evaluationsUpTo, isRescoreIteration, type Rescorer, rescoringOf } from "./rescore.js";
import { driftSpec } from "./rescore-plot.js";
import { recordScoreFile } from "./trained-score.js";

/** What the pace manager saves with each checkpoint. */
export interface PaceManagerState {
  iteration: number;
  size: number;
  /** [iteration, dataset_size] rows recorded so far. */
  pace: Array<[number, number]>;
  sampler: CurriculumSamplerState;
  pacing: unknown;
  /**
   * The re-scorings so far (`curriculum.rescore_every` only; absent otherwise). A resume recomputes
   * the order of the last one from the outputs saved at its iteration.
   */
  drift?: ScoreDriftRow[];
}

/**
 * Checks that a curriculum config is complete (the reference filters partial combinations out of
 * sweeps; a single config that is partial is an error here) and returns its parts.
 */
function curriculumParts(config: RunConfig): { type: CurriculumType; mode: SamplingMode } {
  const c = config.curriculum;
  if (c.type === "None" || c.type === DYNAMIC_CURRICULUM) {
    throw new ConfigError("curriculum.type", `${c.type} has no pace manager`);
  }
  for (const [key, value] of [
    ["curriculum.sampling", c.sampling.id],
    ["curriculum.scoring", c.scoring.id],
    ["curriculum.pacing", c.pacing.id],
  ] as const) {
    if (value === "None") {
      throw new ConfigError(key, `${c.id} needs a ${key.split(".")[1]} config, got None`);
    }
  }
  return { type: c.type, mode: c.sampling.id as SamplingMode };
}

/**
 * Trains on a growing subset of the training set ordered by difficulty (aucurriculum's
 * CurriculumPaceManager). At train begin it reads the score file, orders the samples and installs a
 * {@link CurriculumSampler}; whenever a pass is exhausted it asks the pacing function for the size
 * of the next passes; at train end it writes `pace.csv` and `_plots/pace.{svg,png}`.
 */
export class CurriculumPaceManager implements TrainCallback {
  readonly name = "curriculum";
  readonly config: RunConfig;
  private readonly type: CurriculumType;
  private readonly mode: SamplingMode;
  private pacingFn: (AbstractPace & PaceHooks) | null = null;
  private samplerObj: CurriculumSampler | null = null;
  private ctx: TrainContext | null = null;
  private pace = new Map<number, number>();
  private iteration = 0;
  private size = 0;
  /** State restored before onTrainBegin built the sampler. */
  private pending: PaceManagerState | null = null;
  /** `curriculum.rescore_every`: the rescorer and its period, or null. */
  private readonly rescoring: { every: number; rescorer: Rescorer; type: string } | null;
  /** The per-evaluation statistics of the rescorer read so far, by iteration (a cache of the saved outputs). */
  private readonly evaluationStats = new Map<number, Float64Array>();
  /** The re-scorings so far (score_drift.csv). */
  private drift: ScoreDriftRow[] = [];
  /** The newest snapshot of the score (high = hard; at first the score file's ranks) and its iteration. */
  private snapshot: { iteration: number; values: Float64Array } | null = null;

  constructor(config: RunConfig) {
    this.config = config;
    const { type, mode } = curriculumParts(config);
    this.type = type;
    this.mode = mode;
    this.rescoring = rescoringOf(config);
  }

  /** The pacing function (after train begin). */
  get pacing(): AbstractPace | null {
    return this.pacingFn;
  }

  get sampler(): CurriculumSampler | null {
    return this.samplerObj;
  }

  /** The pace rows recorded so far, sorted by iteration. */
  paceTable(): Array<[number, number]> {
    return [...this.pace.entries()].sort((a, b) => a[0] - b[0]);
  }

  async onTrainBegin(ctx: TrainContext): Promise<void> {
    this.ctx = ctx;
    const config = this.config;
    const path = scoreFile(config.results_dir, config.experiment_id, config.curriculum.scoring);
    const ranks = readScoreRanks(path, ctx.train, config.curriculum.scoring.id);
    recordScoreFile(ctx.runDir, path, config.curriculum.scoring);
    const seeds = parseSeed(config.seed);
    // Order and per-pass shuffles are drawn from the dataset seed, like the default sampler.
    const order = difficultyOrder(ranks, this.type, seeds.data);
    this.snapshot = { iteration: 0, values: Float64Array.from(ranks) };
    this.drift = [];
    this.evaluationStats.clear();
    const n = ctx.train.size;
    this.pacingFn = (await resolvePacing(config.curriculum.pacing, ctx.totalIterations, n)) as AbstractPace &
      PaceHooks;
    await this.pacingFn.onTrainBegin?.(ctx);
    this.samplerObj = new CurriculumSampler({
      order,
      labels: ctx.train.labels,
      numClasses: ctx.dataset.outputDim,
      mode: this.mode,
      seed: seeds.data,
      initialSize: config.curriculum.pacing.initial_size,
    });
    this.iteration = 0;
    this.size = this.pacingFn.getDatasetSize(0);
    this.pace = new Map([[0, this.size]]);
    this.samplerObj.setSize(this.size, 0);
    if (this.pending) {
      const state = this.pending;
      this.pending = null;
      this.applyState(state);
    }
    const sampled = this.samplerObj.currentSubset().length; // an impossible subset fails now
    ctx.setSampler(this.samplerObj);
    this.updateWeights();
    ctx.log(
      `curriculum: ${this.type} by ${config.curriculum.scoring.id} (${path}), ${this.mode} sampling, ${config.curriculum.pacing.id} pacing; dataset size ${this.size} of ${n}${sampled !== this.size ? ` (${sampled} sampled)` : ""}` +
        (this.rescoring
          ? `; re-scored by ${this.rescoring.type} from this run's outputs every ${this.rescoring.every} evaluation(s)`
          : ""),
    );
  }

  async onValidationEnd(ctx: TrainContext, iteration: number, metrics: MetricValues): Promise<void> {
    await this.pacingFn?.onValidationEnd?.(ctx, iteration, metrics);
    const r = this.rescoring;
    if (r && isRescoreIteration(iteration, this.config.eval_frequency, r.every, ctx.totalIterations)) {
      this.rescore(iteration, true);
    }
  }

  /**
   * Recomputes the score from the train outputs saved up to `iteration`, reorders the sampler from
   * the next pass on and (when `record`) logs the Spearman correlation with the snapshot before.
   */
  private rescore(iteration: number, record: boolean): void {
    const ctx = this.ctx as TrainContext;
    const r = this.rescoring as NonNullable<typeof this.rescoring>;
    const evaluations = evaluationsUpTo(iteration, this.config.eval_frequency, ctx.totalIterations);
    const window = r.rescorer.window === "latest" ? evaluations.slice(-1) : evaluations;
    // Each evaluation's outputs are read once: its statistic is kept for the later re-scorings.
    for (const e of [...this.evaluationStats.keys()]) if (!window.includes(e)) this.evaluationStats.delete(e);
    const stats = window.map((e) => {
      let values = this.evaluationStats.get(e);
      if (!values) {
        values = r.rescorer.perEvaluation(
          this.savedTrainLogits(ctx, e),
          ctx.train.labels,
          ctx.dataset.outputDim,
        );
        this.evaluationStats.set(e, values);
      }
      return values;
    });
    const values = r.rescorer.combine(stats);
    const order = difficultyOrder(values, this.type, parseSeed(this.config.seed).data);
    (this.samplerObj as CurriculumSampler).setOrder(order);
    this.updateWeights();
    if (record) {
      const previous = this.snapshot as NonNullable<typeof this.snapshot>;
      const row: ScoreDriftRow = {
        iteration,
        evaluation: evaluations.length,
        previous_iteration: previous.iteration,
        spearman: spearman(previous.values, values),
      };
      this.drift.push(row);
      const against =
        previous.iteration === 0 ? "the score file" : `${ctx.trainingType} ${previous.iteration}`;
      ctx.log(
        `curriculum: re-scored by ${r.type} from the outputs of ${ctx.trainingType} ${iteration} (Spearman ${row.spearman.toFixed(4)} with ${against})`,
      );
    }
    this.snapshot = { iteration, values };
  }

  /** The train logits this run saved at the evaluation of `iteration`, in position order. */
  private savedTrainLogits(ctx: TrainContext, iteration: number): Float32Array {
    const dir = join(ctx.runDir, iterationDirName(ctx.trainingType, iteration));
    const saved = readSubsetOutputs(dir, "train");
    const n = ctx.train.size;
    const labels = ctx.train.labels;
    if (saved.numClasses !== ctx.dataset.outputDim || saved.targets.length !== n) {
      throw new DataError(
        `${dir}: saved train outputs hold ${saved.targets.length} × ${saved.numClasses} values, expected ${n} × ${ctx.dataset.outputDim} (curriculum.rescore_every)`,
      );
    }
    for (let i = 0; i < n; i++) {
      if (saved.targets[i] !== labels[i]) {
        throw new DataError(
          `${dir}: saved train targets differ from the training subset at position ${i} (curriculum.rescore_every)`,
        );
      }
    }
    return saved.logits;
  }

  onPassExhausted(ctx: TrainContext, iteration: number): void {
    const pacing = this.requirePacing();
    const sampler = this.samplerObj as CurriculumSampler;
    this.iteration = iteration;
    const previous = this.size;
    this.size = pacing.getDatasetSize(iteration);
    if (iteration >= ctx.totalIterations) return;
    this.pace.set(iteration, this.size);
    sampler.setSize(this.size, iteration);
    if (this.size !== previous) {
      const sampled = sampler.currentSubset().length;
      this.updateWeights();
      ctx.log(
        `curriculum: dataset size ${this.size}${sampled !== this.size ? ` (${sampled} sampled)` : ""} from ${ctx.trainingType} ${iteration}`,
      );
    }
  }

  async onTrainEnd(ctx: TrainContext): Promise<void> {
    await this.pacingFn?.onTrainEnd?.(ctx);
    const total = ctx.totalIterations;
    if (!this.pace.has(total)) this.pace.set(total, this.size);
    const rows = this.paceTable().map(([iteration, dataset_size]) => ({ iteration, dataset_size }));
    writeCsv(join(ctx.runDir, RUN_FILES.pace), ["iteration", "dataset_size"], rows);
    const p = this.config.curriculum.pacing;
    const title = `${this.type}: ${p.id} pacing (initial_size ${p.initial_size}, final_iteration ${p.final_iteration})`;
    await renderPlot(paceSpec(rows, ctx.trainingType, title), join(ctx.runDir, "_plots", "pace"));
    if (this.rescoring) {
      writeScoreDrift(ctx.runDir, this.drift);
      const spec = driftSpec(this.drift, ctx.trainingType, `${this.type}: drift of ${this.rescoring.type}`);
      if (spec) await renderPlot(spec, join(ctx.runDir, RUN_FILES.plots, "score_drift"));
    }
  }

  getState(): PaceManagerState | null {
    if (!this.samplerObj || !this.pacingFn) return this.pending;
    return {
      iteration: this.iteration,
      size: this.size,
      pace: this.paceTable(),
      sampler: this.samplerObj.getState(),
      pacing: this.pacingFn.getState(),
      ...(this.rescoring ? { drift: this.drift.map((r) => ({ ...r })) } : {}),
    };
  }

  setState(state: unknown): void {
    if (state === null || state === undefined) return;
    const s = state as Partial<PaceManagerState>;
    if (
      typeof s.iteration !== "number" ||
      typeof s.size !== "number" ||
      !Array.isArray(s.pace) ||
      !s.sampler
    ) {
      throw new CurriculaError(`curriculum pace manager: invalid saved state ${JSON.stringify(state)}`);
    }
    if (!this.samplerObj) {
      this.pending = s as PaceManagerState;
      return;
    }
    this.applyState(s as PaceManagerState);
  }

  private applyState(state: PaceManagerState): void {
    this.iteration = state.iteration;
    this.size = state.size;
    this.pace = new Map(state.pace.map(([i, v]) => [i, v] as [number, number]));
    (this.samplerObj as CurriculumSampler).setState(state.sampler);
    if (state.pacing !== null && state.pacing !== undefined)
      (this.pacingFn as AbstractPace).setState(state.pacing);
    if (this.rescoring) this.restoreRescoring(state);
    this.updateWeights();
  }

  /** The re-scorings of a saved state; the order of the last one is recomputed from its outputs. */
  private restoreRescoring(state: PaceManagerState): void {
    if (!Array.isArray(state.drift)) {
      throw new CurriculaError(
        "curriculum pace manager: the saved state has no re-scorings but the config sets curriculum.rescore_every",
      );
    }
    // JSON keeps no NaN (a constant snapshot's correlation): it comes back as null.
    this.drift = state.drift.map((r) => ({
      ...r,
      spearman: typeof r.spearman === "number" ? r.spearman : Number.NaN,
    }));
    const lastRow = this.drift[this.drift.length - 1];
    if (lastRow) this.rescore(lastRow.iteration, false);
  }

  private requirePacing(): AbstractPace {
    if (!this.pacingFn) throw new CurriculaError("curriculum pace manager: used before onTrainBegin");
    return this.pacingFn;
  }

  /** BalancedCrossEntropy weights follow the current subset (absent classes get weight 0). */
  private updateWeights(): void {
    const ctx = this.ctx;
    const sampler = this.samplerObj;
    if (!ctx || !sampler || this.config.dataset.criterion !== "BalancedCrossEntropy") return;
    ctx.setClassWeights(subsetClassWeights(ctx.train.labels, ctx.dataset.outputDim, sampler.currentSubset()));
  }
}

/**
 * The curriculum callback of a run, installed by the trainer; null when `curriculum` is None, the
 * dynamic sampler's when it is Dynamic.
 * A partial curriculum (a None part) is a ConfigError.
 */
export function createCurriculumCallback(config: RunConfig): TrainCallback | null {
  if (config.curriculum.type === "None" || config.curriculum.id === "None") return null;
  if (config.curriculum.type === DYNAMIC_CURRICULUM) return new DynamicSamplingManager(config);
  return new CurriculumPaceManager(config);
}
