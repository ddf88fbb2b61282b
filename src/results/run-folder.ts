import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseRunConfig } from "../config/parse.js";
import type { RunConfig } from "../config/schema.js";
import { ConfigError, DataError } from "../util/errors.js";
import { readYaml } from "../util/yaml-io.js";
import type { MetricValues } from "../training/types.js";

/**
 * The run folder layout (docs/architecture.md, "Run folder") and its readers. Everything that
 * names a file inside a run folder lives here, so writers and readers cannot drift apart.
 */
export const RUN_FILES = {
  config: "config.yaml",
  metrics: "metrics.csv",
  log: "training.log",
  timer: "timer.yaml",
  hardware: "hardware.yaml",
  devYaml: "dev.yaml",
  bestResults: "best_results.yaml",
  testHolistic: "test_holistic.yaml",
  trainerState: "trainer_state.json",
  modelJson: "model.json",
  best: "_best",
  test: "_test",
  /** Hard links to `_best` as of the last checkpoint; lets a resumed run restore `_best`. Removed when the run finishes. */
  resume: ".resume",
} as const;

export type TrainingType = RunConfig["training_type"];

/** `epoch_N` or `step_N`. */
export function iterationDirName(trainingType: TrainingType, iteration: number): string {
  return `${trainingType}_${iteration}`;
}

const ITERATION_DIR = /^(epoch|step)_(\d+)$/;

/** Parses `epoch_N`/`step_N`; null for any other name. */
export function parseIterationDirName(
  name: string,
): { trainingType: TrainingType; iteration: number } | null {
  const m = ITERATION_DIR.exec(name);
  return m ? { trainingType: m[1] as TrainingType, iteration: Number(m[2]) } : null;
}

/** True when the run finished: `metrics.csv` is written last, atomically. */
export function isRunFinished(runDir: string): boolean {
  return existsSync(join(runDir, RUN_FILES.metrics));
}

/** The resolved config saved in a run folder, validated. */
export function readRunConfig(runDir: string): RunConfig {
  const path = join(runDir, RUN_FILES.config);
  return parseRunConfig(readYaml(path), path);
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
    out.push({ iteration: parsed.iteration, dir, hasModel: existsSync(join(dir, RUN_FILES.modelJson)) });
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
 * that actually holds a model (the original takes the highest folder even without one, §15.4).
 */
export function checkpointDir(runDir: string, stop: "best" | "last"): string {
  if (stop === "best") {
    const dir = join(runDir, RUN_FILES.best);
    if (!existsSync(join(dir, RUN_FILES.modelJson))) {
      throw new DataError(`${dir}: no ${RUN_FILES.modelJson} (expected the best model of a finished run)`);
    }
    return dir;
  }
  if (stop !== "last") throw new ConfigError("stop", `must be 'best' or 'last', got '${String(stop)}'`);
  const withModel = listIterations(runDir).filter((it) => it.hasModel);
  const last = withModel[withModel.length - 1];
  if (!last) throw new DataError(`${runDir}: no epoch_N/ or step_N/ folder holds a ${RUN_FILES.modelJson}`);
  return last.dir;
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
