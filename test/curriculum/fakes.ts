import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunConfig } from "../../src/config/schema.js";
import type { Batch, Dataset, Subset, SubsetName } from "../../src/data/types.js";
import type { PassSampler, TrainCallback, TrainContext } from "../../src/training/types.js";
import { writeCsv } from "../../src/util/csv.js";

/** A tiny in-memory subset: labels given, features unused. */
export function fakeSubset(name: SubsetName, labels: number[], sourceOffset = 100): Subset {
  return {
    name,
    size: labels.length,
    labels: Int32Array.from(labels),
    sourceIndex: Int32Array.from(labels, (_, i) => sourceOffset + i),
    batch(positions: ArrayLike<number>): Batch {
      const index = Int32Array.from(positions as ArrayLike<number>);
      return {
        x: new Float32Array(index.length),
        y: Int32Array.from(index, (p) => labels[p] as number),
        index,
      };
    },
  };
}

export function fakeDataset(trainLabels: number[], numClasses: number): Dataset {
  const train = fakeSubset("train", trainLabels);
  return {
    id: "Fake",
    featureShape: [1],
    classNames: Array.from({ length: numClasses }, (_, c) => `c${c}`),
    outputDim: numClasses,
    isImage: false,
    subset: (name) => (name === "train" ? train : fakeSubset(name, [0])),
  };
}

export function tempDir(prefix = "curricula-curriculum-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A run config with a curriculum (defaults: Curriculum, Unbalanced, Linear 0.5/0.5, score CELoss). */
export function curriculumConfig(
  resultsDir: string,
  overrides: {
    type?: RunConfig["curriculum"]["type"];
    sampling?: RunConfig["curriculum"]["sampling"]["id"];
    pacing?: Record<string, unknown>;
    iterations?: number;
    criterion?: "CrossEntropy" | "BalancedCrossEntropy";
    trainingType?: "epoch" | "step";
    seed?: number;
  } = {},
): RunConfig {
  const type = overrides.type ?? "Curriculum";
  const sampling = overrides.sampling ?? "Unbalanced";
  return {
    results_dir: resultsDir,
    experiment_id: "exp",
    seed: overrides.seed ?? 1,
    batch_size: 4,
    inference_batch_size: 16,
    learning_rate: 0.01,
    training_type: overrides.trainingType ?? "epoch",
    iterations: overrides.iterations ?? 4,
    eval_frequency: 1,
    save_frequency: 1,
    progress_bar: false,
    save_train_outputs: false,
    save_dev_outputs: false,
    save_test_outputs: false,
    dataset: {
      id: "Fake",
      type: "Fake",
      criterion: overrides.criterion ?? "CrossEntropy",
      metrics: ["accuracy"],
      tracking_metric: "accuracy",
    },
    model: { id: "M", type: "FFNN" },
    optimizer: { id: "Adam", type: "Adam" },
    scheduler: { id: "None", type: "None" },
    augmentation: { id: "None" },
    curriculum: {
      id: type,
      type,
      short: type[0] as string,
      scoring: { id: "CELoss", type: "CELoss" },
      pacing: { id: "Linear", type: "Linear", initial_size: 0.5, final_iteration: 0.5, ...overrides.pacing },
      sampling: { id: sampling, short: sampling[0] as string },
    },
  } as RunConfig;
}

/** Writes a score file whose ranks are given by position. */
export function writeScores(config: RunConfig, ranks: number[], sourceOffset = 100): string {
  const path = join(config.results_dir, config.experiment_id, "curriculum", "CELoss", "CELoss.csv");
  writeCsv(
    path,
    ["index", "source_index", "mean", "ranks"],
    ranks.map((r, i) => ({ index: i, source_index: sourceOffset + i, mean: r, ranks: r })),
  );
  return path;
}

export interface FakeContext extends TrainContext {
  sampler: PassSampler | null;
  weights: Float32Array | null;
  lines: string[];
  setIteration(i: number): void;
}

export function fakeContext(config: RunConfig, dataset: Dataset, runDir: string): FakeContext {
  let iteration = 0;
  const ctx: FakeContext = {
    config,
    runDir,
    dataset,
    train: dataset.subset("train"),
    network: null as never,
    trainingType: config.training_type,
    totalIterations: config.iterations,
    get iteration() {
      return iteration;
    },
    sampler: null,
    weights: null,
    lines: [],
    setIteration(i: number) {
      iteration = i;
    },
    setSampler(sampler: PassSampler) {
      ctx.sampler = sampler;
    },
    setClassWeights(weights: Float32Array | null) {
      ctx.weights = weights;
    },
    get classWeights() {
      return ctx.weights;
    },
    log(line: string) {
      ctx.lines.push(line);
    },
  };
  return ctx;
}

/**
 * A minimal epoch loop with the trainer's callback order: each epoch takes one pass, validates,
 * then reports the exhausted pass. Returns the passes seen (epochs from..to).
 */
export async function runEpochs(
  cb: TrainCallback,
  ctx: FakeContext,
  from: number,
  to: number,
  metric: (epoch: number) => number = () => 0.5,
): Promise<number[][]> {
  const passes: number[][] = [];
  for (let epoch = from; epoch <= to; epoch++) {
    ctx.setIteration(epoch);
    passes.push(Array.from((ctx.sampler as PassSampler).nextPass()));
    await cb.onValidationEnd?.(ctx, epoch, { accuracy: metric(epoch) });
    await cb.onPassExhausted?.(ctx, epoch);
  }
  return passes;
}
