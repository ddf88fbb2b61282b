import { join } from "node:path";
import { RUN_FILES } from "../config/layout.js";
import { parseRunConfig } from "../config/parse.js";
import { type DatasetConfig, MODEL_INIT_KEYS, parseSeed, type RunConfig } from "../config/schema.js";
import { createCurriculumCallback } from "../curriculum/pace-manager.js";
import { checkFinishedRunScore } from "../curriculum/trained-score.js";
import { augmentTraining } from "../data/augmentation/index.js";
import type { Dataset } from "../data/types.js";
import type { NetworkInit } from "../engine/index.js";
import { optimizerSpecFor } from "../engine/optimizer-spec.js";
import type { EngineInfo, Network, NetworkSpec, OptimizerSpec, TrainableOptions } from "../engine/types.js";
import { TORCHSCRIPT } from "../models/index.js";
import { readRunResult } from "../results/run-folder.js";
import { criterionClassWeights } from "../training/criteria.js";
import { refuseOtherEngine } from "../training/hardware.js";
import { dropResumeSnapshots, planRunFolder, positionsHash, type RunFolderPlan } from "../training/resume.js";
import { restrictSubset } from "../training/shuffle-sampler.js";
import { logRunFailure, runTrainer, type TrainerSetup } from "../training/trainer.js";
import type { TrainCallback, TrainOptions, TrainResult } from "../training/types.js";
import { ConfigError, DataError } from "../util/errors.js";
import type { RngState } from "../util/rng.js";
import { checkFinishedRunModule, checkLoadedNetwork, scriptModelParams } from "./model-check.js";
import { createRunDataset, withReviewTagsFingerprints } from "./review.js";
import { networkInit, withWeightsFingerprint } from "./weights.js";

/**
 * Assembles a training run from its config, above the training and curriculum layers: the dataset,
 * the network (new, or loaded from the checkpoint a crashed run resumes from), the criterion's
 * class weights and the callbacks (the curriculum's pace manager when `curriculum` is not None,
 * then the caller's) are built here and handed to the trainer, which knows nothing of curricula.
 * Fresh, reused and resumed runs, and CVLoss's fold runs, all go through `trainRun`, so a resumed
 * run reinstalls the same callbacks.
 */

/** The engine a run asks for (its config's `engine`, `device`, `threads`). */
export interface EngineRequest {
  engine: RunConfig["engine"];
  device: string;
  threads: number | "auto" | null;
}

/**
 * What a run needs from the engine and data modules. `trainRun` uses the real ones; tests and
 * alternative engines pass their own to `trainRunWith`. The real modules are imported lazily so
 * that run-folder readers never load TensorFlow.js.
 */
export interface TrainerDeps {
  initEngine(request?: EngineRequest): Promise<EngineInfo>;
  /** The engine `engine: auto|wasm|torch` runs on here (written to config.yaml, compared on reuse). */
  resolveEngine(choice: RunConfig["engine"]): Promise<"wasm" | "torch">;
  /** One line on how to build the torch engine when libtorch is here but the addon is not built, or null. */
  torchBuildHint?(): Promise<string | null>;
  createDataset(config: DatasetConfig): Promise<Dataset>;
  /** A new network; `init`: start weights and frozen parameters (model.weights, model.freeze). */
  createNetwork(
    spec: NetworkSpec,
    optimizer: OptimizerSpec | null,
    seed: number,
    init?: NetworkInit,
  ): Network;
  loadNetwork(dir: string, optimizer?: OptimizerSpec | null, options?: TrainableOptions): Promise<Network>;
}

/** The engine and data modules of this package. */
export async function defaultDeps(): Promise<TrainerDeps> {
  const engine = await import("../engine/index.js");
  return {
    initEngine: (request) => engine.initEngine(request ?? {}),
    resolveEngine: (choice) => engine.resolveEngineChoice(choice),
    torchBuildHint: () => engine.torchBuildHint(),
    createDataset: (config) => createRunDataset(config),
    createNetwork: (spec, optimizer, seed, init) => engine.createNetwork(spec, optimizer, seed, init),
    loadNetwork: (dir, optimizer, options) => engine.loadNetwork(dir, optimizer, options),
  };
}

/**
 * Trains one run into `options.runDir` (autrainer's ModularTaskTrainer): reuses a finished run of
 * the same config, resumes a crashed one, and refuses a folder of a different config.
 */
export async function trainRun(config: RunConfig, options: TrainOptions): Promise<TrainResult> {
  return trainRunWith(await defaultDeps(), config, options);
}

/** {@link trainRun} with explicit engine and data functions (tests, alternative engines). */
export async function trainRunWith(
  deps: TrainerDeps,
  config: RunConfig,
  options: TrainOptions,
): Promise<TrainResult> {
  const parsed = parseRunConfig(config);
  // The engine the run computes on is part of what the run is: config.yaml records it and a
  // finished run of another engine is a config mismatch, never silently mixed in. So are the start
  // weights and the review tags, by their fingerprints.
  const resolved: RunConfig = withReviewTagsFingerprints(
    withWeightsFingerprint({
      ...parsed,
      engine: await deps.resolveEngine(parsed.engine),
    }),
  );
  let plan: RunFolderPlan;
  try {
    plan = planRunFolder(options.runDir, resolved);
  } catch (error) {
    // An unfinished run of this config that cannot be resumed (damaged checkpoints): its log says
    // why. A folder of another config is refused without writing to it.
    if (error instanceof DataError) logRunFailure(options.runDir, error);
    throw error;
  }
  if (plan.kind === "finished") {
    checkFinishedRunScore(options.runDir, resolved);
    checkFinishedRunModule(options.runDir, resolved);
    // A run killed after metrics.csv but before its resume snapshots were removed.
    dropResumeSnapshots(options.runDir);
    return readRunResult(options.runDir, true);
  }
  if (plan.kind === "resume" && plan.state.trainPositionsHash !== positionsHash(options.trainPositions)) {
    throw new ConfigError(
      "trainPositions",
      "the unfinished run in this folder trained on other training positions; delete the folder to start over",
      join(plan.dir, RUN_FILES.trainerState),
    );
  }
  let setup: TrainerSetup;
  try {
    setup = await assembleRun(deps, resolved, options, plan);
  } catch (error) {
    // A resumed (or earlier failed) run's log says why this attempt stopped.
    logRunFailure(options.runDir, error);
    throw error;
  }
  if (!hinted && parsed.engine === "auto" && resolved.engine === "wasm" && deps.torchBuildHint) {
    const seconds = estimatedWasmSeconds(resolved, setup.train.size);
    const hint = seconds > LONG_ON_WASM_SECONDS ? await deps.torchBuildHint() : null;
    if (hint && !hinted) {
      hinted = true;
      process.stderr.write(`about ${Math.round(seconds / 60)} min on the wasm engine; ${hint}\n`);
    }
  }
  await runTrainer(setup, options);
  return readRunResult(options.runDir, false);
}

/** Training longer than this on wasm is worth a line on how to build the torch engine. */
const LONG_ON_WASM_SECONDS = 180;
/** Training samples per second of the wasm engine by model type on one core (measured, rounded down). */
const WASM_SAMPLES_PER_SECOND: Record<string, number> = {
  FFNN: 20_000,
  CNN: 350,
  ResCNN: 120,
  AudioCNN: 250,
};
let hinted = false;

/** A rough estimate of a run's training time on the wasm engine (the samples it trains on, by model). */
function estimatedWasmSeconds(config: RunConfig, trainSize: number): number {
  const rate = WASM_SAMPLES_PER_SECOND[config.model.type] ?? 1000;
  const samples =
    config.training_type === "epoch" ? config.iterations * trainSize : config.iterations * config.batch_size;
  return samples / rate;
}

/** The network spec of a run: input shape and classes from the dataset, parameters from the model config. */
export function networkSpecFor(config: RunConfig, dataset: Dataset): NetworkSpec {
  const { id: _id, type, ...rest } = config.model;
  // How the network starts and trains (start weights, frozen parameters) is no part of what it is.
  const params: Record<string, unknown> = { ...rest };
  for (const key of MODEL_INIT_KEYS) delete params[key];
  const spec = { type, inputShape: [...dataset.featureShape], outputDim: dataset.outputDim, params };
  return type === TORCHSCRIPT ? { ...spec, params: scriptModelParams(params) } : spec;
}

/**
 * Rebuilds a run's dataset (with its dataset seed) and network spec from its config; for training
 * and for scoring. A `dataset` already built from `config.dataset` is used as it is.
 */
export async function buildForRun(
  config: RunConfig,
  from: Partial<Pick<TrainerDeps, "createDataset">> & { dataset?: Dataset } = {},
): Promise<{ dataset: Dataset; spec: NetworkSpec }> {
  const resolved = parseRunConfig(config);
  let dataset = from.dataset;
  if (!dataset) {
    const createDataset = from.createDataset ?? createRunDataset;
    dataset = await createDataset(resolved.dataset);
  }
  return { dataset, spec: networkSpecFor(resolved, dataset) };
}

/**
 * The callbacks a run trains with: the curriculum's pace manager (when the config has a
 * curriculum), then the caller's. Names must be unique: they key the callbacks' saved states.
 */
export function runCallbacks(config: RunConfig, extra: readonly TrainCallback[] = []): TrainCallback[] {
  const curriculum = createCurriculumCallback(config);
  const callbacks = [...(curriculum ? [curriculum] : []), ...extra];
  const names = new Set<string>();
  for (const cb of callbacks) {
    if (names.has(cb.name))
      throw new Error(`two training callbacks are named '${cb.name}'; names must be unique`);
    names.add(cb.name);
  }
  return callbacks;
}

/**
 * Builds everything the trainer is handed for one run: the engine, the dataset and training
 * subset, the network (a new one, or the checkpoint's when `plan` resumes), the criterion's class
 * weights and the callbacks.
 */
export async function assembleRun(
  deps: TrainerDeps,
  config: RunConfig,
  options: TrainOptions,
  plan: RunFolderPlan,
): Promise<TrainerSetup> {
  const seeds = parseSeed(config.seed);
  const engineInfo = await deps.initEngine({
    engine: config.engine,
    device: config.device,
    threads: config.threads,
  });
  const { dataset, spec } = await buildForRun(config, {
    createDataset: deps.createDataset,
    ...(options.dataset ? { dataset: options.dataset } : {}),
  });
  const fullTrain = dataset.subset("train");
  const train = options.trainPositions ? restrictSubset(fullTrain, options.trainPositions) : fullTrain;
  if (train.size === 0) throw new ConfigError("trainPositions", "selects no training sample");
  // Training batches are augmented on a stream of the data seed; its state is a callback's, so it
  // goes into every checkpoint and a resume continues it.
  const augmented = augmentTraining(config.augmentation, dataset, train, seeds.data);
  const callbacks = runCallbacks(config, [
    ...(options.callbacks ?? []),
    ...(augmented
      ? [
          {
            name: "augmentation",
            getState: () => augmented.rng.getState(),
            setState: (state: unknown) => augmented.rng.setState(state as RngState),
          },
        ]
      : []),
  ]);
  const optimizer = optimizerSpecFor(config);
  let network: Network;
  const configFile = join(options.runDir, RUN_FILES.config);
  // Start weights only for a fresh run (a resumed one continues from its checkpoint); frozen
  // parameters stay frozen either way.
  const { init, notes } = await networkInit(config, spec, plan.kind !== "resume");
  if (dataset.review) {
    const { excluded, relabelled } = dataset.review;
    notes.push(
      `Review tags: ${excluded.length} train samples excluded (dataset.exclude), ${relabelled.length} relabelled (dataset.relabel)`,
    );
  }
  if (plan.kind === "resume") {
    await refuseOtherEngine(plan.dir, engineInfo);
    network = checkLoadedNetwork(
      await deps.loadNetwork(plan.dir, optimizer, init.frozen ? { frozen: init.frozen } : {}),
      spec,
      plan.dir,
      configFile,
    );
    await network.loadOptimizerState(plan.dir);
    network.setRngState(plan.state.networkRng);
  } else {
    network = deps.createNetwork(spec, optimizer, seeds.train, init);
  }
  return {
    config,
    plan,
    engineInfo,
    dataset,
    train,
    ...(augmented ? { trainBatches: augmented } : {}),
    network,
    classWeights: criterionClassWeights(config.dataset.criterion, train.labels, dataset.outputDim),
    callbacks,
    loadNetwork: async (dir) => checkLoadedNetwork(await deps.loadNetwork(dir, null), spec, dir, configFile),
    notes,
  };
}
