import { appendFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { iterationDirName, RUN_FILES } from "../config/layout.js";
import { parseSeed, type RunConfig } from "../config/schema.js";
import { LABEL_NOISE_COLUMNS, labelNoiseRows } from "../data/label-noise.js";
import type { Dataset, Subset } from "../data/types.js";
import type { EngineInfo, Network, NetworkSpec } from "../engine/types.js";
import { describeModel, MODEL_TYPES } from "../models/index.js";
import { type SubsetOutputs, saveOutputs } from "../results/subset-outputs.js";
import { writeTrackerTable } from "../results/tracker-table.js";
import { writeDirAtomic, writeFileAtomicSync } from "../util/atomic.js";
import { writeCsv } from "../util/csv.js";
import { ensureDir } from "../util/dirs.js";
import { TrainingDiverged, TrainingInterrupted } from "../util/errors.js";
import { createProgress, type Progress, writeLine } from "../util/progress.js";
import { writeYaml } from "../util/yaml-io.js";
import { writeCheckpointChecksums } from "./checkpoint-integrity.js";
import { perSampleCrossEntropy } from "./criteria.js";
import { hardwareInfo } from "./hardware.js";
import { isImprovement, WORST_METRIC_VALUE } from "./metrics.js";
import { forwardSubset, resultsYaml, scoreOutputs } from "./outputs.js";
import {
  type BestSoFar,
  bestSnapshotDir,
  clearRunArtifacts,
  dropOlderSnapshots,
  dropResumeSnapshots,
  type MetricsRow,
  positionsHash,
  type RunFolderPlan,
  rollBackTo,
  snapshotBest,
  type TimingRow,
  type TrainerState,
} from "./resume.js";
import { countEvaluations, createSchedule, type LearningRateSchedule } from "./schedulers.js";
import { ShufflePassSampler } from "./shuffle-sampler.js";
import { PhaseTimer } from "./timer.js";
import { OnlineTrackers } from "./trackers.js";
import type {
  BatchOutputs,
  MetricValues,
  PassSampler,
  TrainCallback,
  TrainContext,
  TrainOptions,
} from "./types.js";

/**
 * Everything the trainer is handed for one run, built from the config above the training layer
 * (the assembly, `trainRun`): the trainer itself never builds datasets, networks or callbacks.
 */
export interface TrainerSetup {
  /** The validated config. */
  readonly config: RunConfig;
  /** What to do with the run folder: start fresh or resume (a finished run never gets here). */
  readonly plan: RunFolderPlan;
  readonly engineInfo: EngineInfo;
  readonly dataset: Dataset;
  /** The training subset trained on (restricted by TrainOptions.trainPositions if given). */
  readonly train: Subset;
  /**
   * Where training batches are drawn from when it differs from `train` (the augmented view of it);
   * evaluations and the per-sample outputs always read `train`.
   */
  readonly trainBatches?: Subset;
  /** The network to train: new, or restored from the checkpoint `plan` resumes from. */
  readonly network: Network;
  /** Class weights of the criterion on the whole training subset; used for every evaluation. */
  readonly classWeights: Float32Array | null;
  /** Every callback of the run, in the order they are called; names are unique. */
  readonly callbacks: readonly TrainCallback[];
  /** Loads a saved model without optimiser (the best model, for the test evaluation). */
  loadNetwork(dir: string): Promise<Network>;
  /** Lines for the run's log as training starts (e.g. where the start weights came from). */
  readonly notes?: readonly string[];
}

/** Trains the run `setup` describes into `options.runDir`; the setup's network is disposed after. */
export async function runTrainer(setup: TrainerSetup, options: TrainOptions): Promise<void> {
  const trainer = new Trainer(setup, options);
  try {
    await trainer.run();
  } catch (error) {
    // A stop on request (after a checkpoint) is no failure: its log line says it resumes.
    if (!(error instanceof TrainingInterrupted)) trainer.recordFailure(error);
    throw error;
  } finally {
    trainer.dispose();
  }
}

/**
 * The run folder's model.yaml: what a PyTorch user needs besides model.safetensors to rebuild the
 * network (the shipped python/curricula_models.py reads the same from the file's metadata): the
 * architecture and its parameters, the class names in code order (logit k is class k) and the
 * layers with their PyTorch names.
 */
function modelCard(spec: NetworkSpec, classNames: readonly string[]): Record<string, unknown> {
  return {
    type: spec.type,
    input_shape: spec.inputShape,
    output_dim: spec.outputDim,
    params: spec.params,
    class_names: [...classNames],
    // The built-in models' layers (a network of another type, e.g. a test double, has no description here).
    ...(MODEL_TYPES.includes(spec.type)
      ? {
          layers: describeModel(spec).layers,
          pytorch:
            "curricula_models.load_run(<run folder>) of python/curricula_models.py in the curricula package",
        }
      : {}),
  };
}

/** Appends a failure to a run's training.log (when the folder exists), so the log holds the error. */
export function logRunFailure(runDir: string, error: unknown): void {
  if (!existsSync(runDir)) return;
  const message = error instanceof Error ? error.message : String(error);
  appendFileSync(join(runDir, RUN_FILES.log), `Failed: ${message}\n`);
}

/** Mean of a list of numbers (NaN for none: no training step since the last evaluation). */
function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function formatValues(values: MetricValues): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}: ${v.toFixed(4)}`)
    .join(", ");
}

/** The training loop; also the TrainContext that callbacks see. */
class Trainer implements TrainContext {
  readonly trainingType: "epoch" | "step";
  readonly totalIterations: number;
  iteration = 0;
  classWeights: Float32Array | null;

  private sampler: PassSampler;
  private readonly callbacks: readonly TrainCallback[];
  /** Class weights of the criterion on the whole training subset; used for every evaluation. */
  private readonly evalWeights: Float32Array | null;
  private readonly schedule: LearningRateSchedule;
  private readonly metricNames: readonly string[];
  private readonly timers = {
    train: new PhaseTimer("train"),
    dev: new PhaseTimer("dev"),
    test: new PhaseTimer("test"),
  };
  private rows: MetricsRow[] = [];
  private timings: TimingRow[] = [];
  /** Samples passed through forward and backward (the sum of the batch sizes drawn); NaN when unknown. */
  private samplesSeen = 0;
  private best: BestSoFar | null = null;
  private schedulerSteps = 0;
  private batchLosses: number[] = [];
  private pass: Int32Array | null = null;
  private cursor = 0;
  private progress: Progress | null = null;
  /** Per-sample difficulty from the training steps' own logits (no extra forward pass). */
  private readonly trackers: OnlineTrackers;
  /** Setup (callbacks' onTrainBegin) is done and training has begun. */
  private begun = false;

  readonly config: RunConfig;
  readonly dataset: Dataset;
  readonly train: Subset;
  /** What training batches are drawn from: `train`, or its augmented view. */
  private readonly batchSource: Subset;
  readonly network: Network;
  private readonly plan: RunFolderPlan;

  constructor(
    private readonly setup: TrainerSetup,
    private readonly options: TrainOptions,
  ) {
    const { config, dataset, train } = setup;
    this.config = config;
    this.dataset = dataset;
    this.train = train;
    this.batchSource = setup.trainBatches ?? train;
    this.network = setup.network;
    this.plan = setup.plan;
    this.callbacks = setup.callbacks;
    this.trainingType = config.training_type;
    this.totalIterations = config.iterations;
    this.metricNames = config.dataset.metrics;
    this.evalWeights = setup.classWeights;
    this.classWeights = this.evalWeights;
    this.sampler = new ShufflePassSampler(train.size, parseSeed(config.seed).data);
    this.trackers = new OnlineTrackers(train.size, dataset.outputDim, config.tracker_ema);
    this.schedule = createSchedule(
      config.scheduler,
      config.learning_rate,
      countEvaluations(config.iterations, config.eval_frequency),
    );
  }

  get runDir(): string {
    return this.options.runDir;
  }

  setSampler(sampler: PassSampler): void {
    this.sampler = sampler;
  }

  setClassWeights(weights: Float32Array | null): void {
    if (weights && weights.length !== this.dataset.outputDim) {
      throw new Error(`class weights: expected ${this.dataset.outputDim} values, got ${weights.length}`);
    }
    this.classWeights = weights;
  }

  log(line: string): void {
    appendFileSync(join(this.runDir, RUN_FILES.log), `${line}\n`);
    if (this.options.log === null) return;
    if (this.options.log) this.options.log(line);
    else writeLine(line);
  }

  dispose(): void {
    this.progress?.stop();
    this.network.dispose();
  }

  /**
   * After a failure: a fresh run refused before training began (its callbacks' setup failed, e.g.
   * a curriculum whose score file is missing or does not match the data) leaves no folder behind,
   * since nothing in it could be resumed; any other failure is appended to training.log.
   */
  recordFailure(error: unknown): void {
    if (this.plan.kind === "fresh" && !this.begun) {
      rmSync(this.runDir, { recursive: true, force: true });
      return;
    }
    logRunFailure(this.runDir, error);
  }

  private isEvaluation(i: number): boolean {
    return i % this.config.eval_frequency === 0 || i === this.totalIterations;
  }

  private isSave(i: number): boolean {
    return this.isEvaluation(i) && (i % this.config.save_frequency === 0 || i === this.totalIterations);
  }

  private iterationDir(i: number): string {
    return join(this.runDir, iterationDirName(this.trainingType, i));
  }

  private get showProgress(): boolean {
    return this.config.progress_bar && this.options.progress !== false;
  }

  /** Batches of one pass of `size` samples. */
  private batchesOf(size: number): number {
    return Math.ceil(size / this.config.batch_size);
  }

  async run(): Promise<void> {
    const start = await this.prepare();
    // One unit per batch: steps for step training, an estimate for epochs (corrected per epoch,
    // since a curriculum changes the size of a pass).
    const perIteration = this.trainingType === "step" ? 1 : this.batchesOf(this.train.size);
    this.progress = createProgress("Train", this.totalIterations * perIteration, {
      enabled: this.showProgress,
      unit: "batches",
      initial: start * perIteration,
    });
    if (this.trainingType === "epoch") await this.trainEpochs(start);
    else await this.trainSteps(start);
    this.progress.stop();
    this.progress = null;
    await this.finish();
  }

  /** Sets up the folder, fires onTrainBegin and restores a checkpoint; returns the last completed iteration. */
  private async prepare(): Promise<number> {
    const { runDir, config, plan } = this;
    ensureDir(runDir);
    if (plan.kind === "fresh") {
      clearRunArtifacts(runDir);
      writeYaml(join(runDir, RUN_FILES.config), config);
      writeYaml(join(runDir, RUN_FILES.model), modelCard(this.network.spec, this.dataset.classNames));
      if (this.dataset.labelNoise) {
        writeCsv(join(runDir, RUN_FILES.labelNoise), LABEL_NOISE_COLUMNS, labelNoiseRows(this.dataset));
      }
    } else if (plan.kind === "resume") {
      rollBackTo(runDir, this.trainingType, plan.iteration, plan.state.best !== null);
    }
    writeYaml(join(runDir, RUN_FILES.hardware), hardwareInfo(this.setup.engineInfo));
    const start = plan.kind === "resume" ? plan.iteration : 0;
    this.iteration = start;
    if (plan.kind === "resume") {
      for (const d of plan.damaged ?? []) this.log(`Damaged checkpoint ${d}; falling back to an earlier one`);
    }
    this.log(
      plan.kind === "resume"
        ? `Resuming ${config.model.id} on ${config.dataset.id} after ${this.trainingType} ${start} of ${this.totalIterations}`
        : `Training ${config.model.id} on ${config.dataset.id} for ${this.totalIterations} ${this.trainingType}s (seed ${config.seed})`,
    );
    for (const note of this.setup.notes ?? []) this.log(note);
    for (const cb of this.callbacks) await cb.onTrainBegin?.(this);
    if (plan.kind === "resume") this.restore(plan.state);
    else this.network.setLearningRate(this.schedule(0));
    this.begun = true;
    return start;
  }

  private restore(state: TrainerState): void {
    this.sampler.setState(state.sampler);
    for (const cb of this.callbacks) {
      if (cb.name in state.callbacks) cb.setState?.(state.callbacks[cb.name]);
    }
    if (state.trackers) this.trackers.setState(state.trackers);
    else this.log("The checkpoint has no online trackers (an earlier version): they restart here");
    this.pass = state.pass ? Int32Array.from(state.pass.positions) : null;
    this.cursor = state.pass?.cursor ?? 0;
    this.rows = state.rows;
    this.timings = state.timings ?? [];
    this.samplesSeen = state.samplesSeen ?? Number.NaN;
    this.best = state.best;
    this.schedulerSteps = state.schedulerSteps;
    this.classWeights = state.classWeights ? Float32Array.from(state.classWeights) : null;
    this.network.setLearningRate(this.schedule(state.schedulerSteps));
    for (const [name, timer] of Object.entries(this.timers)) {
      const saved = state.timers[name];
      if (saved) timer.setState(saved);
    }
  }

  private nextPass(): Int32Array {
    const pass = this.sampler.nextPass();
    if (pass.length === 0)
      throw new Error(
        `the training sampler returned an empty pass at ${this.trainingType} ${this.iteration}`,
      );
    return pass;
  }

  /** One optimiser step; a non-finite loss (the run diverged) stops the run with a clear error. */
  private trainBatch(positions: Int32Array, batchIndex: number): number {
    const batch = this.batchSource.batch(positions);
    const sampler = this.sampler;
    const outputs = sampler.observeBatch ? this.batchOutputs(batch.x, batch.y) : null;
    const weights = sampler.batchWeights?.(positions) ?? null;
    const logits = new Float32Array(positions.length * this.dataset.outputDim);
    const loss = this.network.trainStep(
      batch.x,
      positions.length,
      batch.y,
      this.classWeights,
      weights,
      logits,
    );
    if (!Number.isFinite(loss)) {
      const rate = this.schedule(this.schedulerSteps);
      const where =
        this.trainingType === "epoch"
          ? `of batch ${batchIndex + 1} of epoch ${this.iteration}`
          : `at step ${this.iteration}`;
      throw new TrainingDiverged(this.runDir, where, loss, rate);
    }
    this.samplesSeen += positions.length;
    this.batchLosses.push(loss);
    this.trackers.observe(positions, batch.y, logits);
    if (outputs) sampler.observeBatch?.(positions, outputs);
    return loss;
  }

  /** A batch's per-sample outputs before its step (eval mode), for a sampler that observes batches. */
  private batchOutputs(x: Float32Array, labels: Int32Array): BatchOutputs {
    const numClasses = this.dataset.outputDim;
    const { logits } = this.network.forward(x, labels.length);
    const losses = perSampleCrossEntropy(logits, labels, numClasses, this.classWeights);
    const correct = new Uint8Array(labels.length);
    for (let i = 0; i < labels.length; i++) {
      let best = 0;
      for (let c = 1; c < numClasses; c++) {
        if ((logits[i * numClasses + c] as number) > (logits[i * numClasses + best] as number)) best = c;
      }
      correct[i] = best === labels[i] ? 1 : 0;
    }
    return { labels, logits, numClasses, losses, correct };
  }

  private async trainEpochs(start: number): Promise<void> {
    const batchSize = this.config.batch_size;
    for (let epoch = start + 1; epoch <= this.totalIterations; epoch++) {
      this.iteration = epoch;
      for (const cb of this.callbacks) await cb.onIterationBegin?.(this, epoch);
      this.timers.train.start();
      const pass = this.nextPass();
      const progress = this.progress;
      if (progress) {
        const batches = this.batchesOf(pass.length);
        const done = (epoch - 1 - start) * batches + start * this.batchesOf(this.train.size);
        progress.setTotal(done + batches * (this.totalIterations - epoch + 1));
        progress.update(done, `epoch ${epoch}/${this.totalIterations}`);
      }
      let loss = Number.NaN;
      for (let b = 0, from = 0; from < pass.length; b++, from += batchSize) {
        loss = this.trainBatch(pass.subarray(from, Math.min(pass.length, from + batchSize)), b);
        for (const cb of this.callbacks) await cb.onStep?.(this, epoch, b, loss);
        progress?.increment(1, `epoch ${epoch}/${this.totalIterations} loss ${loss.toFixed(4)}`);
      }
      this.timers.train.stop();
      if (this.isEvaluation(epoch)) await this.evaluate(epoch);
      for (const cb of this.callbacks) await cb.onPassExhausted?.(this, epoch);
      if (this.isSave(epoch)) await this.checkpoint(epoch);
      if (this.isEvaluation(epoch)) await this.stopIfRequested(epoch);
    }
  }

  /** After an evaluation: on a stop request, checkpoints (unless this iteration saved) and stops. */
  private async stopIfRequested(iteration: number): Promise<void> {
    if (iteration >= this.totalIterations || !this.options.shouldStop?.()) return;
    if (!this.isSave(iteration)) await this.checkpoint(iteration);
    this.log(`Stopping on request after ${this.trainingType} ${iteration}; the run resumes from here`);
    throw new TrainingInterrupted(this.runDir, iteration);
  }

  private async trainSteps(start: number): Promise<void> {
    const batchSize = this.config.batch_size;
    let segmentStart = true;
    for (let step = start + 1; step <= this.totalIterations; step++) {
      this.iteration = step;
      if (segmentStart) {
        for (const cb of this.callbacks) await cb.onIterationBegin?.(this, step);
        this.timers.train.start();
        segmentStart = false;
      }
      if (this.pass === null) {
        this.pass = this.nextPass();
        this.cursor = 0;
      } else if (this.cursor >= this.pass.length) {
        for (const cb of this.callbacks) await cb.onPassExhausted?.(this, step);
        this.pass = this.nextPass();
        this.cursor = 0;
      }
      const positions = this.pass.subarray(this.cursor, Math.min(this.pass.length, this.cursor + batchSize));
      this.cursor += positions.length;
      const batchIndex = (step - 1) % this.config.eval_frequency;
      const loss = this.trainBatch(positions, batchIndex);
      for (const cb of this.callbacks) await cb.onStep?.(this, step, batchIndex, loss);
      this.progress?.update(step, `step ${step}/${this.totalIterations} loss ${loss.toFixed(4)}`);
      if (this.isEvaluation(step)) {
        this.timers.train.stop();
        await this.evaluate(step);
        if (this.isSave(step)) await this.checkpoint(step);
        segmentStart = true;
        await this.stopIfRequested(step);
      }
    }
  }

  /** Dev evaluation plus the per-sample outputs of the train and dev subsets; updates `_best/`. */
  private async evaluate(iteration: number): Promise<void> {
    const { config } = this;
    this.schedulerSteps++;
    this.network.setLearningRate(this.schedule(this.schedulerSteps));
    this.timers.dev.start();
    const indexMap = this.options.trainPositions;
    const dev = this.dataset.subset("dev");
    const bar = createProgress(
      `Eval ${this.trainingType} ${iteration}`,
      (config.save_train_outputs ? this.train.size : 0) + dev.size,
      { enabled: this.showProgress, unit: "samples" },
    );
    const onRows = (rows: number) => bar.increment(rows);
    let trainOut: SubsetOutputs | null;
    let devOut: SubsetOutputs;
    try {
      trainOut = config.save_train_outputs
        ? forwardSubset(
            this.network,
            this.train,
            config.inference_batch_size,
            this.evalWeights,
            indexMap,
            onRows,
          )
        : null;
      devOut = forwardSubset(
        this.network,
        dev,
        config.inference_batch_size,
        this.evalWeights,
        undefined,
        onRows,
      );
    } finally {
      bar.stop();
    }
    const { metrics, loss } = scoreOutputs(devOut, this.metricNames, this.evalWeights);
    this.timers.dev.stop();

    const devValues: MetricValues = { ...metrics, dev_loss: loss };
    const dir = this.iterationDir(iteration);
    rmSync(dir, { recursive: true, force: true });
    ensureDir(dir);
    this.writeIterationFiles(dir, iteration, devValues, trainOut, devOut);
    this.rows.push({
      ...metrics,
      train_loss: mean(this.batchLosses),
      dev_loss: loss,
      iteration,
      samples_seen: this.samplesSeen,
    });
    this.timings.push({
      iteration,
      samples_seen: this.samplesSeen,
      train_seconds: Math.round(this.timers.train.totalSeconds * 1e4) / 1e4,
    });
    this.batchLosses = [];
    this.log(`Dev results at ${this.trainingType} ${iteration}: ${formatValues(devValues)}`);

    const value = metrics[config.dataset.tracking_metric] ?? Number.NaN;
    if (isImprovement(value, this.best?.value ?? WORST_METRIC_VALUE)) {
      this.best = { iteration, value, metrics: devValues };
      await writeDirAtomic(join(this.runDir, RUN_FILES.best), async (tmp) => {
        await this.network.save(tmp, { optimizer: false, classNames: this.dataset.classNames });
        this.writeIterationFiles(tmp, iteration, devValues, trainOut, devOut);
      });
    }
    for (const cb of this.callbacks) await cb.onValidationEnd?.(this, iteration, devValues);
    for (const cb of this.callbacks) await cb.onIterationEnd?.(this, iteration, devValues);
  }

  private writeIterationFiles(
    dir: string,
    iteration: number,
    devValues: MetricValues,
    trainOut: SubsetOutputs | null,
    devOut: SubsetOutputs,
  ): void {
    if (trainOut) saveOutputs(dir, "train", trainOut);
    if (this.config.save_dev_outputs) saveOutputs(dir, "dev", devOut);
    writeTrackerTable(
      dir,
      this.trackers.table(this.train.sourceIndex, this.train.labels, this.options.trainPositions),
    );
    writeYaml(join(dir, RUN_FILES.devYaml), resultsYaml(devValues, { iteration }));
  }

  /** Model, optimiser and trainer state; `trainer_state.json` is written last, so its presence marks a complete checkpoint. */
  private async checkpoint(iteration: number): Promise<void> {
    const dir = this.iterationDir(iteration);
    await this.network.save(dir, { optimizer: true, classNames: this.dataset.classNames });
    snapshotBest(this.runDir, iteration);
    const callbacks: Record<string, unknown> = {};
    for (const cb of this.callbacks) if (cb.getState) callbacks[cb.name] = cb.getState();
    const state: TrainerState = {
      version: 1,
      trainingType: this.trainingType,
      iteration,
      sampler: this.sampler.getState(),
      pass:
        this.pass && this.trainingType === "step"
          ? { positions: Array.from(this.pass), cursor: this.cursor }
          : null,
      callbacks,
      rows: this.rows,
      best: this.best,
      schedulerSteps: this.schedulerSteps,
      classWeights: this.classWeights ? Array.from(this.classWeights) : null,
      networkRng: this.network.getRngState(),
      timers: Object.fromEntries(Object.entries(this.timers).map(([name, t]) => [name, t.getState()])),
      samplesSeen: this.samplesSeen,
      timings: this.timings,
      trackers: this.trackers.getState(),
      trainPositionsHash: positionsHash(this.options.trainPositions),
    };
    // The checksums first: trainer_state.json, written last, marks the checkpoint complete.
    writeCheckpointChecksums(dir, state, bestSnapshotDir(this.runDir, iteration));
    writeFileAtomicSync(join(dir, RUN_FILES.trainerState), JSON.stringify(state));
    dropOlderSnapshots(this.runDir, iteration);
  }

  /** Tests the best model, writes the summaries and, last, metrics.csv. */
  private async finish(): Promise<void> {
    const { config, runDir } = this;
    const best = this.best;
    if (!best) {
      throw new Error(
        `no evaluation improved on the start value of '${config.dataset.tracking_metric}' (NaN metrics?); no best model to test`,
      );
    }
    this.timers.test.start();
    const bestNetwork = await this.setup.loadNetwork(join(runDir, RUN_FILES.best));
    let testOut: SubsetOutputs;
    const testSubset = this.dataset.subset("test");
    const bar = createProgress("Test", testSubset.size, { enabled: this.showProgress, unit: "samples" });
    try {
      testOut = forwardSubset(
        bestNetwork,
        testSubset,
        config.inference_batch_size,
        this.evalWeights,
        undefined,
        (rows) => bar.increment(rows),
      );
    } finally {
      bar.stop();
      bestNetwork.dispose();
    }
    const test = scoreOutputs(testOut, this.metricNames, this.evalWeights);
    this.timers.test.stop();
    const testDir = join(runDir, RUN_FILES.test);
    rmSync(testDir, { recursive: true, force: true });
    ensureDir(testDir);
    if (config.save_test_outputs) saveOutputs(testDir, "test", testOut);
    writeYaml(join(testDir, RUN_FILES.testHolistic), resultsYaml({ ...test.metrics, loss: test.loss }));

    writeYaml(join(runDir, RUN_FILES.best, RUN_FILES.bestResults), this.bestResults(best.iteration));
    this.log(`Best results at ${this.trainingType} ${best.iteration}: ${formatValues(best.metrics)}`);
    this.log(`Test results: ${formatValues({ ...test.metrics, loss: test.loss })}`);
    writeYaml(join(runDir, RUN_FILES.timer), {
      train: this.timers.train.summary(),
      dev: this.timers.dev.summary(),
      test: this.timers.test.summary(),
    });
    for (const cb of this.callbacks) await cb.onTrainEnd?.(this);
    writeCsv(join(runDir, RUN_FILES.timing), ["iteration", "samples_seen", "train_seconds"], this.timings);
    const columns = [...this.metricNames, "train_loss", "dev_loss", "iteration", "samples_seen"];
    writeCsv(join(runDir, RUN_FILES.metrics), columns, this.rows);
    // Only now that metrics.csv marks the run finished (see dropResumeSnapshots).
    dropResumeSnapshots(runDir);
  }

  /** Best value of every metric over the run, the lowest losses, and the best iteration (autrainer's best_results.yaml). */
  private bestResults(bestIteration: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of this.metricNames) out[name] = Math.max(...this.rows.map((r) => r[name] ?? Number.NaN));
    for (const name of ["train_loss", "dev_loss"]) {
      const values = this.rows.map((r) => r[name] ?? Number.NaN).filter((v) => !Number.isNaN(v));
      out[`${name}_min`] = values.length > 0 ? Math.min(...values) : Number.NaN;
    }
    out.best_iteration = bestIteration;
    return out;
  }
}
