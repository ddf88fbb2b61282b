import { ConfigError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { rawToCode } from "./labels.js";
import { type DatasetOptions, numberOption, splitFractions, splitSeed } from "./options.js";
import { assertNonEmptySplits, positionalSplit } from "./splits.js";
import { featureStore, SplitDataset, subsetOfRows } from "./store.js";
import type { Dataset } from "./types.js";

/**
 * Seeded synthetic classification data after autrainer's ToyDataset (`ToyTabular-C`: 1000
 * samples, 10 classes, 64 features, positional 600/200/200 split, class names `class_<k+1>`).
 * Unlike the original, which draws fresh uniform noise on every access (so difficulty scores on it
 * are noise), each sample's features are fixed by (seed, index): its class mean plus Gaussian noise
 * whose scale varies per sample, so some samples are genuinely harder than others.
 */
export interface ToyParams {
  size: number;
  numTargets: number;
  featureShape: number[];
  /** Distance scale of the class means. */
  separation: number;
  /** Per-sample noise scale is drawn uniformly from [noiseMin, noiseMax]. */
  noiseMin: number;
  noiseMax: number;
}

/** Generates the toy data (pure given the seed): raw label ids, features, per-sample noise scales. */
export function generateToy(
  params: ToyParams,
  seed: number,
): { labels: Int32Array; features: Float32Array; noise: Float32Array } {
  const f = params.featureShape.reduce((a, b) => a * b, 1);
  const means = new Float32Array(params.numTargets * f);
  const meanRng = Rng.derive(seed, "toy:means");
  for (let i = 0; i < means.length; i++) means[i] = meanRng.normal() * params.separation;
  const labelRng = Rng.derive(seed, "toy:labels");
  const labels = new Int32Array(params.size);
  for (let i = 0; i < params.size; i++) labels[i] = labelRng.int(params.numTargets);
  const features = new Float32Array(params.size * f);
  const noise = new Float32Array(params.size);
  for (let i = 0; i < params.size; i++) {
    // One stream per sample: sample i is the same whatever `size` is.
    const rng = Rng.derive(seed, `toy:sample:${i}`);
    const sigma = params.noiseMin + (params.noiseMax - params.noiseMin) * rng.random();
    noise[i] = sigma;
    const c = labels[i] as number;
    for (let j = 0; j < f; j++) features[i * f + j] = (means[c * f + j] as number) + sigma * rng.normal();
  }
  return { labels, features, noise };
}

function featureShapeOption(config: DatasetOptions): number[] {
  const raw = config.feature_shape ?? 64;
  const list = typeof raw === "number" ? [raw] : raw;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.some((d) => typeof d !== "number" || !Number.isInteger(d) || d <= 0)
  ) {
    throw new ConfigError(
      "dataset.feature_shape",
      `expected a positive integer or a list of them, got ${JSON.stringify(raw)}`,
    );
  }
  return list as number[];
}

export async function createToy(config: DatasetOptions & { id: string }): Promise<Dataset> {
  const seed = splitSeed(config);
  const params: ToyParams = {
    size: numberOption(config, "size", 1000, { integer: true, above: 0 }),
    numTargets: numberOption(config, "num_targets", 10, { integer: true, min: 2 }),
    featureShape: featureShapeOption(config),
    separation: numberOption(config, "separation", 0.5, { above: 0 }),
    noiseMin: numberOption(config, "noise_min", 0.5, { min: 0 }),
    noiseMax: numberOption(config, "noise_max", 2, { min: 0 }),
  };
  if (params.noiseMax < params.noiseMin) {
    throw new ConfigError(
      "dataset.noise_max",
      `must be >= noise_min (${params.noiseMin}), got ${params.noiseMax}`,
    );
  }
  const fractions = splitFractions(config, { dev: 0.2, test: 0.2 });
  const { labels, features } = generateToy(params, seed);
  const names = Array.from({ length: params.numTargets }, (_, k) => `class_${k + 1}`);
  const { classNames, codeOfRaw } = rawToCode(names);
  const codes = labels.map((raw) => codeOfRaw[raw] as number);
  const split = positionalSplit(params.size, fractions);
  assertNonEmptySplits(
    config.id,
    { train: split.train.length, dev: split.dev.length, test: split.test.length },
    {
      dev: `size ${params.size} × dev_split ${fractions.dev}`,
      test: `size ${params.size} × test_split ${fractions.test}`,
    },
  );
  const store = featureStore(features, features.length / params.size);
  return new SplitDataset({
    id: config.id,
    featureShape: params.featureShape,
    classNames,
    isImage: false,
    subsets: {
      train: subsetOfRows("train", store, split.train, codes),
      dev: subsetOfRows("dev", store, split.dev, codes),
      test: subsetOfRows("test", store, split.test, codes),
    },
  });
}
