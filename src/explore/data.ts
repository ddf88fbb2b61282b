import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRunDataset } from "../assembly/review.js";
import { curriculumDir, experimentDir, outputFile, runDir } from "../config/layout.js";
import { type DatasetConfig, type RunConfig, upgradeSavedConfig } from "../config/schema.js";
import type { Dataset, Subset, SubsetName } from "../data/types.js";
import { samplePng } from "../report/thumbnails.js";
import { listRuns } from "../results/experiment.js";
import { readDeepestProbeEmbedding } from "../results/probe-embeddings.js";
import { type ReviewTag, readReviewTags, reviewTagsPath } from "../results/review-tags.js";
import { bestIteration, listIterations, readRunConfig } from "../results/run-folder.js";
import { readScoreMappings } from "../results/score-mappings.js";
import { readScoreCard, readScoreRows } from "../results/score-table.js";
import { readSubsetOutputs } from "../results/subset-outputs.js";
import { listScoreFiles } from "../scoring/correlation-matrix.js";
import { labelProbabilities, softmaxRows } from "../training/measures/logits.js";
import { argmaxRows } from "../training/metrics.js";
import { CurriculaError } from "../util/errors.js";
import type {
  ExploreColumn,
  ExploreRun,
  ExploreScore,
  ExploreTable,
  SampleCurve,
  SampleNeighbours,
} from "./types.js";

/**
 * Reads what `curricula explore` shows of an experiment: every sample of one subset (train by
 * default) with its label, the final predictions of each run that saved outputs for that subset,
 * every score file computed on it (each numeric column, its ranks, its text columns such as
 * Cartography's `region` or ConfidentLearning's `label_issue`), and per run the probability of each
 * sample's label at every saved iteration (its curve over training), and the space its nearest
 * neighbours are found in (a PredictionDepth probe's saved embedding where there is one, else the
 * softmax outputs: {@link NeighbourEmbedding}). All reads go through src/results; the samples
 * themselves come from rebuilding the dataset of a run's config (src/data).
 */

export type DatasetLoader = (config: DatasetConfig) => Promise<Dataset>;

export interface ExploreOptions {
  subset?: SubsetName;
  /** Rebuilds the dataset (tests pass a stand-in); `createRunDataset` by default (review tags the run trained with included). */
  datasetLoader?: DatasetLoader;
}

/** A run's probability of each sample's label over its saved iterations. */
interface RunCurves {
  iterations: number[];
  /** One array of n probabilities per iteration. */
  probabilities: Float32Array[];
}

/** Everything loaded once, kept by the server (and written whole by the static export). */
export interface ExploreData {
  resultsDir: string;
  experiment: string;
  table: ExploreTable;
  dataset: Dataset | null;
  subset: Subset | null;
  curves: RunCurves[];
  /** What the sample view's nearest neighbours are computed in; null without an embedding or a run's outputs. */
  embedding: NeighbourEmbedding | null;
}

/**
 * The space nearest neighbours are found in. A hidden-layer embedding where the results tree has
 * one for the explored subset: the deepest hidden probe (P − 2, the last before the output probe)
 * of the first PredictionDepth score on the subset whose atomic run saved its probes
 * (`save_embeddings`; its atomic runs in `mappings.yaml` order). Otherwise, as the tree keeps no
 * other hidden-layer embeddings (TransferTeacher saves none), the model's output space: the softmax
 * outputs (class probabilities, n × c) of the first run with outputs at its best iteration (the
 * last saved one when `_best/` names none).
 */
export interface NeighbourEmbedding {
  kind: "probe" | "output";
  /** What the distances are measured in, as the API and the page name it. */
  space: string;
  /** The atomic PredictionDepth run (probe) or the training run (output). */
  run: string;
  /** The probe read (probe), or the iteration whose outputs are used (output). */
  probe: number | null;
  iteration: number | null;
  dim: number;
  /** n × dim, row-major, by position. */
  values: Float32Array;
}

/** The first run whose config is readable: it rebuilds the dataset every score and run refers to. */
function firstRunConfig(resultsDir: string, experiment: string, problems: string[]): RunConfig | null {
  for (const name of listRuns(resultsDir, experiment)) {
    try {
      return readRunConfig(runDir(resultsDir, experiment, name));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return null;
}

/** A run's saved outputs of `subset` at every iteration, as curves and final predictions; null when it saved none. */
function readRun(
  resultsDir: string,
  experiment: string,
  name: string,
  subset: SubsetName,
  n: number,
  labels: Int32Array | null,
  problems: string[],
): { run: ExploreRun; curves: RunCurves; embedding: NeighbourEmbedding | null } | null {
  const dir = runDir(resultsDir, experiment, name);
  let best: number | null = null;
  try {
    best = bestIteration(dir);
  } catch {
    // no `_best/` (an unfinished run): the last saved iteration stands in
  }
  // the outputs at the best iteration, else at the last one saved
  let chosen: { iteration: number; logits: Float32Array; c: number } | null = null;
  let seed = "";
  try {
    seed = String(readRunConfig(dir).seed);
  } catch {
    // the seed is shown only; a run without a readable config still has outputs
  }
  const iterations: number[] = [];
  const probabilities: Float32Array[] = [];
  let predicted: Int32Array | null = null;
  try {
    for (const { iteration, dir: iterationDir } of listIterations(dir)) {
      if (!existsSync(join(iterationDir, outputFile(subset, "outputs")))) continue;
      const saved = readSubsetOutputs(iterationDir, subset);
      if (saved.targets.length !== n) {
        problems.push(
          `${iterationDir}: ${saved.targets.length} ${subset} samples, but the explored subset has ${n}; run ${name} left out`,
        );
        return null;
      }
      if (labels && saved.targets.some((t, i) => t !== labels[i])) {
        problems.push(
          `${iterationDir}: its ${subset} targets differ from the rebuilt dataset's labels (another split or label noise); run ${name} left out`,
        );
        return null;
      }
      const p = Float32Array.from(labelProbabilities(saved.logits, saved.targets, saved.numClasses));
      const last = argmaxRows(saved.logits, saved.numClasses);
      if (best === null || iteration <= best || chosen?.iteration !== best)
        chosen = { iteration, logits: saved.logits, c: saved.numClasses };
      iterations.push(iteration);
      probabilities.push(p);
      predicted = last;
    }
  } catch (error) {
    problems.push(`run ${name}: ${(error as Error).message}`);
    return null;
  }
  if (!predicted) return null;
  return {
    run: { name, seed, iterations, predicted: Array.from(predicted) },
    curves: { iterations, probabilities },
    embedding: chosen && {
      kind: "output",
      space: `the model's output space (softmax outputs of run ${name} at iteration ${chosen.iteration})`,
      run: name,
      probe: null,
      iteration: chosen.iteration,
      dim: chosen.c,
      values: Float32Array.from(softmaxRows(chosen.logits, chosen.logits.length / chosen.c, chosen.c)),
    },
  };
}

/**
 * The deepest hidden probe's embedding of the first PredictionDepth score on `subset` that saved
 * one, its rows put in position order by source index; null when none did. An atomic run whose
 * rows are other samples than the explored subset's is left out with a note in `problems`.
 */
function readProbeEmbedding(
  resultsDir: string,
  experiment: string,
  subset: SubsetName,
  sourceIndex: Int32Array,
  problems: string[],
): NeighbourEmbedding | null {
  const n = sourceIndex.length;
  const position = new Map<number, number>();
  sourceIndex.forEach((s, p) => {
    position.set(s, p);
  });
  for (const file of listScoreFiles(curriculumDir(resultsDir, experiment))) {
    if (file.type !== "PredictionDepth") continue;
    const card = readScoreCard(file.path);
    if (!card) continue; // unfinished
    const scored = card.subset === "dev" || card.subset === "test" ? card.subset : "train";
    if (scored !== subset) continue;
    const typeFolder = dirname(file.path);
    const listed = readScoreMappings(typeFolder)[file.id];
    const runs = Array.isArray(listed)
      ? listed.map(String)
      : Array.isArray(card.runs)
        ? card.runs.map(String)
        : [];
    for (const run of runs) {
      const dir = join(typeFolder, run);
      let read: ReturnType<typeof readDeepestProbeEmbedding>;
      try {
        read = readDeepestProbeEmbedding(dir);
      } catch (error) {
        problems.push(`${(error as Error).message}; its embedding left out of the neighbours`);
        continue;
      }
      if (!read) continue;
      const { dim } = read;
      const values = new Float32Array(n * dim);
      const filled = new Uint8Array(n);
      let problem: string | null =
        read.sourceIndex.length === n ? null : `${read.sourceIndex.length} rows for ${n} samples`;
      for (let r = 0; problem === null && r < read.sourceIndex.length; r++) {
        const p = position.get(read.sourceIndex[r] as number);
        if (p === undefined || filled[p]) problem = `source_index ${read.sourceIndex[r]}`;
        else {
          filled[p] = 1;
          values.set(read.values.subarray(r * dim, (r + 1) * dim), p * dim);
        }
      }
      if (problem) {
        problems.push(
          `${dir}: its embeddings are of other samples than the ${subset} subset (${problem}); left out of the neighbours`,
        );
        continue;
      }
      return {
        kind: "probe",
        space: `the embedding of probe ${read.probe} of PredictionDepth run ${run} (score ${file.id}; the last of its ${read.probes} probes before the output, ${dim} values)`,
        run,
        probe: read.probe,
        iteration: null,
        dim,
        values,
      };
    }
  }
  return null;
}

/** The most frequent prediction per sample over the runs (ties: the lower class code); -1 without runs. */
function majority(runs: readonly ExploreRun[], n: number, classes: number): number[] {
  const out = new Array<number>(n).fill(-1);
  if (runs.length === 0) return out;
  const counts = new Int32Array(Math.max(1, classes));
  for (let i = 0; i < n; i++) {
    counts.fill(0);
    for (const run of runs) {
      const c = run.predicted[i] as number;
      counts[c] = (counts[c] ?? 0) + 1;
    }
    let best = 0;
    for (let k = 1; k < counts.length; k++) if ((counts[k] as number) > (counts[best] as number)) best = k;
    out[i] = best;
  }
  return out;
}

function finiteOrNull(values: Float64Array, order: Int32Array): (number | null)[] {
  return Array.from(order, (row) => {
    const v = values[row] as number;
    return Number.isFinite(v) ? v : null;
  });
}

/** What low and high mean, for the column headers' titles. */
function describeColumn(id: string, column: string, card: Record<string, unknown> | null): string {
  if (column === "ranks") return `${id}: rank among the samples, 0 easiest … 1 hardest`;
  const reference = typeof card?.reference === "string" ? ` (${card.reference})` : "";
  if (column === "mean") return `${id}: the score (mean over its runs)${reference}`;
  return `${id}: column '${column}' of its score file`;
}

/** Score files computed on `subset`, aligned by index and checked by source index against it. */
function readScores(
  resultsDir: string,
  experiment: string,
  subset: SubsetName,
  n: number,
  sourceIndex: Int32Array | null,
  problems: string[],
): {
  scores: ExploreScore[];
  columns: ExploreColumn[];
  sourceIndex: Int32Array | null;
  labels: string[] | null;
} {
  const scores: ExploreScore[] = [];
  const columns: ExploreColumn[] = [];
  let reference = sourceIndex;
  let labels: string[] | null = null;
  let size = n;
  for (const file of listScoreFiles(curriculumDir(resultsDir, experiment))) {
    const card = readScoreCard(file.path);
    const scored = card?.subset === "dev" || card?.subset === "test" ? card.subset : "train";
    if (scored !== subset) continue;
    let rows: ReturnType<typeof readScoreRows>;
    try {
      rows = readScoreRows(file.path, { sourceIndexFallback: true });
    } catch (error) {
      problems.push((error as Error).message);
      continue;
    }
    if (size < 0) size = rows.index.length;
    // order[position] = row of the file holding that position
    const order = new Int32Array(size).fill(-1);
    let problem: string | null =
      rows.index.length === size ? null : `${rows.index.length} rows for ${size} samples`;
    for (let r = 0; problem === null && r < rows.index.length; r++) {
      const position = rows.index[r] as number;
      if (position < 0 || position >= size || order[position] !== -1)
        problem = `row ${r + 2}: index ${position}`;
      else if (reference && reference[position] !== rows.sourceIndex[r])
        problem = `row ${r + 2}: source_index ${rows.sourceIndex[r]} where the subset has ${reference[position]}`;
      else order[position] = r;
    }
    if (problem) {
      problems.push(`${file.path}: left out, it scores other samples than the ${subset} subset (${problem})`);
      continue;
    }
    if (!reference) reference = Int32Array.from(order, (r) => rows.sourceIndex[r] as number);
    if (!labels) labels = Array.from(order, (r) => rows.decoded[r] as string);
    const keys: string[] = [];
    for (const [column, values] of rows.columns) {
      const key = `${file.type}/${file.id}/${column}`;
      const label =
        column === "mean" ? file.id : column === "ranks" ? `${file.id} rank` : `${file.id} · ${column}`;
      columns.push({
        key,
        label,
        kind: "number",
        score: file.id,
        description: describeColumn(file.id, column, card),
        values: finiteOrNull(values, order),
      });
      keys.push(key);
    }
    for (const [column, values] of rows.text ?? []) {
      const key = `${file.type}/${file.id}/${column}`;
      columns.push({
        key,
        label: `${file.id} · ${column}`,
        kind: "category",
        score: file.id,
        description: `${file.id}: column '${column}' of its score file`,
        values: Array.from(order, (r) => values[r] as string),
      });
      keys.push(key);
    }
    scores.push({ type: file.type, id: file.id, columns: keys });
  }
  return { scores, columns, sourceIndex: reference, labels };
}

/** Rounds to 4 significant digits (feature values are shown, never computed with). */
function short(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(4)) : 0;
}

/** Loads an experiment for exploring; throws when it has neither runs nor scores to show. */
export async function loadExplore(
  resultsDir: string,
  experiment: string,
  options: ExploreOptions = {},
): Promise<ExploreData> {
  const subsetName = options.subset ?? "train";
  const problems: string[] = [];
  const root = experimentDir(resultsDir, experiment);
  if (!existsSync(root)) throw new CurriculaError(`${root}: experiment folder not found`);
  const config = firstRunConfig(resultsDir, experiment, problems);
  let dataset: Dataset | null = null;
  if (config) {
    const datasetConfig = (upgradeSavedConfig(config) as RunConfig).dataset;
    try {
      dataset = await (options.datasetLoader ?? createRunDataset)(datasetConfig);
    } catch (error) {
      problems.push(`could not rebuild dataset ${datasetConfig.id}: ${(error as Error).message}`);
    }
  }
  const subset = dataset ? dataset.subset(subsetName) : null;
  const scored = readScores(
    resultsDir,
    experiment,
    subsetName,
    subset ? subset.size : -1,
    subset ? subset.sourceIndex : null,
    problems,
  );
  const sourceIndex = subset?.sourceIndex ?? scored.sourceIndex;
  if (!sourceIndex) {
    throw new CurriculaError(
      `${root}: nothing to explore: no run config rebuilds the dataset and no score file covers the ${subsetName} subset`,
    );
  }
  const n = sourceIndex.length;
  let classNames: string[];
  let label: number[];
  if (dataset && subset) {
    classNames = [...dataset.classNames];
    label = Array.from(subset.labels);
  } else {
    classNames = [...new Set(scored.labels ?? [])].sort();
    label = (scored.labels ?? []).map((name) => classNames.indexOf(name));
  }
  const columns = [...scored.columns];
  const noise = subsetName === "train" ? dataset?.labelNoise : undefined;
  if (dataset && noise) {
    // What the dataset's label_noise changed: a score that finds label errors should find these.
    const clean = new Array<string>(n).fill("");
    noise.positions.forEach((p, i) => {
      clean[p] = dataset?.classNames[noise.original[i] as number] ?? "";
    });
    columns.unshift({
      key: "dataset/label_noise/original",
      label: "label noise: clean label",
      kind: "category",
      score: "label noise",
      description: `the label before the dataset's label_noise (${noise.config.kind}, rate ${noise.config.rate}) changed it; empty: unchanged`,
      values: clean,
    });
  }
  const runs: ExploreRun[] = [];
  const curves: RunCurves[] = [];
  let embedding = readProbeEmbedding(resultsDir, experiment, subsetName, sourceIndex, problems);
  for (const name of listRuns(resultsDir, experiment)) {
    const read = readRun(resultsDir, experiment, name, subsetName, n, subset?.labels ?? null, problems);
    if (read) {
      runs.push(read.run);
      curves.push(read.curves);
      embedding ??= read.embedding;
    }
  }
  let featureNames: string[] | null = null;
  let features: number[][] | null = null;
  const featureSize = dataset?.featureShape.reduce((a, b) => a * b, 1) ?? 0;
  if (dataset && subset && !dataset.isImage && featureSize > 0 && featureSize <= 64) {
    const x = subset.batch(Int32Array.from({ length: n }, (_, i) => i)).x;
    features = Array.from({ length: n }, (_, i) =>
      Array.from(x.subarray(i * featureSize, (i + 1) * featureSize), short),
    );
    featureNames = dataset.featureNames
      ? [...dataset.featureNames]
      : Array.from({ length: featureSize }, (_, i) => `x${i}`);
  }
  const table: ExploreTable = {
    experiment,
    subset: subsetName,
    datasetId: dataset?.id ?? null,
    size: n,
    classNames,
    image:
      dataset?.isImage && dataset.imageShape
        ? { height: dataset.imageShape[0], width: dataset.imageShape[1] }
        : null,
    sourceFiles: dataset?.sourceFiles
      ? Array.from(sourceIndex, (s) => dataset?.sourceFiles?.[s] ?? "")
      : null,
    featureNames,
    features,
    sourceIndex: Array.from(sourceIndex),
    label,
    predicted: majority(runs, n, classNames.length),
    runs,
    scores: scored.scores,
    columns,
    problems,
    tags: [],
    readOnly: false,
  };
  return { resultsDir, experiment, table, dataset, subset, curves, embedding };
}

/** The experiment's saved review tags (none before the first is written). */
export function savedTags(resultsDir: string, experiment: string): ReviewTag[] {
  const path = reviewTagsPath(resultsDir, experiment);
  return existsSync(path) ? readReviewTags(path) : [];
}

/** The curves of one sample: the probability of its label at each saved iteration of each run. */
export function sampleCurves(data: ExploreData, position: number): SampleCurve[] {
  return data.table.runs.map((run, r) => {
    const curves = data.curves[r] as RunCurves;
    return {
      run: run.name,
      seed: run.seed,
      iterations: curves.iterations,
      probability: curves.probabilities.map((p) => Number((p[position] as number).toPrecision(5))),
    };
  });
}

/** The sample at `position` as a PNG (image datasets only), through the report's thumbnail renderer. */
export function sampleImage(data: ExploreData, position: number): Uint8Array | null {
  if (!data.dataset?.isImage || !data.dataset.imageShape || !data.subset) return null;
  if (!Number.isInteger(position) || position < 0 || position >= data.subset.size) return null;
  return samplePng(data.dataset, data.subset, position);
}

/**
 * The `k` samples nearest to `position` (Euclidean distance, exact: every sample is compared) in
 * the data's embedding (a PredictionDepth probe's, else the softmax outputs: see
 * {@link NeighbourEmbedding}), nearest first, ties by position; the sample itself is left out.
 * Null without an embedding.
 */
export function sampleNeighbours(data: ExploreData, position: number, k: number): SampleNeighbours | null {
  const e = data.embedding;
  if (!e) return null;
  const { dim, values } = e;
  const n = values.length / dim;
  const count = Math.max(0, Math.min(k, n - 1));
  // the `count` best so far, sorted by (distance, position)
  const bestDistance = new Float64Array(count).fill(Number.POSITIVE_INFINITY);
  const bestPosition = new Int32Array(count).fill(-1);
  const q = position * dim;
  for (let i = 0; i < n; i++) {
    if (i === position) continue;
    let d = 0;
    for (let j = 0, o = i * dim; j < dim; j++) {
      const diff = (values[o + j] as number) - (values[q + j] as number);
      d += diff * diff;
    }
    if (count === 0 || d >= (bestDistance[count - 1] as number)) continue;
    let at = count - 1;
    while (at > 0 && (bestDistance[at - 1] as number) > d) {
      bestDistance[at] = bestDistance[at - 1] as number;
      bestPosition[at] = bestPosition[at - 1] as number;
      at--;
    }
    bestDistance[at] = d;
    bestPosition[at] = i;
  }
  const t = data.table;
  return {
    position,
    kind: e.kind,
    space: e.space,
    neighbours: Array.from(bestPosition, (p, r) => ({
      position: p,
      sourceIndex: t.sourceIndex[p] as number,
      label: t.classNames[t.label[p] as number] ?? "",
      predicted: t.classNames[t.predicted[p] as number] ?? "",
      distance: Number(Math.sqrt(bestDistance[r] as number).toPrecision(5)),
    })),
  };
}
