import { existsSync } from "node:fs";
import { type DatasetConfig, REVIEW_DATASET_KEYS } from "../config/schema.js";
import { ConfigError } from "../util/errors.js";
import { createAudioFolder, preprocessAudioFolder } from "./audio-folder.js";
import { createCsvDataset } from "./csv.js";
import { createDigits } from "./digits.js";
import { createImageFolder, preprocessImageFolder } from "./image-folder.js";
import { parseLabelNoise, withLabelNoise } from "./label-noise.js";
import { createFashionMnist, createMnist } from "./mnist.js";
import { splitFractions, splitSeed } from "./options.js";
import { resolveDataPath } from "./paths.js";
import { type ReadTags, reviewEditsOf, withReviewEdits, withReviewFingerprints } from "./review-edits.js";
import { createToy } from "./toy.js";
import type { Dataset } from "./types.js";

/**
 * Datasets by config `type`. Each factory reads its own keys from the run config's `dataset`
 * object (criterion and metrics keys are the trainer's) and loads nothing before it is called.
 */
interface DatasetFactory {
  /** The type's own config keys (besides id, type, criterion, metrics, tracking_metric). */
  keys: readonly string[];
  create(config: DatasetConfig): Promise<Dataset>;
  /** Work done once before training (feature caches); absent when there is none. */
  preprocess?(config: DatasetConfig): Promise<void>;
}

const SPLIT_KEYS = ["dev_split", "test_split"] as const;
/** The folder datasets' root and index CSV (read by data/table.ts readFileIndex). */
const FILE_INDEX_KEYS = ["path", "index", "path_column", "label_column", "split_column"] as const;

const REGISTRY: Record<string, DatasetFactory> = {
  AudioFolder: {
    keys: [
      ...FILE_INDEX_KEYS,
      "sample_rate",
      "duration",
      "n_fft",
      "hop_length",
      "n_mels",
      "fmin",
      "fmax",
      "in_memory",
      "cache_dir",
      "normalize",
      "stratify",
      ...SPLIT_KEYS,
    ],
    create: createAudioFolder,
    preprocess: (config) => preprocessAudioFolder(config),
  },
  ImageFolder: {
    keys: [
      ...FILE_INDEX_KEYS,
      "image_size",
      "resize",
      "channels",
      "normalize",
      "on_error",
      "in_memory",
      "cache_dir",
      "stratify",
      ...SPLIT_KEYS,
    ],
    create: createImageFolder,
    preprocess: (config) => preprocessImageFolder(config),
  },
  CSV: {
    keys: [
      "path",
      "format",
      "target_column",
      "split_column",
      "feature_columns",
      "normalize",
      "stratify",
      "train_file",
      "dev_file",
      "test_file",
      ...SPLIT_KEYS,
    ],
    create: createCsvDataset,
  },
  Digits: { keys: ["shape", ...SPLIT_KEYS], create: createDigits },
  FashionMNIST: { keys: ["path", "dev_split", "limit", "test_limit"], create: createFashionMnist },
  MNIST: { keys: ["dev_split", "limit", "test_limit"], create: createMnist },
  Toy: {
    keys: ["size", "num_targets", "feature_shape", "separation", "noise_min", "noise_max", ...SPLIT_KEYS],
    create: createToy,
  },
};

/** Keys every dataset config may carry: identity, the trainer's criterion and metrics, the split seed. */
export const COMMON_DATASET_KEYS: readonly string[] = [
  "id",
  "type",
  "criterion",
  "metrics",
  "tracking_metric",
  "split_seed",
  "label_noise",
  ...REVIEW_DATASET_KEYS,
];

/** The config keys a dataset type reads (for config checks and docs). */
export function datasetKeys(type: string): readonly string[] {
  const factory = REGISTRY[type];
  if (!factory) throw unknownType(type);
  return factory.keys;
}

function unknownType(type: string, id?: string): ConfigError {
  const which = id ? ` (dataset id '${id}')` : "";
  return new ConfigError(
    "dataset.type",
    `unknown dataset type '${type}'${which}; known types: ${DATASET_TYPES.join(", ")}`,
  );
}

export const DATASET_TYPES: readonly string[] = Object.freeze(Object.keys(REGISTRY).sort());

/** The factory of a config's type; a misspelt key is an error rather than a silent default. */
function factoryOf(config: DatasetConfig): DatasetFactory {
  const factory = REGISTRY[config.type];
  if (!factory) throw unknownType(config.type, config.id);
  for (const key of Object.keys(config)) {
    if (key.startsWith("_") || COMMON_DATASET_KEYS.includes(key) || factory.keys.includes(key)) continue;
    throw new ConfigError(
      `dataset.${key}`,
      `unknown key for dataset type '${config.type}'; its keys are: ${factory.keys.join(", ")}`,
    );
  }
  return factory;
}

/**
 * Checks a dataset config without loading any data (what `train --dry-run` does): its type, its
 * keys, the values every type reads (split fractions, split seed) and that a `path` it names
 * exists. Errors name the key.
 */
export function checkDatasetConfig(config: DatasetConfig): void {
  factoryOf(config);
  parseLabelNoise(config.label_noise);
  withReviewFingerprints(config);
  if (factoryOf(config).keys.includes("dev_split")) {
    splitFractions(config, {
      dev: 0.2,
      test: config.type === "MNIST" || config.type === "FashionMNIST" ? 0 : 0.2,
    });
  }
  splitSeed(config);
  const path = config.path;
  if (typeof path === "string" && path.length > 0 && !existsSync(resolveDataPath(path))) {
    throw new ConfigError("dataset.path", `${resolveDataPath(path)} does not exist`);
  }
}

/**
 * Builds the dataset a run config names. Its split (and the Toy dataset's samples) come from the
 * config's `split_seed`, never from a run's seed: runs of any seeds share their data. Then its
 * `label_noise`, then its review tags (`exclude`, `relabel`: src/data/review-edits.ts) change the
 * train subset; a tags file is read with `readTags` (src/results/review-tags.ts `readReviewTags`,
 * which the package's `createDataset` passes).
 */
export async function createDataset(config: DatasetConfig, readTags?: ReadTags): Promise<Dataset> {
  const factory = factoryOf(config);
  // The tags are read (and their fingerprints checked) before any data is loaded.
  const edits = reviewEditsOf(config, readTags);
  const dataset = await factory.create(config);
  return withReviewEdits(withLabelNoise(dataset, config.label_noise), edits);
}

/** Runs a dataset's one-off preparation (the AudioFolder feature cache); a no-op for the others. */
export async function preprocessDataset(config: DatasetConfig): Promise<void> {
  await factoryOf(config).preprocess?.(config);
}

export { encodeIdx, parseIdx, readIdxFile } from "./idx.js";
export { drawLabelNoise, LABEL_NOISE_KINDS, withLabelNoise } from "./label-noise.js";
export { encodeLabels, sortClassNames } from "./labels.js";
export type { LogMelParams } from "./logmel.js";
export { logMelSpectrogram, melFilterbank, powerSpectrogram } from "./logmel.js";
export { FASHION_MNIST_CLASSES, FASHION_MNIST_DEFAULT_PATH } from "./mnist.js";
export type { ReadTags, TagRow } from "./review-edits.js";
export { EXCLUDED_TAGS, withReviewFingerprints } from "./review-edits.js";
export { stratifiedSplit } from "./splits.js";
export type { Batch, Dataset, LabelNoise, ReviewChanges, Subset, SubsetName } from "./types.js";
export { SUBSET_NAMES } from "./types.js";
