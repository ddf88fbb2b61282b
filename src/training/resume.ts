import { copyFileSync, existsSync, linkSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { diffConfigs } from "../config/diff.js";
import { iterationDirName, parseIterationDirName, RUN_FILES } from "../config/layout.js";
import { parseSavedRunConfig } from "../config/parse.js";
import type { RunConfig } from "../config/schema.js";
import type { NetworkRngState } from "../engine/types.js";
import { importRecord, isRunFinished, listIterations } from "../results/run-folder.js";
import { ensureDir } from "../util/dirs.js";
import { ConfigError, DataError } from "../util/errors.js";
import { readYaml } from "../util/yaml-io.js";
import { checkpointProblem } from "./checkpoint-integrity.js";
import type { TimerState } from "./timer.js";
import type { TrackerState } from "./trackers.js";
import type { MetricValues } from "./types.js";

/**
 * Reuse and resume planning. A finished run (metrics.csv present) with the same config is reused; a
 * crashed one continues from its last checkpoint (`trainer_state.json` + model + optimiser files in
 * an iteration folder) and ends byte-identical to an uninterrupted run. A different config is an
 * error. Whether a finished curriculum run's score is still the one it trained on is the curriculum
 * layer's check (src/curriculum/trained-score.ts), which the assembly runs after this one.
 */

/** One row of metrics.csv. */
export type MetricsRow = Record<string, number>;

/** One row of timing.csv: the wall-clock seconds spent training up to an evaluation. */
export type TimingRow = {
  iteration: number;
  samples_seen: number;
  train_seconds: number;
};

export interface BestSoFar {
  iteration: number;
  value: number;
  metrics: MetricValues;
}

/** Everything beyond the model and optimiser files that a resumed run needs to continue exactly. */
export interface TrainerState {
  version: 1;
  trainingType: RunConfig["training_type"];
  iteration: number;
  sampler: unknown;
  /** Step training: the current pass and how far into it the run got. */
  pass: { positions: number[]; cursor: number } | null;
  callbacks: Record<string, unknown>;
  rows: MetricsRow[];
  best: BestSoFar | null;
  schedulerSteps: number;
  classWeights: number[] | null;
  networkRng: NetworkRngState;
  timers: Record<string, TimerState>;
  /**
   * Samples passed through forward and backward so far (the sum of the batch sizes drawn); absent
   * in checkpoints of earlier versions, whose resumed runs record it as unknown.
   */
  samplesSeen?: number;
  /** Cumulative training seconds at each evaluation so far (timing.csv); absent in earlier versions. */
  timings?: TimingRow[];
  /** The online trackers (trackers.ts); absent in earlier versions, whose resumed runs restart them. */
  trackers?: TrackerState;
  /** Fingerprint of TrainOptions.trainPositions (null when training on the whole train subset). */
  trainPositionsHash: string | null;
}

/**
 * Keys that may differ between the saved and the requested config: they say how a run is computed,
 * not which run it is. The engine is not one of them: the engines differ in the last bits, so a
 * finished wasm run re-run on torch (or the reverse) is a mismatch. Both sides hold the resolved
 * engine (wasm or torch; a saved `auto` of an older run reads as what its hardware.yaml recorded).
 */
const RESULT_NEUTRAL_KEYS = ["progress_bar", "device", "threads"] as const;

function comparable(config: unknown): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(config ?? {})) as Record<string, unknown>;
  for (const key of RESULT_NEUTRAL_KEYS) delete plain[key];
  return plain;
}

/** Differences between a run folder's saved config.yaml and the requested config (empty = same run). */
export function configDifferences(runDir: string, config: RunConfig): string[] {
  const path = join(runDir, RUN_FILES.config);
  const saved = readYaml(path);
  let savedResolved: unknown = saved;
  try {
    savedResolved = parseSavedRunConfig(saved, path);
  } catch (error) {
    // A saved config the schema no longer accepts is compared as it is: it differs somewhere.
    if (!(error instanceof ConfigError)) throw error;
  }
  if ((savedResolved as { engine?: unknown } | null)?.engine === "auto") {
    const trainedOn = trainedEngine(runDir);
    if (trainedOn) savedResolved = { ...(savedResolved as object), engine: trainedOn };
  }
  // An unresolved `auto` (a check before the engine is chosen) cannot tell; training resolves it first.
  if (config.engine === "auto") {
    const { engine: _saved, ...savedRest } = savedResolved as Record<string, unknown>;
    const { engine: _requested, ...requestedRest } = config;
    return diffConfigs(comparable(savedRest), comparable(requestedRest));
  }
  return diffConfigs(comparable(savedResolved), comparable(config));
}

/** The engine hardware.yaml says a run was trained on, or null. */
function trainedEngine(runDir: string): string | null {
  const path = join(runDir, RUN_FILES.hardware);
  if (!existsSync(path)) return null;
  const hardware = readYaml(path) as { engine?: { name?: unknown } } | null;
  return typeof hardware?.engine?.name === "string" ? hardware.engine.name : null;
}

/** What a run folder holds: nothing, a finished run, or an unfinished one to resume. */
export type RunFolderState = "new" | "finished" | "unfinished";

/**
 * Checks a run folder against the requested config before anything is trained: a saved config
 * that differs from the requested one is a ConfigError listing the differences (never a silent
 * skip), and so is a finished run without its config.
 */
export function inspectRunFolder(dir: string, config: RunConfig): RunFolderState {
  const configPath = join(dir, RUN_FILES.config);
  const imported = importRecord(dir);
  if (imported) {
    throw new ConfigError(
      "imported",
      `the run folder holds a run imported by curricula import (${imported.format} format, from ${imported.source}): ` +
        "it has no model and is never trained or resumed. Use another experiment_id, or delete the folder.",
      configPath,
    );
  }
  if (existsSync(configPath)) {
    const finished = isRunFinished(dir);
    // An unfinished run of another engine is the resume check's to refuse (it names the engine to
    // resume with), or restarts from scratch when it has no checkpoint yet.
    const differences = configDifferences(dir, config).filter((d) => finished || !d.startsWith("engine:"));
    if (differences.length > 0) {
      throw new ConfigError(
        differences[0]?.split(":")[0] ?? "<root>",
        `the run folder holds ${finished ? "a finished" : "an unfinished"} run of a different config:\n  ` +
          `${differences.join("\n  ")}\n` +
          "Use another experiment_id, or delete the folder" +
          (finished ? "." : " (curricula rm-failed removes unfinished runs)."),
        configPath,
      );
    }
    return finished ? "finished" : "unfinished";
  }
  if (isRunFinished(dir)) {
    throw new ConfigError(
      RUN_FILES.config,
      `missing beside ${RUN_FILES.metrics}: cannot tell which config this run used`,
      configPath,
    );
  }
  return existsSync(dir) ? "unfinished" : "new";
}

export type RunFolderPlan =
  | { kind: "fresh" }
  | { kind: "finished" }
  | {
      kind: "resume";
      iteration: number;
      dir: string;
      state: TrainerState;
      /** Later checkpoints that were damaged (why each), newest first; the run resumes before them. */
      damaged?: string[];
    };

/**
 * Decides what to do with a run folder ({@link inspectRunFolder}, then the latest complete
 * checkpoint): train from scratch, reuse a finished run, or resume a crashed one.
 */
export function planRunFolder(runDir: string, config: RunConfig): RunFolderPlan {
  const state = inspectRunFolder(runDir, config);
  if (state === "finished") return { kind: "finished" };
  if (state === "new" || !existsSync(join(runDir, RUN_FILES.config))) return { kind: "fresh" };
  const checkpoints = listIterations(runDir).filter(
    (it) => it.hasModel && existsSync(join(it.dir, RUN_FILES.trainerState)),
  );
  // The latest intact checkpoint: a damaged one (checksums.json) falls back to the one before.
  const damaged: string[] = [];
  for (const checkpoint of checkpoints.reverse()) {
    let state: TrainerState;
    try {
      state = readTrainerState(checkpoint.dir);
    } catch (error) {
      damaged.push(`${basename(checkpoint.dir)}: ${(error as Error).message}`);
      continue;
    }
    const problem = checkpointProblem(checkpoint.dir, state, bestSnapshotDir(runDir, checkpoint.iteration));
    if (problem) {
      damaged.push(`${basename(checkpoint.dir)}: ${problem}`);
      continue;
    }
    return { kind: "resume", iteration: checkpoint.iteration, dir: checkpoint.dir, state, damaged };
  }
  if (damaged.length === 0) return { kind: "fresh" };
  const shown = damaged.slice(0, 5);
  const more = damaged.length > shown.length ? `\n  ... and ${damaged.length - shown.length} more` : "";
  throw new DataError(
    `${runDir}: no intact checkpoint to resume from:\n  ${shown.join("\n  ")}${more}\n` +
      `${RESTART_HINT(runDir)}`,
  );
}

/** The way out when a run cannot be resumed: train it again from scratch. */
const RESTART_HINT = (runDir: string) =>
  `To train the run again from scratch, delete the run folder ${runDir} (\`curricula rm-failed <results_dir> <experiment_id>\` ` +
  "deletes every unfinished run of an experiment) and rerun the same command.";

function readTrainerState(dir: string): TrainerState {
  const path = join(dir, RUN_FILES.trainerState);
  let state: TrainerState;
  try {
    state = JSON.parse(readFileSync(path, "utf8")) as TrainerState;
  } catch (error) {
    throw new DataError(`${path}: unreadable trainer state: ${(error as Error).message}`);
  }
  if (state.version !== 1) throw new DataError(`${path}: version: expected 1, got ${String(state.version)}`);
  return state;
}

/** Removes what a run writes, keeping config.yaml and training.log (a restart before any checkpoint). */
export function clearRunArtifacts(runDir: string): void {
  if (!existsSync(runDir)) return;
  for (const entry of readdirSync(runDir)) {
    if (
      parseIterationDirName(entry) ||
      entry === RUN_FILES.best ||
      entry === RUN_FILES.test ||
      entry === RUN_FILES.resume ||
      entry === RUN_FILES.timer ||
      entry === RUN_FILES.timing ||
      entry === RUN_FILES.curriculumScore ||
      entry === RUN_FILES.samplerLog ||
      entry.includes(".tmp-")
    ) {
      rmSync(join(runDir, entry), { recursive: true, force: true });
    }
  }
}

/**
 * Prepares a crashed run folder for resuming at `iteration`: deletes later (partial) iteration
 * folders and temporary files, and puts back the `_best/` that was current at that checkpoint.
 */
export function rollBackTo(
  runDir: string,
  trainingType: RunConfig["training_type"],
  iteration: number,
  hadBest: boolean,
): void {
  for (const entry of readdirSync(runDir)) {
    const parsed = parseIterationDirName(entry);
    if ((parsed && parsed.iteration > iteration) || entry.includes(".tmp-") || entry === RUN_FILES.test) {
      rmSync(join(runDir, entry), { recursive: true, force: true });
    }
  }
  const snapshot = bestSnapshotDir(runDir, iteration);
  const best = join(runDir, RUN_FILES.best);
  if (existsSync(snapshot)) {
    rmSync(best, { recursive: true, force: true });
    linkTree(snapshot, best);
  } else if (!hadBest) {
    rmSync(best, { recursive: true, force: true });
  } else {
    throw new DataError(
      `${snapshot}: missing; cannot restore ${RUN_FILES.best}/ as of ${iterationDirName(trainingType, iteration)}. ` +
        RESTART_HINT(runDir),
    );
  }
}

export function bestSnapshotDir(runDir: string, iteration: number): string {
  return join(runDir, RUN_FILES.resume, `best_${iteration}`);
}

/**
 * Records `_best/` as of checkpoint `iteration` with hard links (no copies: `_best/` is only ever
 * replaced as a whole, so the linked files never change); {@link dropOlderSnapshots} drops older ones.
 */
export function snapshotBest(runDir: string, iteration: number): void {
  const best = join(runDir, RUN_FILES.best);
  const target = bestSnapshotDir(runDir, iteration);
  rmSync(target, { recursive: true, force: true });
  if (existsSync(best)) linkTree(best, target);
}

/**
 * Drops the snapshots of checkpoints before the previous one: the current checkpoint's and the
 * previous one's are kept, so a damaged latest checkpoint can fall back to the previous one.
 */
export function dropOlderSnapshots(runDir: string, iteration: number): void {
  const dir = join(runDir, RUN_FILES.resume);
  if (!existsSync(dir)) return;
  const snapshots = readdirSync(dir).map((entry) => ({ entry, n: /^best_(\d+)$/.exec(entry) }));
  const previous = Math.max(
    -1,
    ...snapshots.filter((s) => s.n && Number(s.n[1]) < iteration).map((s) => Number(s.n?.[1])),
  );
  for (const { entry, n } of snapshots) {
    const kept = n && (Number(n[1]) === iteration || Number(n[1]) === previous);
    if (!kept) rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

/**
 * Removes a finished run's resume snapshots (`.resume/`). The trainer calls it only after
 * metrics.csv marks the run finished, so a kill in between leaves a finished run with snapshots to
 * spare, never an unfinished run without them; whoever next finds the run finished calls it again.
 */
export function dropResumeSnapshots(runDir: string): void {
  rmSync(join(runDir, RUN_FILES.resume), { recursive: true, force: true });
}

/** Mirrors a flat folder by hard links (copies when linking is not possible). */
function linkTree(from: string, to: string): void {
  ensureDir(to);
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    try {
      linkSync(join(from, entry.name), join(to, entry.name));
    } catch {
      copyFileSync(join(from, entry.name), join(to, entry.name));
    }
  }
}

/** A short fingerprint of training positions (FNV-1a over the values). */
export function positionsHash(positions: Int32Array | undefined): string | null {
  if (!positions) return null;
  let h = 0x811c9dc5;
  for (const p of positions) {
    h ^= p;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${positions.length}:${h.toString(16)}`;
}
