import { ConfigError, DataError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { encodeWith, sortClassNames } from "./labels.js";
import {
  booleanOption,
  type DatasetOptions,
  optionalString,
  optionalStringList,
  splitFractions,
  splitSeed,
  stringOption,
} from "./options.js";
import { resolveDataPath } from "./paths.js";
import { assertNonEmptySplits, randomSplit, type SplitRows, stratifiedSplit } from "./splits.js";
import { type FeatureStore, featureStore, SplitDataset, ViewSubset } from "./store.js";
import { numericCell, readTable, requireColumn, rowRef, type Table } from "./table.js";
import { type Dataset, SUBSET_NAMES, type SubsetName } from "./types.js";

/**
 * A user's tabular data: numeric feature columns and a target column (class names). Split by a
 * split column (values train/dev/test), by three files, or by seeded (stratified) fractions.
 * `format: sklearn` reads scikit-learn's bundled CSV layout (first row `n_samples,n_features,
 * class names…`, then features and the class id), as vendored in data/sklearn/; paths are relative
 * to the working dir, or to the package with a `package:` prefix (`package:data/sklearn/iris.csv`).
 */
export const NORMALIZATIONS = ["none", "standard", "minmax"] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];

interface ParsedFile {
  table: Table;
  features: Float32Array;
  featureNames: string[];
  labels: string[];
  /** Split of each row when a split column is used. */
  split?: SubsetName[];
}

/** Turns scikit-learn's headerless layout into a table with a `target` column of class names. */
export function sklearnTable(raw: Table): Table {
  const [head, ...rows] = raw.rows;
  const n = Number(head?.[0]);
  const f = Number(head?.[1]);
  const names = head?.slice(2) ?? [];
  if (!head || !Number.isInteger(n) || !Number.isInteger(f) || f <= 0 || names.length === 0) {
    throw new DataError(
      `${raw.path}: not in scikit-learn's CSV layout (first row 'n_samples,n_features,class names…'), got '${head?.join(",") ?? ""}'`,
    );
  }
  if (rows.length !== n)
    throw new DataError(`${raw.path}: header says ${n} samples, the file holds ${rows.length}`);
  const lines = raw.lines.slice(1);
  const table: Table = {
    path: raw.path,
    columns: [...Array.from({ length: f }, (_, i) => `feature_${i}`), "target"],
    rows: [],
    lines,
  };
  table.rows = rows.map((record, r) => {
    if (record.length !== f + 1) {
      throw new DataError(`${raw.path}: ${rowRef(table, r)} has ${record.length} values, expected ${f + 1}`);
    }
    const id = Number(record[f]);
    const name = names[id];
    if (!Number.isInteger(id) || name === undefined) {
      throw new DataError(
        `${raw.path}: ${rowRef(table, r)}, column 'target': expected a class id 0..${names.length - 1}, got '${record[f]}'`,
      );
    }
    return [...record.slice(0, f), name];
  });
  return table;
}

function parseFile(
  path: string,
  what: string,
  options: { format: "header" | "sklearn"; target: string; splitColumn?: string; featureColumns?: string[] },
): ParsedFile {
  const table =
    options.format === "sklearn"
      ? sklearnTable(readTable(path, what, { header: false }))
      : readTable(path, what);
  const targetAt = requireColumn(table, options.target, "dataset.target_column", "labels");
  const splitAt = options.splitColumn
    ? requireColumn(table, options.splitColumn, "dataset.split_column")
    : -1;
  const featureNames =
    options.featureColumns ?? table.columns.filter((c) => c !== options.target && c !== options.splitColumn);
  if (featureNames.length === 0) {
    throw new DataError(`${path}: no feature columns (all columns are the target or split column)`);
  }
  const featureAt = featureNames.map((c) => requireColumn(table, c, "dataset.feature_columns"));
  const f = featureAt.length;
  const features = new Float32Array(table.rows.length * f);
  const labels: string[] = [];
  const split: SubsetName[] = [];
  table.rows.forEach((record, r) => {
    for (let j = 0; j < f; j++) features[r * f + j] = numericCell(table, r, featureAt[j] as number);
    const label = record[targetAt] ?? "";
    if (label === "") {
      throw new DataError(`${path}: ${rowRef(table, r)}, column '${options.target}': empty target`);
    }
    labels.push(label);
    if (splitAt >= 0) {
      const value = (record[splitAt] ?? "").toLowerCase();
      if (!(SUBSET_NAMES as readonly string[]).includes(value)) {
        throw new DataError(
          `${path}: ${rowRef(table, r)}, column '${options.splitColumn}': expected train, dev or test, got '${record[splitAt] ?? ""}'`,
        );
      }
      split.push(value as SubsetName);
    }
  });
  return { table, features, featureNames, labels, ...(splitAt >= 0 ? { split } : {}) };
}

/** Per-column affine map `x' = (x - shift) * scale`. */
export interface ColumnTransform {
  shift: Float64Array;
  scale: Float64Array;
}

/**
 * Per-column statistics of the train rows only (so dev and test see the same transform and
 * nothing leaks from them): z-scores for `standard`, [0, 1] over the train range for `minmax`.
 * Constant columns are only shifted.
 */
export function fitColumnTransform(
  features: Float32Array,
  width: number,
  trainRows: ArrayLike<number>,
  mode: Normalization,
): ColumnTransform {
  const shift = new Float64Array(width);
  const scale = new Float64Array(width).fill(1);
  if (mode === "none" || trainRows.length === 0) return { shift, scale };
  for (let j = 0; j < width; j++) {
    if (mode === "standard") {
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < trainRows.length; i++) {
        const v = features[(trainRows[i] as number) * width + j] as number;
        sum += v;
        sq += v * v;
      }
      const mean = sum / trainRows.length;
      const std = Math.sqrt(Math.max(0, sq / trainRows.length - mean * mean));
      shift[j] = mean;
      scale[j] = std > 1e-12 ? 1 / std : 1;
    } else {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < trainRows.length; i++) {
        const v = features[(trainRows[i] as number) * width + j] as number;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      shift[j] = lo;
      scale[j] = hi - lo > 1e-12 ? 1 / (hi - lo) : 1;
    }
  }
  return { shift, scale };
}

/** Applies a column transform in place. */
export function applyColumnTransform(features: Float32Array, width: number, t: ColumnTransform): void {
  for (let i = 0; i < features.length; i++) {
    const j = i % width;
    features[i] = ((features[i] as number) - (t.shift[j] as number)) * (t.scale[j] as number);
  }
}

function viewOf(name: SubsetName, store: FeatureStore, rows: Int32Array, codes: Int32Array): ViewSubset {
  const labels = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) labels[i] = codes[rows[i] as number] as number;
  return new ViewSubset(name, store, rows, labels, rows.slice());
}

const FILE_KEYS = { train: "train_file", dev: "dev_file", test: "test_file" } as const;

export async function createCsvDataset(config: DatasetOptions & { id: string }): Promise<Dataset> {
  const seed = splitSeed(config);
  const format = stringOption(config, "format", "header", ["header", "sklearn"] as const);
  const target = stringOption(config, "target_column", format === "sklearn" ? "target" : "label");
  const splitColumn = optionalString(config, "split_column");
  const featureColumns = optionalStringList(config, "feature_columns");
  const normalize = stringOption(config, "normalize", "none", NORMALIZATIONS);
  const stratify = booleanOption(config, "stratify", true);
  const path = optionalString(config, "path");
  const fileMode = Object.values(FILE_KEYS).some((k) => config[k] !== undefined && config[k] !== null);
  const parseOptions = { format, target, featureColumns };

  if (fileMode) {
    if (splitColumn) {
      throw new ConfigError("dataset.split_column", "cannot be combined with train_file/dev_file/test_file");
    }
    // With separate files, `path` (if given) is the folder they are in.
    const base = path ? resolveDataPath(path) : process.cwd();
    const parts = {} as Record<SubsetName, ParsedFile>;
    for (const name of SUBSET_NAMES) {
      const file = optionalString(config, FILE_KEYS[name]);
      if (!file) {
        throw new ConfigError(
          `dataset.${FILE_KEYS[name]}`,
          "required when any of train_file, dev_file, test_file is set",
        );
      }
      const full = file.startsWith("package:") ? resolveDataPath(file) : resolveDataPath(file, base);
      parts[name] = parseFile(full, `${name} file (dataset.${FILE_KEYS[name]})`, parseOptions);
    }
    const width = parts.train.featureNames.length;
    for (const name of ["dev", "test"] as const) {
      if (parts[name].featureNames.join("\u0000") !== parts.train.featureNames.join("\u0000")) {
        throw new DataError(
          `${parts[name].table.path}: feature columns (${parts[name].featureNames.join(", ")}) differ from the train file's (${parts.train.featureNames.join(", ")})`,
        );
      }
    }
    const classNames = sortClassNames(SUBSET_NAMES.flatMap((n) => parts[n].labels));
    assertNonEmptySplits(config.id, {
      train: parts.train.labels.length,
      dev: parts.dev.labels.length,
      test: parts.test.labels.length,
    });
    const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
    const transform = fitColumnTransform(
      parts.train.features,
      width,
      all(parts.train.labels.length),
      normalize,
    );
    const subsets = {} as Record<SubsetName, ViewSubset>;
    for (const name of SUBSET_NAMES) {
      const part = parts[name];
      applyColumnTransform(part.features, width, transform);
      const codes = encodeWith(classNames, part.labels);
      subsets[name] = viewOf(name, featureStore(part.features, width), all(codes.length), codes);
    }
    return new SplitDataset({
      id: config.id,
      featureShape: [width],
      classNames,
      isImage: false,
      featureNames: parts.train.featureNames,
      subsets,
    });
  }

  if (!path) {
    throw new ConfigError("dataset.path", "required: the CSV file (or train_file, dev_file and test_file)");
  }
  const file = resolveDataPath(path);
  const part = parseFile(file, "CSV file (dataset.path)", {
    ...parseOptions,
    ...(splitColumn ? { splitColumn } : {}),
  });
  const classNames = sortClassNames(part.labels);
  const codes = encodeWith(classNames, part.labels);
  const width = part.featureNames.length;
  let split: SplitRows;
  if (part.split) {
    const byName: Record<SubsetName, number[]> = { train: [], dev: [], test: [] };
    part.split.forEach((s, r) => {
      byName[s].push(r);
    });
    split = {
      train: Int32Array.from(byName.train),
      dev: Int32Array.from(byName.dev),
      test: Int32Array.from(byName.test),
    };
    assertNonEmptySplits(
      config.id,
      { train: split.train.length, dev: split.dev.length, test: split.test.length },
      {
        train: `no row of ${file} has ${splitColumn} = train`,
        dev: `no row of ${file} has ${splitColumn} = dev`,
        test: `no row of ${file} has ${splitColumn} = test`,
      },
    );
  } else {
    const fractions = splitFractions(config, { dev: 0.2, test: 0.2 });
    const rng = Rng.derive(seed, "split");
    split = stratify
      ? stratifiedSplit(codes, classNames.length, fractions, rng)
      : randomSplit(codes.length, fractions, rng);
    assertNonEmptySplits(
      config.id,
      { train: split.train.length, dev: split.dev.length, test: split.test.length },
      {
        dev: `${codes.length} rows × dev_split ${fractions.dev}`,
        test: `${codes.length} rows × test_split ${fractions.test}`,
      },
    );
  }
  applyColumnTransform(
    part.features,
    width,
    fitColumnTransform(part.features, width, split.train, normalize),
  );
  const store = featureStore(part.features, width);
  return new SplitDataset({
    id: config.id,
    featureShape: [width],
    classNames,
    isImage: false,
    featureNames: part.featureNames,
    subsets: {
      train: viewOf("train", store, split.train, codes),
      dev: viewOf("dev", store, split.dev, codes),
      test: viewOf("test", store, split.test, codes),
    },
  });
}
