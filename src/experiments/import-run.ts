import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createRunDataset, withReviewTagsFingerprints } from "../assembly/review.js";
import { composeGrid } from "../config/compose.js";
import { iterationDirName, type OutputSubset, RUN_FILES, runDir as runFolder } from "../config/layout.js";
import { runName as nameOfRun } from "../config/naming.js";
import { type ImportFormat, type ImportRecord, type RunConfig, RunConfigSchema } from "../config/schema.js";
import type { Dataset, Subset } from "../data/types.js";
import {
  type RecordedSubset,
  type Recording,
  readRecording,
  recordedFileLabel,
  writeSplitIds,
} from "../results/recorded-run.js";
import { bestIteration, isRunFinished } from "../results/run-folder.js";
import { type SubsetOutputs, saveOutputs } from "../results/subset-outputs.js";
import {
  argmaxRows,
  computeMetrics,
  configDifferences,
  criterionClassWeights,
  isImprovement,
  perSampleCrossEntropy,
  reduceLosses,
} from "../training/index.js";
import { WORST_METRIC_VALUE } from "../training/metrics.js";
import { resultsYaml } from "../training/outputs.js";
import { writeDirAtomic } from "../util/atomic.js";
import { writeCsv } from "../util/csv.js";
import { ConfigError, DataError, UsageError } from "../util/errors.js";
import { fileSha256 } from "../util/fingerprint.js";
import { writeYaml } from "../util/yaml-io.js";

/**
 * `curricula import`: a run recorded by any training loop (its per-epoch logits of the train, and
 * optionally dev and test, subsets) becomes a run folder under `training/` that the output-based
 * scores read as they read a trained run: `epoch_<k>/` with the per-sample outputs and `dev.yaml`,
 * `_best/` (the epoch the dataset's tracking metric picks on the dev logits), `_test/`, `metrics.csv`
 * (written last). It holds no model: its `config.yaml` says `imported:` (format, source, the
 * fingerprints of the files read), so model-based scores and training refuse it. The whole folder
 * is written atomically, after every check passed.
 */

export interface ImportOptions {
  /** The recording: a folder (npy, cartography) or a CSV file. */
  path: string;
  format: ImportFormat;
  /** The dataset id (`dataset/<id>.yaml`) the run was trained on. */
  dataset: string;
  /** Folder name under `training/`; default the run name of the composed config. */
  runName?: string;
  /** `key=value` overrides of the composed config (results_dir, experiment_id, seed, …). */
  overrides?: readonly string[];
  configName?: string;
  configPath?: string;
  cwd?: string;
  log?: (line: string) => void;
}

export interface ImportResult {
  runDir: string;
  name: string;
  /** True when the same files were imported into this folder before (nothing was written). */
  skipped: boolean;
  epochs: number;
  bestIteration: number;
}

/** The model of an imported run's config: there is none, and its name field says so. */
export const IMPORTED_MODEL = { id: "Imported", type: "Imported" } as const;

/** The composed config of an import: the overrides' config, trained on the dataset for `epochs` epochs, with no model. */
async function importConfig(
  options: ImportOptions,
  epochs: number,
  record: ImportRecord,
): Promise<RunConfig> {
  const points = await composeGrid({
    overrides: [`dataset=${options.dataset}`, ...(options.overrides ?? [])],
    configName: options.configName,
    configPath: options.configPath,
    cwd: options.cwd,
    log: null,
  });
  if (points.length !== 1) {
    throw new UsageError(
      `the overrides describe ${points.length} runs; an import writes one (give single values, e.g. seed=2)`,
    );
  }
  const config = (points[0] as { config: RunConfig }).config;
  // Review tags the dataset names are recorded by their fingerprints, as for a trained run.
  return withReviewTagsFingerprints(
    RunConfigSchema.parse({
      ...config,
      model: { ...IMPORTED_MODEL },
      training_type: "epoch",
      iterations: epochs,
      eval_frequency: 1,
      save_frequency: 1,
      imported: record,
    }),
    options.cwd ?? process.cwd(),
  );
}

/** The rows of a recorded subset in subset order: the position of each row, checked against the dataset by id and label. */
function positionsOf(recorded: RecordedSubset, subset: Subset, name: OutputSubset): Int32Array {
  const n = recorded.targets.length;
  if (n !== subset.size) {
    throw new DataError(
      `${recorded.source}: ${n} ${name} rows but the dataset's ${name} subset has ${subset.size} samples ` +
        "(record every sample of the subset, once)",
    );
  }
  let positions: Int32Array;
  if (recorded.ids) {
    const byId = new Map<number, number>();
    subset.sourceIndex.forEach((id, p) => {
      byId.set(id, p);
    });
    positions = new Int32Array(n);
    const seen = new Uint8Array(n);
    const unknown: number[] = [];
    recorded.ids.forEach((id, r) => {
      const p = byId.get(id);
      if (p === undefined) {
        unknown.push(r);
        return;
      }
      if (seen[p]) throw new DataError(`${recorded.source}: row ${r}: id ${id} appears twice`);
      seen[p] = 1;
      positions[r] = p;
    });
    if (unknown.length > 0) {
      throw new DataError(
        `${recorded.source}: ${unknown.length} row(s) have ids that are not in the dataset's ${name} subset ` +
          `(rows ${unknown.slice(0, 5).join(", ")}${unknown.length > 5 ? ", …" : ""}: ids ` +
          `${unknown
            .slice(0, 5)
            .map((r) => recorded.ids?.[r])
            .join(", ")}); ids are the dataset's source_index (docs/import.md)`,
      );
    }
  } else {
    positions = Int32Array.from({ length: n }, (_, i) => i);
  }
  const wrong: string[] = [];
  recorded.targets.forEach((target, r) => {
    const label = subset.labels[positions[r] as number] as number;
    if (target !== label)
      wrong.push(
        `row ${r} (id ${subset.sourceIndex[positions[r] as number]}): ${target}, the dataset says ${label}`,
      );
  });
  if (wrong.length > 0) {
    throw new DataError(
      `${recorded.source}: ${wrong.length} ${name} target(s) disagree with the dataset's labels: ` +
        `${wrong.slice(0, 5).join("; ")}${wrong.length > 5 ? "; …" : ""}`,
    );
  }
  return positions;
}

/** One epoch's outputs of a subset in subset order, with the criterion's per-sample losses. */
function subsetOutputs(
  logits: Float32Array,
  positions: Int32Array,
  subset: Subset,
  c: number,
  weights: Float32Array | null,
): SubsetOutputs {
  const n = positions.length;
  const ordered = new Float32Array(n * c);
  for (let r = 0; r < n; r++) {
    ordered.set(logits.subarray(r * c, (r + 1) * c), (positions[r] as number) * c);
  }
  const targets = Int32Array.from(subset.labels);
  return {
    logits: ordered,
    numClasses: c,
    targets,
    indices: Int32Array.from({ length: n }, (_, i) => i),
    losses: perSampleCrossEntropy(ordered, targets, c, weights),
  };
}

/** Imports a recorded run (see the module comment); a rerun with the same files is skipped. */
export async function importRun(options: ImportOptions): Promise<ImportResult> {
  const cwd = options.cwd ?? process.cwd();
  const source = resolve(cwd, options.path);
  const recording = readRecording(source, options.format);
  const train = recording.subsets.train as RecordedSubset;
  const epochs = train.epochs.length;
  const record: ImportRecord = {
    format: options.format,
    source,
    files: Object.fromEntries(recording.files.map((f) => [recordedFileLabel(recording, f), fileSha256(f)])),
  };
  const config = await importConfig(options, epochs, record);
  const name = options.runName ?? nameOfRun(config as unknown as Record<string, unknown>);
  const dir = runFolder(resolve(cwd, config.results_dir), config.experiment_id, name);
  if (existsSync(join(dir, RUN_FILES.config))) {
    // The files' fingerprints are the provenance: the same files moved elsewhere are the same run.
    const differences = configDifferences(dir, config).filter((d) => !d.startsWith("imported.source:"));
    if (differences.length === 0 && isRunFinished(dir)) {
      options.log?.(`${dir}: already imported from the same files; nothing to do`);
      return { runDir: dir, name, skipped: true, epochs, bestIteration: bestIteration(dir) };
    }
    if (differences.length > 0) {
      throw new ConfigError(
        differences[0]?.split(":")[0] ?? "<root>",
        `the run folder holds another run:\n  ${differences.join("\n  ")}\n` +
          "Import under another --run-name or experiment_id, or delete the folder.",
        join(dir, RUN_FILES.config),
      );
    }
  }
  const dataset = await createRunDataset(config.dataset);
  const built = buildRun(recording, dataset, config);
  await writeDirAtomic(dir, async (tmp) => writeRun(tmp, config, recording, built));
  options.log?.(
    `imported ${epochs} epoch(s) of ${Object.keys(recording.subsets).join(", ")} into ${dir} (best epoch ${built.best})`,
  );
  return { runDir: dir, name, skipped: false, epochs, bestIteration: built.best };
}

interface BuiltRun {
  /** Per epoch (index k − 1), the outputs of each recorded subset. */
  outputs: Partial<Record<OutputSubset, SubsetOutputs>>[];
  /** metrics.csv rows. */
  rows: Record<string, number>[];
  /** dev.yaml values per epoch. */
  dev: Record<string, number>[];
  best: number;
  test: Record<string, number> | null;
  metricNames: readonly string[];
}

/** Checks the recording against the dataset and computes what a trained run's folder holds. */
function buildRun(recording: Recording, dataset: Dataset, config: RunConfig): BuiltRun {
  const c = dataset.outputDim;
  const train = recording.subsets.train as RecordedSubset;
  if (train.numClasses !== c) {
    throw new DataError(
      `${train.epochSources[0] ?? train.source}: logits have ${train.numClasses} columns but dataset ${dataset.id} has ${c} classes`,
    );
  }
  const weights = criterionClassWeights(config.dataset.criterion, dataset.subset("train").labels, c);
  const positions: Partial<Record<OutputSubset, Int32Array>> = {};
  for (const name of ["train", "dev", "test"] as const) {
    const recorded = recording.subsets[name];
    if (recorded) positions[name] = positionsOf(recorded, dataset.subset(name), name);
  }
  const metricNames = config.dataset.metrics;
  const outputs: BuiltRun["outputs"] = [];
  const rows: BuiltRun["rows"] = [];
  const dev: BuiltRun["dev"] = [];
  let best = { iteration: 0, value: WORST_METRIC_VALUE };
  const trainSize = dataset.subset("train").size;
  for (let e = 0; e < train.epochs.length; e++) {
    const epoch: Partial<Record<OutputSubset, SubsetOutputs>> = {};
    for (const name of ["train", "dev", "test"] as const) {
      const recorded = recording.subsets[name];
      if (!recorded) continue;
      epoch[name] = subsetOutputs(
        recorded.epochs[e] as Float32Array,
        positions[name] as Int32Array,
        dataset.subset(name),
        c,
        weights,
      );
    }
    outputs.push(epoch);
    const iteration = e + 1;
    const trainOut = epoch.train as SubsetOutputs;
    const trainLoss = reduceLosses(trainOut.losses, trainOut.targets, weights);
    let metrics: Record<string, number> = Object.fromEntries(metricNames.map((m) => [m, Number.NaN]));
    let devLoss = Number.NaN;
    if (epoch.dev) {
      metrics = computeMetrics(metricNames, argmaxRows(epoch.dev.logits, c), epoch.dev.targets, c);
      devLoss = reduceLosses(epoch.dev.losses, epoch.dev.targets, weights);
    }
    dev.push({ ...metrics, dev_loss: devLoss });
    rows.push({
      ...metrics,
      train_loss: trainLoss,
      dev_loss: devLoss,
      iteration,
      samples_seen: trainSize * iteration,
    });
    // Without dev logits there is no tracking metric: the last epoch is the best.
    const value = epoch.dev ? (metrics[config.dataset.tracking_metric] ?? Number.NaN) : iteration;
    if (isImprovement(value, best.value)) best = { iteration, value };
  }
  if (best.iteration === 0) {
    throw new DataError(
      `${recording.source}: no epoch has a ${config.dataset.tracking_metric} on the dev logits to pick the best epoch by`,
    );
  }
  const bestTest = outputs[best.iteration - 1]?.test;
  const test = bestTest
    ? {
        ...computeMetrics(metricNames, argmaxRows(bestTest.logits, c), bestTest.targets, c),
        loss: reduceLosses(bestTest.losses, bestTest.targets, weights),
      }
    : null;
  return { outputs, rows, dev, best: best.iteration, test, metricNames };
}

function writeRun(dir: string, config: RunConfig, recording: Recording, built: BuiltRun): void {
  writeYaml(join(dir, RUN_FILES.config), config);
  writeFileSync(
    join(dir, RUN_FILES.log),
    `Imported ${built.outputs.length} epoch(s) from ${recording.source} (${recording.format} format); ` +
      `best epoch ${built.best} by ${config.dataset.tracking_metric} on the dev logits\n`,
  );
  const files = (target: string, e: number, withTest: boolean) => {
    const epoch = built.outputs[e] as Partial<Record<OutputSubset, SubsetOutputs>>;
    for (const name of ["train", "dev", "test"] as const) {
      const out = epoch[name];
      if (out && (name !== "test" || withTest)) saveOutputs(target, name, out);
    }
    writeYaml(join(target, RUN_FILES.devYaml), resultsYaml(built.dev[e] ?? {}, { iteration: e + 1 }));
  };
  built.outputs.forEach((_, e) => {
    files(join(dir, iterationDirName("epoch", e + 1)), e, true);
  });
  const best = join(dir, RUN_FILES.best);
  files(best, built.best - 1, false);
  const bestResults: Record<string, number> = {};
  for (const name of built.metricNames)
    bestResults[name] = Math.max(...built.rows.map((r) => r[name] ?? Number.NaN));
  for (const name of ["train_loss", "dev_loss"]) {
    const values = built.rows.map((r) => r[name] ?? Number.NaN).filter((v) => !Number.isNaN(v));
    bestResults[`${name}_min`] = values.length > 0 ? Math.min(...values) : Number.NaN;
  }
  bestResults.best_iteration = built.best;
  writeYaml(join(best, RUN_FILES.bestResults), bestResults);
  const testOut = built.outputs[built.best - 1]?.test;
  if (testOut && built.test) {
    const testDir = join(dir, RUN_FILES.test);
    saveOutputs(testDir, "test", testOut);
    writeYaml(join(testDir, RUN_FILES.testHolistic), resultsYaml(built.test));
  }
  const columns = [...built.metricNames, "train_loss", "dev_loss", "iteration", "samples_seen"];
  writeCsv(join(dir, RUN_FILES.metrics), columns, built.rows);
}

/**
 * Writes a dataset's split for a training loop elsewhere: `<dir>/<subset>/ids.npy` (the
 * `source_index` of each position) and `targets.npy`. The dataset is composed as an import composes
 * it (`dataset=<id>` and the overrides).
 */
export async function writeSplit(options: Omit<ImportOptions, "format" | "runName">): Promise<string[]> {
  const cwd = options.cwd ?? process.cwd();
  const points = await composeGrid({
    overrides: [`dataset=${options.dataset}`, ...(options.overrides ?? [])],
    configName: options.configName,
    configPath: options.configPath,
    cwd,
    log: null,
  });
  const config = points[0]?.config as RunConfig | undefined;
  if (!config || points.length !== 1) throw new UsageError("the overrides must describe one dataset");
  const dataset = await createRunDataset(config.dataset);
  const subsets = Object.fromEntries(
    (["train", "dev", "test"] as const).map((name) => {
      const s = dataset.subset(name);
      return [name, { sourceIndex: s.sourceIndex, labels: s.labels }];
    }),
  );
  return writeSplitIds(resolve(cwd, options.path), subsets);
}
