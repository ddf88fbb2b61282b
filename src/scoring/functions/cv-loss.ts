import { join } from "node:path";
import { z } from "zod";
import { buildForRun, networkSpecFor, trainRun } from "../../assembly/train-run.js";
import { cartesian, loadGroupConfig } from "../../config/compose.js";
import { RUN_FILES } from "../../config/layout.js";
import { formatNumber } from "../../config/naming.js";
import { parseRunConfig } from "../../config/parse.js";
import { parseSeed, type RunConfig } from "../../config/schema.js";
import type { Dataset, Subset } from "../../data/types.js";
import { checkpointDir } from "../../results/run-folder.js";
import { balancedClassWeights, perSampleCrossEntropy } from "../../training/index.js";
import { ConfigError, CurriculaError } from "../../util/errors.js";
import { acquireLock } from "../../util/lock.js";
import { Rng } from "../../util/rng.js";
import { AbstractScore, type AtomicRun, type ScoreResult } from "../abstract-score.js";
import { BaseScoreParams, Criterion, type ScoringCriterion } from "../argument-schemas.js";
import { complement, crossValidationFolds } from "../math/folds.js";

/** Setup keys that name a config group (a string value loads `<group>/<value>.yaml`). */
const GROUP_KEYS = ["dataset", "model", "optimizer", "scheduler", "augmentation"] as const;

/** Keys of a CVLoss setup and their defaults (`???` = required), as aucurriculum's CVLoss.yaml. */
export const SETUP_DEFAULTS: Record<string, unknown> = {
  filters: null,
  dataset: "???",
  model: "???",
  optimizer: "???",
  learning_rate: "???",
  scheduler: "None",
  augmentation: "None",
  seed: "???",
  batch_size: "???",
  inference_batch_size: 256,
  training_type: "epoch",
  iterations: 5,
  eval_frequency: 1,
  save_frequency: 1,
  save_train_outputs: true,
  save_dev_outputs: true,
  save_test_outputs: true,
};

/**
 * CVLoss: k-fold cross-validation loss. For each split a model is trained from scratch on the other
 * folds (a full training run through the trainer) and scores the held-out fold with its loss, so
 * every sample is scored exactly once per configuration, by a model that never saw it. A `setup`
 * grid (YAML lists expand, unlike the original) gives one score per configuration, averaged.
 * A held-out loss in the spirit of the bootstrapping/transfer scores of Hacohen & Weinshall,
 * ICML 2019 (arXiv 1904.03626); aucurriculum lists no reference.
 */
export class CVLoss extends AbstractScore {
  static override readonly schema: z.ZodObject = BaseScoreParams.extend({
    splits: z.number().int().default(3),
    setup: z.record(z.string(), z.unknown()),
    criterion: Criterion,
    stop: z.string().default("best"),
  });
  static override readonly reference: string = "k-fold cross-validation loss (no reference in aucurriculum)";

  constructor(...args: ConstructorParameters<typeof AbstractScore>) {
    super(...args);
    const splits = this.params.splits as number;
    if (splits < 2)
      throw new ConfigError(
        "curriculum.scoring.splits",
        `Number of splits must be at least 2, got '${splits}'`,
      );
    if (this.subsetName !== "train") {
      throw new ConfigError(
        "curriculum.scoring.subset",
        `Subset '${this.subsetName}' not supported by ${this.constructor.name}: folds are trained through the train subset`,
      );
    }
  }

  /** One atomic run per (split, setup point), named `<split>_<dataset>_…_<seed>_<criterion>_<b|l>`. */
  override async preprocess(): Promise<AtomicRun[]> {
    const setup = { ...SETUP_DEFAULTS, ...(this.params.setup as Record<string, unknown>) };
    if (setup.filters !== null && setup.filters !== undefined) {
      throw new ConfigError(
        "curriculum.scoring.setup.filters",
        "filters are not supported for CVLoss setups; list the values to combine instead",
      );
    }
    delete setup.filters;
    for (const [key, value] of Object.entries(setup)) {
      if (value === "???")
        throw new ConfigError(`curriculum.scoring.setup.${key}`, "required value missing (still '???')");
    }
    const runs: AtomicRun[] = [];
    for (const point of expandSetup(setup)) {
      const config = this.buildConfig(point);
      const base = [
        config.dataset.id,
        config.model.id,
        config.optimizer.id,
        formatNumber(config.learning_rate),
        String(config.batch_size),
        config.training_type,
        String(config.iterations),
        config.scheduler.id,
        config.augmentation.id,
        String(config.seed),
        ...this.nameTail(),
      ].join("_");
      for (let split = 0; split < (this.params.splits as number); split++) {
        runs.push({
          name: `${split}_${base}`,
          config: config as Record<string, unknown>,
          group: base,
          details: { split },
        });
      }
    }
    return runs;
  }

  /** Last fields of atomic run names: the criterion and the stop's first letter. */
  protected nameTail(): string[] {
    return [this.params.criterion as string, (this.params.stop as string)[0] as string];
  }

  private buildConfig(point: Record<string, unknown>): RunConfig {
    const config: Record<string, unknown> = {
      ...point,
      results_dir: this.context.resultsDir,
      experiment_id: this.context.experimentId,
      progress_bar: this.context.progress,
    };
    for (const key of GROUP_KEYS) {
      const value = point[key];
      if (typeof value === "string") config[key] = loadGroupConfig(key, value, this.context.configPath);
    }
    return parseRunConfig(config, "curriculum.scoring.setup");
  }

  /** A fold's folder is a training run, which resumes after a crash. */
  override readonly keepsFolderOnFailure = true;

  async score(run: AtomicRun): Promise<ScoreResult> {
    const config = parseRunConfig(run.config);
    const fold = await cvFold(config, this.params.splits as number, run.details?.split as number);
    const { dataset, subset, heldOut, trainPositions } = fold;
    const runDir = await this.trainFold(run, config, fold);
    const logits = await this.heldOutLogits(runDir, config, fold);
    const labels = Int32Array.from(heldOut, (p) => subset.labels[p] as number);
    const weights =
      (this.params.criterion as ScoringCriterion) === "BalancedCrossEntropyLoss"
        ? balancedClassWeights(
            Array.from(trainPositions, (p) => subset.labels[p] as number),
            dataset.outputDim,
          )
        : null;
    const scores = perSampleCrossEntropy(logits, labels, dataset.outputDim, weights);
    return { subset, classNames: dataset.classNames, positions: heldOut, columns: { scores } };
  }

  /** Trains (or resumes) the model of one split on the other folds into `<type>/<atomic run>/`. */
  protected async trainFold(run: AtomicRun, config: RunConfig, fold: CvFold): Promise<string> {
    const runDir = join(this.context.outputDirectory, run.name);
    // A fold is a training run: it takes the run lock, as `curricula train` does (another score id
    // with the same setup shares the fold's folder).
    const lock = acquireLock(runDir);
    if ("heldBy" in lock) throw new CurriculaError(`${runDir}: busy: being trained by ${lock.heldBy}`);
    try {
      await this.time("train", () =>
        trainRun(config, {
          runDir,
          dataset: fold.dataset,
          trainPositions: fold.trainPositions,
          progress: this.context.progress,
          log: null,
        }),
      );
    } finally {
      lock.release();
    }
    return runDir;
  }

  /** Logits of the held-out fold from the split's model at the `stop` checkpoint. */
  protected async heldOutLogits(runDir: string, config: RunConfig, fold: CvFold): Promise<Float32Array> {
    // The split's model (possibly another score's, for ConfidentLearning) must be the config's network.
    const network = await this.loadNetwork(checkpointDir(runDir, this.params.stop as "best" | "last"), {
      spec: networkSpecFor(config, fold.dataset),
      configFile: join(runDir, RUN_FILES.config),
    });
    try {
      return await this.logitsOf(network, fold.subset, this.batchSizeFor(config), fold.heldOut);
    } finally {
      network.dispose();
    }
  }
}

/** One cross-validation split of a configuration's train subset. */
export interface CvFold {
  dataset: Dataset;
  subset: Subset;
  /** Positions held out (scored) in this split. */
  heldOut: Int32Array;
  /** The other positions (trained on). */
  trainPositions: Int32Array;
}

/**
 * The folds of CVLoss: a seeded random partition (the config's dataset seed) of the train subset
 * into `splits` folds; split `split` holds out one of them.
 */
export async function cvFold(config: RunConfig, splits: number, split: number): Promise<CvFold> {
  const dataSeed = parseSeed(config.seed).data;
  const { dataset } = await buildForRun(config);
  const subset = dataset.subset("train");
  const folds = crossValidationFolds(subset.size, splits, Rng.derive(dataSeed, "cvloss-folds"));
  const heldOut = folds[split];
  if (!heldOut)
    throw new ConfigError("curriculum.scoring.splits", `split ${split} of ${splits} does not exist`);
  return { dataset, subset, heldOut, trainPositions: complement(subset.size, heldOut) };
}

/** Every combination of the setup's values (a list sweeps; key order kept). */
export function expandSetup(setup: Record<string, unknown>): Record<string, unknown>[] {
  const keys = Object.keys(setup);
  const axes = keys.map((key) => (Array.isArray(setup[key]) ? (setup[key] as unknown[]) : [setup[key]]));
  return cartesian(axes).map((values) => Object.fromEntries(keys.map((key, i) => [key, values[i]])));
}
