import type { RunConfig } from "../config/schema.js";
import type { TrainOptions, TrainResult } from "../training/types.js";
import { CurriculaError, TrainingInterrupted } from "../util/errors.js";
import {
  acquireLock as acquireFolderLock,
  type BusyLock,
  type HeldLock,
  lockPath as lockFileOf,
  releaseHeldLocks,
} from "../util/lock.js";

/**
 * One run of a grid, as a serialisable spec: everything a worker (a local child process today, a
 * queue consumer on another machine tomorrow) needs. Runs are idempotent: a finished run is
 * skipped, a crashed one resumes from its last checkpoint (the trainer does that), and a lock keeps
 * two workers from training the same run folder at once.
 */
export interface RunSpec {
  /** The run name (folder name). */
  name: string;
  /** Absolute run folder. */
  runDir: string;
  /** The resolved, validated config. */
  config: RunConfig;
  /**
   * Folder the config's relative paths (results_dir, dataset files, custom modules) start from:
   * the composing command's working folder. Default: the executing process's.
   */
  cwd?: string;
  /** The grid point's `slurm:` settings (kept out of the saved config; used by the SLURM executor). */
  slurm?: Record<string, unknown>;
}

/** `submitted`: handed to a cluster queue that runs it later (SLURM without --wait). */
export type RunStatus = "trained" | "skipped" | "busy" | "failed" | "submitted";

/** What happened to one run (serialisable, sent back by workers). */
export interface RunOutcome {
  name: string;
  runDir: string;
  status: RunStatus;
  seconds: number;
  /** Failure message (status failed) or who holds the lock (status busy). */
  error?: string;
  bestIteration?: number;
  best?: Record<string, number>;
  test?: Record<string, number>;
  /** The run stopped on request after a checkpoint (status failed); training it again resumes. */
  interrupted?: boolean;
  /** The cluster job that runs (or ran) it, e.g. a SLURM array task `1234_5` or a queue job id. */
  job?: string;
}

/** The trainer's signature (`trainRun` of src/assembly); tests pass fakes. */
export type TrainFunction = (config: RunConfig, options: TrainOptions) => Promise<TrainResult>;

export interface ExecuteOptions {
  /** Training function; default: `trainRun` of src/assembly (loaded only when needed). */
  train?: TrainFunction;
  /** Where the trainer's log lines go besides training.log (null: only the file). */
  log?: ((line: string) => void) | null;
  /** Show the trainer's progress bar. */
  progress?: boolean;
  /** Polled by the trainer after each evaluation: true checkpoints and stops the run (TrainOptions.shouldStop). */
  shouldStop?: () => boolean;
}

/** `<training dir>/.locks/<run>.lock`: outside the run folder, so the trainer never sees it. */
export function lockPath(runDir: string): string {
  return lockFileOf(runDir);
}

/**
 * Takes the run's lock (util/lock.ts). A lock left by a dead process on this host is stale and
 * taken over (race-free); a live holder (or one on another host) makes this return its description.
 */
export function acquireLock(runDir: string): HeldLock | BusyLock {
  return acquireFolderLock(runDir);
}

export { releaseHeldLocks };

/** Formats an error for a run's failure line: the message, plus the stack for non-user errors. */
export function describeError(error: unknown): string {
  if (error instanceof CurriculaError) return error.message;
  if (error instanceof Error) {
    const frame = error.stack?.split("\n").find((l) => l.trim().startsWith("at "));
    return frame ? `${error.message} (${frame.trim()})` : error.message;
  }
  return String(error);
}

async function defaultTrain(): Promise<TrainFunction> {
  const assembly = await import("../assembly/train-run.js");
  return assembly.trainRun;
}

/** Runs one spec: lock, train (or resume, or skip), release. Never throws: failures are outcomes. */
export async function executeSpec(spec: RunSpec, options: ExecuteOptions = {}): Promise<RunOutcome> {
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  const base = { name: spec.name, runDir: spec.runDir };
  let lock: ReturnType<typeof acquireLock>;
  try {
    lock = acquireLock(spec.runDir);
  } catch (error) {
    return {
      ...base,
      status: "failed",
      seconds: seconds(),
      error: `cannot lock the run: ${describeError(error)}`,
    };
  }
  if ("heldBy" in lock)
    return { ...base, status: "busy", seconds: seconds(), error: `being trained by ${lock.heldBy}` };
  // Relative paths in the config belong to the folder the grid was composed in.
  const previousCwd = process.cwd();
  if (spec.cwd && spec.cwd !== previousCwd) process.chdir(spec.cwd);
  try {
    const train = options.train ?? (await defaultTrain());
    const result = await train(spec.config, {
      runDir: spec.runDir,
      progress: options.progress ?? false,
      log: options.log === undefined ? null : options.log,
      ...(options.shouldStop ? { shouldStop: options.shouldStop } : {}),
    });
    return {
      ...base,
      status: result.skipped ? "skipped" : "trained",
      seconds: seconds(),
      bestIteration: result.bestIteration,
      best: result.best,
      test: result.test,
    };
  } catch (error) {
    const interrupted = error instanceof TrainingInterrupted ? { interrupted: true } : {};
    return { ...base, status: "failed", seconds: seconds(), error: describeError(error), ...interrupted };
  } finally {
    if (process.cwd() !== previousCwd) process.chdir(previousCwd);
    lock.release();
  }
}
