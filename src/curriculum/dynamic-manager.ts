import { join } from "node:path";
import { RUN_FILES, scoreFile } from "../config/layout.js";
import { parseSeed, type RunConfig } from "../config/schema.js";
import { checkSamplerRecord, type SamplerLogRow, writeSamplerLog } from "../results/sampler-log.js";
import { readScoreRanks } from "../results/score-table.js";
import type { BatchOutputs, PassSampler, TrainCallback, TrainContext } from "../training/types.js";
import { ConfigError, CurriculaError } from "../util/errors.js";
import { Rng, type RngState } from "../util/rng.js";
import type { AbstractSampler } from "./sampling/abstract-sampler.js";
import { createSampler } from "./sampling/registry.js";
import { recordScoreFile } from "./trained-score.js";

/** What a dynamic run saves with each checkpoint (as the trainer's sampler state). */
export interface DynamicSamplerState {
  /** The sampler's random stream. */
  rng: RngState;
  /** The sampler's own state (AbstractSampler.state()). */
  sampler: unknown;
}

/** What the dynamic sampling callback saves with each checkpoint (its own, beside the sampler's). */
export interface DynamicManagerState {
  /** The sampler's records so far, one per evaluation (the rows of `sampler.csv`). */
  log: SamplerLogRow[];
}

/** The trainer's view of a dynamic sampler: passes, batch weights, batch outputs, saved state. */
class DynamicPassSampler implements PassSampler {
  constructor(
    private readonly ctx: TrainContext,
    private readonly sampler: AbstractSampler,
    private readonly rng: Rng,
  ) {}

  nextPass(): Int32Array {
    const { ctx } = this;
    const n = ctx.train.size;
    const iteration = ctx.iteration;
    const pass = this.sampler.sample(n, { iteration, progress: (iteration - 1) / ctx.totalIterations });
    if (!(pass instanceof Int32Array)) {
      throw new CurriculaError(`${this.sampler.describe()}: sample() must return an Int32Array of positions`);
    }
    for (const p of pass) {
      if (!(p >= 0 && p < n)) {
        throw new CurriculaError(
          `${this.sampler.describe()}: sample() returned position ${p}, outside 0..${n - 1}`,
        );
      }
    }
    ctx.log(
      `dynamic sampling: pass from ${ctx.trainingType} ${iteration} has ${pass.length} of ${n} samples`,
    );
    return pass;
  }

  batchWeights(positions: Int32Array): Float32Array | null {
    const weights = this.sampler.weights(positions);
    if (weights !== null && weights.length !== positions.length) {
      throw new CurriculaError(
        `${this.sampler.describe()}: weights() returned ${weights.length} values for a batch of ${positions.length}`,
      );
    }
    return weights;
  }

  observeBatch(positions: Int32Array, outputs: BatchOutputs): void {
    this.sampler.update(positions, outputs);
  }

  getState(): DynamicSamplerState {
    return { rng: this.rng.getState(), sampler: this.sampler.state() };
  }

  setState(state: unknown): void {
    const s = state as Partial<DynamicSamplerState> | null;
    if (!s || !Array.isArray(s.rng) || !("sampler" in s)) {
      throw new CurriculaError(
        `dynamic sampling: invalid saved sampler state ${JSON.stringify(state)?.slice(0, 200)}`,
      );
    }
    this.rng.setState(s.rng as RngState);
    this.sampler.load(s.sampler);
  }
}

/**
 * The callback of `curriculum=Dynamic`: at train begin it builds the sampler `curriculum.sampling`
 * names (built in, or `module` + `class` of the user's, with its keyword arguments), gives it its
 * own random stream and the score's ranks if the run names a score, and installs it as the
 * trainer's pass sampler. Its state travels in the trainer's sampler state of every checkpoint.
 * After every evaluation it asks the sampler for its {@link AbstractSampler.record} and, when there
 * is one, logs it and keeps it (in its own checkpoint state); at train end the records become
 * `sampler.csv`.
 */
export class DynamicSamplingManager implements TrainCallback {
  readonly name = "curriculum";
  readonly config: RunConfig;
  private samplerObj: AbstractSampler | null = null;
  private log: SamplerLogRow[] = [];

  constructor(config: RunConfig) {
    this.config = config;
  }

  /** The dynamic sampler (after train begin). */
  get sampler(): AbstractSampler | null {
    return this.samplerObj;
  }

  async onTrainBegin(ctx: TrainContext): Promise<void> {
    const { config } = this;
    const sampling = config.curriculum.sampling as Record<string, unknown>;
    const { sampler, cls } = await createSampler(sampling);
    const scoring = config.curriculum.scoring;
    let ranks: Float64Array | null = null;
    if (scoring.id !== "None") {
      const path = scoreFile(config.results_dir, config.experiment_id, scoring);
      ranks = Float64Array.from(readScoreRanks(path, ctx.train, scoring.id));
      recordScoreFile(ctx.runDir, path, scoring);
    } else if (cls.usesScore) {
      throw new ConfigError(
        "curriculum.scoring",
        `the ${String(sampling.id)} sampler needs a score (set curriculum/scoring=<id>), got None`,
      );
    }
    const rng = Rng.derive(parseSeed(config.seed).data, "dynamic-sampler");
    sampler.begin({
      size: ctx.train.size,
      labels: ctx.train.labels,
      numClasses: ctx.dataset.outputDim,
      trainingType: ctx.trainingType,
      totalIterations: ctx.totalIterations,
      rng,
      ranks,
    });
    this.samplerObj = sampler;
    this.log = [];
    ctx.setSampler(new DynamicPassSampler(ctx, sampler, rng));
    ctx.log(
      `curriculum: Dynamic, sampler ${sampler.describe()}${ranks ? ` with the ${scoring.id} score` : ""}`,
    );
  }

  onValidationEnd(ctx: TrainContext, iteration: number): void {
    const sampler = this.samplerObj;
    // optional call: a user's class may extend the AbstractSampler of an older copy of the package
    const record = sampler?.record?.() ?? null;
    if (!sampler || record === null) return;
    const values = checkSamplerRecord(record, this.log[0], sampler.describe());
    this.log.push({ iteration, values: { ...values } });
    const text = Object.entries(values)
      .map(([key, value]) => `${key} ${value}`)
      .join(", ");
    ctx.log(`dynamic sampling at ${ctx.trainingType} ${iteration}: ${text}`);
  }

  onTrainEnd(ctx: TrainContext): void {
    if (this.log.length > 0) writeSamplerLog(join(ctx.runDir, RUN_FILES.samplerLog), this.log);
  }

  getState(): DynamicManagerState {
    return { log: this.log.map((row) => ({ iteration: row.iteration, values: { ...row.values } })) };
  }

  setState(state: unknown): void {
    const s = state as Partial<DynamicManagerState> | null;
    const valid =
      !!s &&
      Array.isArray(s.log) &&
      s.log.every(
        (row) => !!row && Number.isInteger(row.iteration) && !!row.values && typeof row.values === "object",
      );
    if (!valid) {
      throw new CurriculaError(
        `dynamic sampling: invalid saved sampler log ${JSON.stringify(state)?.slice(0, 200)}`,
      );
    }
    this.log = (s.log as SamplerLogRow[]).map((row) => ({
      iteration: row.iteration,
      values: { ...row.values },
    }));
  }
}
