/**
 * The dataset contract. Features live once in memory (or on disk) in typed arrays; subsets are
 * views (row positions) into them and gather one batch at a time, so a 60,000-image set is never
 * copied twice.
 */
export type SubsetName = "train" | "dev" | "test";

export const SUBSET_NAMES: readonly SubsetName[] = ["train", "dev", "test"];

export interface Batch {
  /** batch × featureSize, row-major float32 (already scaled/normalised). */
  x: Float32Array;
  /** Encoded labels. */
  y: Int32Array;
  /** Positions within the subset (0..size-1) of the rows in this batch. */
  index: Int32Array;
}

export interface Subset {
  readonly name: SubsetName;
  readonly size: number;
  /** Encoded labels, length size, in subset order. */
  readonly labels: Int32Array;
  /**
   * Stable identity of each sample in the source data (e.g. row of digits.csv, position in the
   * MNIST IDX file, line of a CSV index). Score files carry it so alignment can be checked.
   */
  readonly sourceIndex: Int32Array;
  /** Gathers the given subset positions (0..size-1) into one batch. */
  batch(positions: ArrayLike<number>): Batch;
}

/** The train labels a dataset's `label_noise` changed (src/data/label-noise.ts), by train position (ascending). */
export interface LabelNoise {
  readonly config: {
    readonly rate: number;
    readonly kind: "symmetric" | "pairflip" | "map";
    readonly seed: number;
    readonly map?: Readonly<Record<string, string>>;
  };
  readonly positions: Int32Array;
  /** The clean label of each changed sample. */
  readonly original: Int32Array;
  /** The label it trains with. */
  readonly noisy: Int32Array;
}

/**
 * What a dataset's `exclude` and `relabel` (review tags, src/data/review-edits.ts) changed in its
 * train subset, by source_index (ascending).
 */
export interface ReviewChanges {
  /** Samples dropped from the train subset. */
  readonly excluded: Int32Array;
  /** Train samples that carry the label a person chose instead of their own. */
  readonly relabelled: Int32Array;
}

export interface Dataset {
  /** Config id, e.g. "Digits". */
  readonly id: string;
  /** Per-sample feature shape, e.g. [64], [8, 8, 1], [28, 28, 1], [frames, mels, 1]. */
  readonly featureShape: readonly number[];
  /** Sorted class names; the code of a class is its position. */
  readonly classNames: readonly string[];
  readonly outputDim: number;
  /** True when samples are images that the report may show as thumbnails. */
  readonly isImage: boolean;
  /**
   * Height, width and channels of one image when `isImage` (also when `featureShape` is flat, as
   * for Digits with `shape: flat`), so the report can draw thumbnails.
   */
  readonly imageShape?: readonly [number, number, number];
  /**
   * The file each sample was read from, by source index (relative to the data folder), for
   * datasets of files (ImageFolder); absent for datasets read from one file.
   */
  readonly sourceFiles?: readonly string[];
  /** The name of each feature, for tables (CSV): the header's columns. */
  readonly featureNames?: readonly string[];
  subset(name: SubsetName): Subset;
  /** Present when the config's `label_noise` changed train labels (dev and test are clean). */
  readonly labelNoise?: LabelNoise;
  /** Present when the config's `exclude` or `relabel` changed the train subset (dev and test are as they were). */
  readonly review?: ReviewChanges;
}

/**
 * `dataset` with its train subset replaced (dev and test as they were), keeping everything that
 * describes it (shapes, classes, files, feature names) and setting what the edit says happened: the
 * one way a train-subset edit (label noise, review tags) builds its dataset.
 */
export function withTrainSubset(
  dataset: Dataset,
  train: Subset,
  changes: { labelNoise?: LabelNoise; review?: ReviewChanges },
): Dataset {
  return {
    id: dataset.id,
    featureShape: dataset.featureShape,
    classNames: dataset.classNames,
    outputDim: dataset.outputDim,
    isImage: dataset.isImage,
    ...(dataset.imageShape ? { imageShape: dataset.imageShape } : {}),
    ...(dataset.sourceFiles ? { sourceFiles: dataset.sourceFiles } : {}),
    ...(dataset.featureNames ? { featureNames: dataset.featureNames } : {}),
    ...(changes.labelNoise ? { labelNoise: changes.labelNoise } : {}),
    ...(changes.review ? { review: changes.review } : {}),
    subset: (name) => (name === "train" ? train : dataset.subset(name)),
  };
}
