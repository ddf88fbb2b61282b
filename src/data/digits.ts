import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { PACKAGE_ROOT } from "../config/package.js";
import { DataError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { type DatasetOptions, splitFractions, splitSeed, stringOption } from "./options.js";
import { assertNonEmptySplits, stratifiedSplit } from "./splits.js";
import { featureStore, SplitDataset, subsetOfRows } from "./store.js";
import type { Dataset } from "./types.js";

/**
 * scikit-learn's 8x8 handwritten digits (UCI optdigits test set, 1797 samples, 10 classes, BSD-3),
 * vendored at data/sklearn/digits.csv.gz: 64 pixel columns with values 0..16, then the label, no
 * header. Features are scaled to [0, 1]; the split is a seeded stratified 60/20/20.
 */
export const DIGITS_FILE = "data/sklearn/digits.csv.gz";
const PIXELS = 64;

interface DigitsRaw {
  pixels: Uint8Array;
  labels: Int32Array;
}

let cache: DigitsRaw | undefined;

/** Parses the vendored CSV bytes (digits and commas only) without building strings. */
export function parseDigitsCsv(text: Uint8Array, source: string): DigitsRaw {
  const values: number[] = [];
  const pixels: number[] = [];
  const labels: number[] = [];
  let current = -1;
  let line = 1;
  const endRow = () => {
    if (current >= 0) values.push(current);
    current = -1;
    if (values.length === 0) return;
    if (values.length !== PIXELS + 1) {
      throw new DataError(`${source}: line ${line} has ${values.length} values, expected ${PIXELS + 1}`);
    }
    for (let i = 0; i < PIXELS; i++) {
      const v = values[i] as number;
      if (v > 16) throw new DataError(`${source}: line ${line}, column ${i}: pixel ${v} outside 0..16`);
      pixels.push(v);
    }
    const label = values[PIXELS] as number;
    if (label > 9) throw new DataError(`${source}: line ${line}: label ${label} outside 0..9`);
    labels.push(label);
    values.length = 0;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as number;
    if (c >= 48 && c <= 57) current = (current < 0 ? 0 : current * 10) + (c - 48);
    else if (c === 44) {
      if (current < 0) throw new DataError(`${source}: line ${line}: empty value`);
      values.push(current);
      current = -1;
    } else if (c === 10) {
      endRow();
      line++;
    } else if (c !== 13 && c !== 32) {
      throw new DataError(`${source}: line ${line}: unexpected character '${String.fromCharCode(c)}'`);
    }
  }
  endRow();
  return { pixels: Uint8Array.from(pixels), labels: Int32Array.from(labels) };
}

/** Loads (once per process) the vendored digits: shared read-only arrays. */
export function loadDigitsRaw(): DigitsRaw {
  if (cache) return cache;
  const path = join(PACKAGE_ROOT, DIGITS_FILE);
  if (!existsSync(path)) {
    throw new DataError(
      `${path}: file not found (the Digits dataset is vendored with curricula; reinstall the package)`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = gunzipSync(readFileSync(path));
  } catch (error) {
    throw new DataError(`${path}: cannot decompress: ${(error as Error).message}`);
  }
  cache = parseDigitsCsv(bytes, path);
  return cache;
}

export async function createDigits(config: DatasetOptions & { id: string }): Promise<Dataset> {
  const seed = splitSeed(config);
  const shape = stringOption(config, "shape", "flat", ["flat", "image"] as const);
  const fractions = splitFractions(config, { dev: 0.2, test: 0.2 });
  const raw = loadDigitsRaw();
  const classNames = Array.from({ length: 10 }, (_, i) => String(i));
  const splits = stratifiedSplit(raw.labels, 10, fractions, Rng.derive(seed, "split"));
  assertNonEmptySplits(
    config.id,
    { train: splits.train.length, dev: splits.dev.length, test: splits.test.length },
    {
      dev: `dev_split = ${fractions.dev}`,
      test: `test_split = ${fractions.test}`,
    },
  );
  const store = featureStore(raw.pixels, PIXELS, { scale: 1 / 16 });
  return new SplitDataset({
    id: config.id,
    featureShape: shape === "flat" ? [PIXELS] : [8, 8, 1],
    classNames,
    isImage: true,
    imageShape: [8, 8, 1],
    subsets: {
      train: subsetOfRows("train", store, splits.train, raw.labels),
      dev: subsetOfRows("dev", store, splits.dev, raw.labels),
      test: subsetOfRows("test", store, splits.test, raw.labels),
    },
  });
}
