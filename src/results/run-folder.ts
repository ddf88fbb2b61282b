import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { MODEL_FILES, parseIterationDirName, RUN_FILES } from "../config/layout.js";
import { parseSavedRunConfig } from "../config/parse.js";
import { type ImportRecord, ImportRecordSchema, type RunConfig } from "../config/schema.js";
import { readCsv } from "../util/csv.js";
import { ConfigError, DataError } from "../util/errors.js";
import { readYaml } from "../util/yaml-io.js";

/** Metric name → value (dev.yaml, test_holistic.yaml, a metrics.csv row). */
export type MetricValues = Record<string, number>;

/**
 * True when `dir` holds a saved model: `model.safetensors`, or an older run's `model.json`
 * (src/engine/checkpoint.ts reads both).
 */
export function hasModelCheckpoint(dir: string): boolean {
  return existsSync(join(dir, MODEL_FILES.model)) || existsSync(join(dir, MODEL_FILES.legacyModel));
}

/** True when the run finished: `metrics.csv` is written last, atomically. */
export function isRunFinished(runDir: string): boolean {
  return existsSync(join(runDir, RUN_FILES.metrics));
}

/** `curriculum_score.yaml`: the score file a curriculum run trained on, with its SHA-256. */
export interface TrainedScoreRecord {
  id?: string;
  type?: string;
  file?: string;
  sha256?: string;
}

/** A curriculum run's `curriculum_score.yaml`, or null when it has none (no curriculum, or an earlier version). */
export function readTrainedScore(runDir: string): TrainedScoreRecord | null {
  const path = join(runDir, RUN_FILES.curriculumScore);
  return existsSync(path) ? (readYaml<TrainedScoreRecord | null>(path) ?? {}) : null;
}

/** The resolved config saved in a run folder, validated. */
export function readRunConfig(runDir: string): RunConfig {
  const path = join(runDir, RUN_FILES.config);
  return parseSavedRunConfig(readYaml(path), path);
}

/** The iteration folders of a run (`epoch_N`/`step_N`), ascending, and whether each holds a model. */
export function listIterations(runDir: string): { iteration: number; dir: string; hasModel: boolean }[] {
  if (!existsSync(runDir)) throw new DataError(`${runDir}: run folder not found`);
  const out: { iteration: number; dir: string; hasModel: boolean }[] = [];
  for (const entry of readdirSync(runDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const parsed = parseIterationDirName(entry.name);
    if (!parsed) continue;
    const dir = join(runDir, entry.name);
    out.push({ iteration: parsed.iteration, dir, hasModel: hasModelCheckpoint(dir) });
  }
  return out.sort((a, b) => a.iteration - b.iteration);
}

/** Reads an `{metric: {all: v}, ..., iteration?}` YAML (dev.yaml, test_holistic.yaml) into flat values. */
export function readResultsYaml(path: string): { values: MetricValues; iteration: number | undefined } {
  const raw = readYaml<Record<string, unknown>>(path);
  if (!raw || typeof raw !== "object") throw new DataError(`${path}: expected a mapping of results`);
  const values: MetricValues = {};
  let iteration: number | undefined;
  for (const [key, value] of Object.entries(raw)) {
    if (key === "iteration") {
      if (typeof value !== "number") throw new DataError(`${path}: iteration: expected a number`);
      iteration = value;
    } else if (value && typeof value === "object" && typeof (value as { all?: unknown }).all === "number") {
      values[key] = (value as { all: number }).all;
    } else {
      throw new DataError(`${path}: ${key}: expected {all: <number>}`);
    }
  }
  return { values, iteration };
}

/** The iteration whose model is in `_best/` (from `_best/dev.yaml`). */
export function bestIteration(runDir: string): number {
  const path = join(runDir, RUN_FILES.best, RUN_FILES.devYaml);
  const { iteration } = readResultsYaml(path);
  if (iteration === undefined)
    throw new DataError(`${path}: iteration: missing (expected the best iteration)`);
  return iteration;
}

/**
 * The folder holding the model to load: `_best/`, or for "last" the highest iteration folder
 * that actually holds a model (the original takes the highest folder even without one: docs/differences.md, item 4).
 */
export function checkpointDir(runDir: string, stop: "best" | "last"): string {
  if (importRecord(runDir)) return importedCheckpointDir(runDir, stop);
  if (stop === "best") {
    const dir = join(runDir, RUN_FILES.best);
    if (!hasModelCheckpoint(dir)) {
      throw new DataError(`${dir}: no ${MODEL_FILES.model} (expected the best model of a finished run)`);
    }
    return dir;
  }
  if (stop !== "last") throw new ConfigError("stop", `must be 'best' or 'last', got '${String(stop)}'`);
  const withModel = listIterations(runDir).filter((it) => it.hasModel);
  const last = withModel[withModel.length - 1];
  if (!last) throw new DataError(`${runDir}: no epoch_N/ or step_N/ folder holds a ${MODEL_FILES.model}`);
  return last.dir;
}

/**
 * The `imported` entry of a run's config.yaml (a run made by `curricula import`, which holds the
 * recorded outputs but no model), or null for a trained run. Read leniently: a run folder without a
 * readable config is no imported run.
 */
export function importRecord(runDir: string): ImportRecord | null {
  const path = join(runDir, RUN_FILES.config);
  if (!existsSync(path)) return null;
  let doc: unknown;
  try {
    doc = readYaml(path);
  } catch {
    return null;
  }
  const parsed = ImportRecordSchema.safeParse((doc as { imported?: unknown } | null)?.imported);
  return parsed.success ? parsed.data : null;
}

/**
 * An imported run's folder for a stop: `_best/` or the last `epoch_N/`, which hold its recorded
 * outputs (there is no model to load).
 */
function importedCheckpointDir(runDir: string, stop: "best" | "last"): string {
  if (stop === "best") return join(runDir, RUN_FILES.best);
  if (stop !== "last") throw new ConfigError("stop", `must be 'best' or 'last', got '${String(stop)}'`);
  const last = listIterations(runDir).pop();
  if (!last)
    throw new DataError(`${runDir}: no epoch_N/ folder (an imported run holds one per recorded epoch)`);
  return last.dir;
}

/**
 * The error of a score that needs a model, on an imported run (which has none); null for a trained run.
 */
export function importedRunNeedsModel(runDir: string, what: string): DataError | null {
  const record = importRecord(runDir);
  if (!record) return null;
  return new DataError(
    `${runDir}: ${what} needs a model, but this run was imported (curricula import, ${record.format} format, ` +
      `from ${record.source}) and holds only its recorded outputs. Score it with an output-based function ` +
      "(CELoss, CumulativeAccuracy, FirstIteration, AUM, Forgetting, Cartography, EL2N), or train the run here.",
  );
}

/** What a finished run reports: best iteration and dev results from `_best/`, test results from `_test/`. */
export function readRunResult(
  runDir: string,
  skipped: boolean,
): { runDir: string; skipped: boolean; bestIteration: number; best: MetricValues; test: MetricValues } {
  const bestDev = readResultsYaml(join(runDir, RUN_FILES.best, RUN_FILES.devYaml));
  const test = readResultsYaml(join(runDir, RUN_FILES.test, RUN_FILES.testHolistic));
  return { runDir, skipped, bestIteration: bestIteration(runDir), best: bestDev.values, test: test.values };
}

/** A CSV of numbers (metrics.csv, pace.csv): columns in order, empty or non-numeric cells NaN. */
export interface NumericTable {
  columns: string[];
  rows: Record<string, number>[];
}

export function readNumericTable(path: string): NumericTable {
  const { columns, rows } = readCsv(path);
  return {
    columns,
    rows: rows.map((row) => {
      const out: Record<string, number> = {};
      for (const c of columns) {
        const text = row[c];
        out[c] = text === undefined || text === "" ? Number.NaN : Number(text);
      }
      return out;
    }),
  };
}

/**
 * `{metric: {all: v}, ...}` (dev.yaml, test_holistic.yaml) → `{metric: v}`, leniently: plain numbers
 * are taken as they are, anything else is left out. See {@link readResultsYaml} for the strict reader.
 */
export function metricValues(doc: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!doc || typeof doc !== "object") return out;
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (typeof value === "number") out[key] = value;
    else if (value && typeof value === "object" && typeof (value as { all?: unknown }).all === "number") {
      out[key] = (value as { all: number }).all;
    }
  }
  return out;
}

/**
 * Everything summaries and reports read from a run folder (a training run or an aggregated one),
 * read leniently: a missing file is null, an unreadable one is null plus a line in `problems`.
 * The config is the saved `config.yaml`, or aucurriculum's `.hydra/config.yaml`.
 */
export interface RunFolderContents {
  dir: string;
  /** metrics.csv exists: the run finished (it is written last, atomically). */
  finished: boolean;
  config: Record<string, unknown> | null;
  metrics: NumericTable | null;
  /** `_best/dev.yaml` as written (metric mappings and `iteration`). */
  bestDev: Record<string, unknown> | null;
  /** `_test/test_holistic.yaml` as written. */
  test: Record<string, unknown> | null;
  timer: Record<string, unknown> | null;
  pace: PacePoint[] | null;
  problems: string[];
}

export function readRunFolder(dir: string): RunFolderContents {
  const problems: string[] = [];
  const attempt = <T>(path: string, read: (path: string) => T): T | null => {
    if (!existsSync(path)) return null;
    try {
      return read(path);
    } catch (error) {
      problems.push(`${path}: ${(error as Error).message}`);
      return null;
    }
  };
  const mapping = (path: string) => {
    const doc = readYaml(path);
    if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new Error("expected a mapping");
    return doc as Record<string, unknown>;
  };
  const configPath = existsSync(join(dir, RUN_FILES.config))
    ? join(dir, RUN_FILES.config)
    : join(dir, RUN_FILES.hydraConfig);
  const metricsPath = join(dir, RUN_FILES.metrics);
  return {
    dir,
    finished: existsSync(metricsPath),
    config: attempt(configPath, mapping),
    metrics: attempt(metricsPath, readNumericTable),
    bestDev: attempt(join(dir, RUN_FILES.best, RUN_FILES.devYaml), mapping),
    test: attempt(join(dir, RUN_FILES.test, RUN_FILES.testHolistic), mapping),
    timer: attempt(join(dir, RUN_FILES.timer), mapping),
    pace: attempt(join(dir, RUN_FILES.pace), readPace),
    problems,
  };
}

/** One row of a run's `pace.csv`: how many samples the curriculum allowed at an iteration. */
export interface PacePoint {
  iteration: number;
  dataset_size: number;
}

/** Reads one run's `pace.csv` (written by the pace manager), strictly. */
export function readPace(path: string): PacePoint[] {
  const { columns, rows } = readCsv(path);
  for (const column of ["iteration", "dataset_size"]) {
    if (!columns.includes(column)) throw new DataError(`${path}: missing column "${column}"`);
  }
  return rows.map((row, r) => {
    const iteration = Number(row.iteration);
    const size = Number(row.dataset_size);
    if (!Number.isInteger(iteration) || !Number.isInteger(size)) {
      throw new DataError(`${path}: row ${r + 2}: expected integer iteration and dataset_size`);
    }
    return { iteration, dataset_size: size };
  });
}
