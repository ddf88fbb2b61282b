import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Batch, Dataset, Subset, SubsetName } from "../../src/data/types.js";
import { writeCsv } from "../../src/util/csv.js";
import { encodeNpy } from "../../src/util/npy.js";
import { Rng } from "../../src/util/rng.js";
import { writeYaml } from "../../src/util/yaml-io.js";

/**
 * A small synthetic results folder (the layout of docs/architecture.md) so report tests do not
 * depend on training: 4 conditions × 3 seeds, metrics, pace, test results, two scores, a
 * correlation matrix, and one unfinished run.
 */

export const FIXTURE_EXPERIMENT = "synth";
export const FIXTURE_SAMPLES = 40;
export const FIXTURE_CLASSES = ["cat", "dog", "fish", "owl"];

const SHORT: Record<string, string> = {
  None: "N",
  Curriculum: "C",
  AntiCurriculum: "A",
  RandomCurriculum: "R",
};

export function fixtureRunName(type: string, seed: number): string {
  const curriculum = type === "None" ? "N_N_None_None_1_0" : `${SHORT[type]}_B_CELoss-1_Linear_0.2_0.8`;
  return `Fake_FFNN_Adam_0.001_16_epoch_6_None_None_${curriculum}_${seed}`;
}

function writeRun(trainingDir: string, type: string, seed: number, finished: boolean): void {
  const name = fixtureRunName(type, seed);
  const dir = join(trainingDir, name);
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed * 31 + type.length);
  const curriculum =
    type === "None"
      ? { id: "None", type: "None", short: "N" }
      : {
          id: type,
          type,
          short: SHORT[type],
          scoring: { id: "CELoss-1", type: "CELoss" },
          pacing: { id: "Linear", type: "Linear", initial_size: 0.2, final_iteration: 0.8 },
          sampling: { id: "Balanced", short: "B" },
        };
  writeYaml(join(dir, "config.yaml"), {
    experiment_id: FIXTURE_EXPERIMENT,
    seed,
    batch_size: 16,
    learning_rate: 0.001,
    iterations: 6,
    dataset: { id: "Fake", type: "Fake", tracking_metric: "accuracy", metrics: ["accuracy", "uar", "f1"] },
    model: { id: "FFNN", type: "FFNN" },
    optimizer: { id: "Adam", type: "Adam" },
    curriculum,
  });
  if (!finished) return;
  const offset = { None: 0, Curriculum: 0.04, AntiCurriculum: -0.05, RandomCurriculum: 0.01 }[type] ?? 0;
  const rows = Array.from({ length: 6 }, (_, i) => {
    const acc = Math.min(0.99, 0.5 + 0.07 * i + offset + 0.02 * rng.random());
    return {
      accuracy: acc,
      uar: acc - 0.01,
      f1: acc - 0.02,
      train_loss: 1.5 / (i + 1),
      dev_loss: 1.6 / (i + 1) + 0.05 * rng.random(),
      iteration: i + 1,
      samples_seen: 64 * (i + 1),
    };
  });
  writeCsv(
    join(dir, "metrics.csv"),
    ["accuracy", "uar", "f1", "train_loss", "dev_loss", "iteration", "samples_seen"],
    rows,
  );
  const last = rows.at(-1) as (typeof rows)[number];
  writeYaml(join(dir, "_test", "test_holistic.yaml"), {
    accuracy: { all: last.accuracy - 0.01 },
    uar: { all: last.uar - 0.01 },
    f1: { all: last.f1 - 0.01 },
    loss: { all: last.dev_loss + 0.02 },
  });
  // Test outputs: 4 classes × 5 samples; class c is predicted right except for its first `c` samples
  // (predicted as class c - 1), so the confusion matrix is known exactly.
  const logits = new Float32Array(20 * 4);
  const targets = new Int32Array(20);
  for (let i = 0; i < 20; i++) {
    const c = Math.floor(i / 5);
    targets[i] = c;
    const predicted = i % 5 < c ? c - 1 : c;
    logits[i * 4 + predicted] = 5;
  }
  mkdirSync(join(dir, "_test"), { recursive: true });
  writeFileSync(join(dir, "_test", "test_outputs.npy"), encodeNpy(logits, [20, 4]));
  writeFileSync(join(dir, "_test", "test_targets.npy"), encodeNpy(targets, [20]));
  writeFileSync(
    join(dir, "_test", "test_indices.npy"),
    encodeNpy(
      Int32Array.from({ length: 20 }, (_, i) => i),
      [20],
    ),
  );
  if (type !== "None") {
    const pace = Array.from({ length: 7 }, (_, i) => ({
      iteration: i,
      dataset_size: Math.min(FIXTURE_SAMPLES, Math.round(FIXTURE_SAMPLES * (0.2 + (0.8 * i) / 4.8))),
    }));
    writeCsv(join(dir, "pace.csv"), ["iteration", "dataset_size"], pace);
  }
}

function writeScore(curriculumDir: string, type: string, id: string, seed: number, runs: string[]): number[] {
  const rng = new Rng(seed);
  const mean = Array.from({ length: FIXTURE_SAMPLES }, (_, i) => (i % 4) * 0.5 + rng.random());
  const order = mean.map((_, i) => i).sort((a, b) => (mean[a] as number) - (mean[b] as number) || a - b);
  const ranks = new Array<number>(FIXTURE_SAMPLES);
  order.forEach((row, r) => {
    ranks[row] = r / (FIXTURE_SAMPLES - 1);
  });
  const rows = mean.map((m, i) => ({
    index: i,
    source_index: 100 + i,
    mean: m,
    ranks: ranks[i],
    encoded: i % 4,
    decoded: FIXTURE_CLASSES[i % 4],
  }));
  writeCsv(
    join(curriculumDir, type, `${id}.csv`),
    ["index", "source_index", "mean", "ranks", "encoded", "decoded"],
    rows,
  );
  writeYaml(join(curriculumDir, type, `${id}.yaml`), { runs, stop: "best", subset: "train", seconds: 1.5 });
  return ranks;
}

/** Writes the synthetic experiment under `resultsDir` and returns the experiment folder. */
export function writeFixture(resultsDir: string): string {
  const expDir = join(resultsDir, FIXTURE_EXPERIMENT);
  const trainingDir = join(expDir, "training");
  for (const type of ["None", "Curriculum", "AntiCurriculum", "RandomCurriculum"]) {
    for (const seed of [1, 2, 3]) writeRun(trainingDir, type, seed, true);
  }
  writeRun(trainingDir, "Curriculum", 4, false); // crashed run: config but no metrics.csv
  const curriculumDir = join(expDir, "curriculum");
  const baselines = [1, 2, 3].map((s) => fixtureRunName("None", s));
  writeScore(curriculumDir, "CELoss", "CELoss-1", 5, baselines);
  writeScore(curriculumDir, "Random", "Random-1", 9, []);
  // pandas layout: unnamed first column with the row labels
  writeFileSync(
    join(curriculumDir, "correlation_matrix.csv"),
    ",CELoss-1,Random-1\nCELoss-1,1.0,0.8312\nRandom-1,0.8312,1.0\n",
  );
  return expDir;
}

/**
 * An image dataset matching the fixture's scores: 40 train samples of 4×4 grey images whose
 * brightness pattern depends on the position, source indices 100 + position.
 */
export function fakeImageDataset(): Dataset {
  const shape = [4, 4, 1] as const;
  const size = FIXTURE_SAMPLES;
  const features = new Float32Array(size * 16);
  for (let i = 0; i < size; i++) for (let p = 0; p < 16; p++) features[i * 16 + p] = ((i + p) % 7) - 3;
  const subset = (name: SubsetName): Subset => ({
    name,
    size,
    labels: Int32Array.from({ length: size }, (_, i) => i % 4),
    sourceIndex: Int32Array.from({ length: size }, (_, i) => 100 + i),
    batch(positions: ArrayLike<number>): Batch {
      const n = positions.length;
      const x = new Float32Array(n * 16);
      for (let j = 0; j < n; j++)
        x.set(features.subarray((positions[j] as number) * 16, (positions[j] as number) * 16 + 16), j * 16);
      return {
        x,
        y: Int32Array.from({ length: n }, (_, j) => (positions[j] as number) % 4),
        index: Int32Array.from(positions as ArrayLike<number>),
      };
    },
  });
  return {
    id: "Fake",
    featureShape: [16],
    classNames: FIXTURE_CLASSES,
    outputDim: 4,
    isImage: true,
    imageShape: shape,
    subset,
  };
}
