/**
 * The JSON the explorer's server sends and its page reads (src/explore/ui/ imports these types
 * only). Positions are places in the explored subset, 0 … size−1; every per-sample array is in
 * position order.
 */

/** A column of the sample table: a score file's numeric column, its ranks, or a text column. */
export interface ExploreColumn {
  /** `<type>/<id>/<column>`: unique. */
  key: string;
  /** The header shown (`CELoss`, `CELoss rank`, `Cartography · variability`). */
  label: string;
  kind: "number" | "category";
  /** The score id it belongs to. */
  score: string;
  /** What low and high mean (the header's title). */
  description: string;
  /** One value per position; null where the file holds NaN. */
  values: (number | null)[] | string[];
}

export interface ExploreScore {
  type: string;
  id: string;
  /** Keys of its columns. */
  columns: string[];
}

/** A run that saved outputs of the explored subset. */
export interface ExploreRun {
  name: string;
  seed: string;
  /** The iterations it saved outputs at. */
  iterations: number[];
  /** Its predicted class code per position, at its last saved iteration. */
  predicted: number[];
}

/** The review tag of one sample, as the server sends it (src/results/review-tags.ts writes it). */
export interface ExploreTag {
  sourceIndex: number;
  tag: "mislabelled" | "ambiguous" | "fine" | "relabel";
  newLabel: string | null;
  time: string;
}

export interface ExploreTable {
  experiment: string;
  subset: "train" | "dev" | "test";
  datasetId: string | null;
  size: number;
  /** Class names; a label is its code. */
  classNames: string[];
  /** Image datasets: the size of one image (`/api/image/<position>.png`). */
  image: { height: number; width: number } | null;
  /** Datasets of files: the file of each position. */
  sourceFiles: string[] | null;
  /** Tabular datasets (≤ 64 features): names and the values of each position. */
  featureNames: string[] | null;
  features: number[][] | null;
  sourceIndex: number[];
  label: number[];
  /** The most frequent prediction over the runs (−1 without runs). */
  predicted: number[];
  runs: ExploreRun[];
  scores: ExploreScore[];
  columns: ExploreColumn[];
  /** Files that could not be used, with the reason. */
  problems: string[];
  tags: ExploreTag[];
  /** A static copy: tags cannot be saved. */
  readOnly: boolean;
}

/** The probability of a sample's label at each saved iteration of one run. */
export interface SampleCurve {
  run: string;
  seed: string;
  iterations: number[];
  probability: number[];
}

/**
 * A sample's nearest neighbours (`/api/neighbours/<position>`): in a PredictionDepth probe's saved
 * embedding where the experiment has one, else in the model's output space.
 */
export interface SampleNeighbours {
  position: number;
  /** `probe`: a hidden layer's embedding (PredictionDepth with `save_embeddings`); `output`: softmax outputs. */
  kind: "probe" | "output";
  /**
   * What the distances are measured in: `the embedding of probe <p> of PredictionDepth run <atomic run> (…)`
   * or `the model's output space (softmax outputs of run <run> at iteration <i>)`.
   */
  space: string;
  /** Nearest first. */
  neighbours: { position: number; sourceIndex: number; label: string; predicted: string; distance: number }[];
}

/** What the static copy embeds: the table, each sample's image as a data: URL, each run's curves. */
export interface StaticData {
  table: ExploreTable;
  /** Image datasets: one data: URL per position. */
  images: string[] | null;
  /** Per run (in table.runs order): its iterations and, per iteration, the probability of each position's label. */
  curves: { iterations: number[]; probabilities: number[][] }[];
}
