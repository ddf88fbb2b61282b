import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { PACKAGE_ROOT } from "../../config/package.js";
import { sharedProcessEnv } from "../../engine/threads.js";
import type { score } from "../../scoring/score.js";
import { CurriculaError } from "../../util/errors.js";
import { haltIfInterrupted, interruptRequested, registerInterruptible } from "../../util/interrupt.js";
import { type ProgressSnapshot, writeLine } from "../../util/progress.js";
import { type ExecuteOptions, executeSpec, type RunOutcome, type RunSpec } from "../run-spec.js";
import type { ScoreWorkerMessage } from "./score-worker.js";
import type { ParentMessage, WorkerMessage } from "./worker.js";

/**
 * Executors run a list of serialisable run specs and report one outcome per spec. The interface is
 * deliberately small, so that a queue on a distributed engine can implement it later; the local
 * implementations run specs in this process or in N forked worker processes.
 */
export interface ExecutorEvents {
  onStart?(spec: RunSpec, index: number, total: number): void;
  onEnd?(outcome: RunOutcome, index: number, total: number): void;
  /** Output lines a worker printed (warnings, crashes), with the run it was busy with. */
  onOutput?(line: string, spec: RunSpec | undefined): void;
  /** The progress bars of a running spec (worker processes send them about once a second). */
  onProgress?(spec: RunSpec, index: number, bars: ProgressSnapshot[]): void;
}

/** A scoring sweep (`curricula curriculum`): the entry config, its overrides and where they start. */
export interface ScoreSweep {
  /** `key=value` overrides, e.g. `["curriculum/scoring=CELoss,Random"]`. */
  overrides: readonly string[];
  /** Entry config name (default "curriculum"). */
  configName?: string;
  /** Local config folder (default `<cwd>/conf`). */
  configPath?: string;
  /** Folder the config's relative paths start from (default this process's). */
  cwd?: string;
  /** Recompute score ids made from another config or other runs. */
  force?: boolean;
}

/** One score a sweep computed (what `curricula curriculum` prints); paths are absolute. */
export interface ScoredId {
  id: string;
  type: string;
  scoreFile: string;
  matrices: { name: string; csv: string; count: number }[];
}

export interface ScoreEvents {
  /** Output lines of the scoring (its log, warnings). */
  onOutput?(line: string): void;
}

export interface Executor {
  /** Runs every spec; one failing run does not stop the others. Outcomes are in spec order. */
  run(specs: readonly RunSpec[], events?: ExecutorEvents): Promise<RunOutcome[]>;
  /**
   * Computes a scoring sweep: the scores computed, or null when a cluster computes them (queued,
   * or done by workers that report no files). Executors without it only train.
   */
  score?(sweep: ScoreSweep, events?: ScoreEvents): Promise<ScoredId[] | null>;
}

/** What `score()` returned, with absolute paths (they start from the sweep's folder). */
function scoredIds(results: Awaited<ReturnType<typeof score>>, cwd: string): ScoredId[] {
  return results.map(({ id, type, result }) => ({
    id,
    type,
    scoreFile: resolve(cwd, result.scoreFile),
    matrices: result.matrices.map((m) => ({ name: m.name, csv: resolve(cwd, m.csv), count: m.ids.length })),
  }));
}

/** The library's `score()` here, in this process (also what the scoring worker process runs). */
export async function scoreHere(sweep: ScoreSweep, log?: (line: string) => void): Promise<ScoredId[]> {
  const { score } = await import("../../scoring/score.js");
  // Relative paths in the configs belong to the sweep's folder (as for a run spec's).
  const previousCwd = process.cwd();
  if (sweep.cwd && sweep.cwd !== previousCwd) process.chdir(sweep.cwd);
  try {
    const results = await score({
      overrides: sweep.overrides,
      ...(sweep.configName ? { configName: sweep.configName } : {}),
      ...(sweep.configPath ? { configPath: sweep.configPath } : {}),
      ...(sweep.force ? { force: true } : {}),
      ...(log ? { log } : {}),
    });
    return scoredIds(results, process.cwd());
  } finally {
    if (process.cwd() !== previousCwd) process.chdir(previousCwd);
  }
}

/** Runs specs one after the other in this process (the trainer's log and progress bar show). */
export class InProcessExecutor implements Executor {
  constructor(private readonly options: ExecuteOptions = {}) {}

  async run(specs: readonly RunSpec[], events: ExecutorEvents = {}): Promise<RunOutcome[]> {
    const outcomes: RunOutcome[] = [];
    for (const [index, spec] of specs.entries()) {
      events.onStart?.(spec, index, specs.length);
      // A signal stops the run after its next checkpoint; the interrupt handler then ends the command.
      const running = executeSpec(spec, {
        ...this.options,
        shouldStop: () => interruptRequested() !== null || (this.options.shouldStop?.() ?? false),
      });
      const unregister = registerInterruptible({
        stop: () => {},
        kill: () => process.exit(130),
        stopped: running,
      });
      const outcome = await running.finally(unregister);
      events.onEnd?.(outcome, index, specs.length);
      outcomes.push(await haltIfInterrupted(outcome));
    }
    return outcomes;
  }

  /** Scores in this process (the trainer's log and progress bars show). */
  score(sweep: ScoreSweep): Promise<ScoredId[]> {
    return scoreHere(sweep);
  }
}

export interface LocalProcessOptions {
  /** Number of worker processes (≥ 1). */
  jobs: number;
  /** A module whose `trainRun` replaces the real trainer in the workers (tests). */
  trainModule?: string;
  /** The compiled worker module (default dist/experiments/executors/worker.js). */
  workerModule?: string;
  /** Let workers report progress (default true). */
  progress?: boolean;
  /**
   * Processes that share the cores (default `jobs`): each worker's `threads: auto` takes its share
   * (a BullMQ worker passes its concurrency).
   */
  processes?: number;
}

/** Sends to a worker, ignoring a closed channel (its exit handler reports the run). */
function send(child: ChildProcess, message: ParentMessage): void {
  if (child.connected) child.send(message, (error) => void error);
}

interface WorkerSlot {
  child: ChildProcess;
  current: { spec: RunSpec; index: number } | undefined;
  stopped: boolean;
  /** Sent "ready" at least once (a worker that dies before that is not replaced). */
  started: boolean;
}

/**
 * Runs specs in `jobs` worker processes (child_process.fork of the compiled worker module). A
 * worker that dies mid-run fails that run only and is replaced. Ctrl-C / SIGTERM reach the workers,
 * which stop after their run's next checkpoint; this process waits for them (util/interrupt.ts).
 * Workers whose parent disappears stop the same way. Rerunning the same command then resumes
 * (finished runs are skipped, interrupted ones continue from their last checkpoint).
 */
export class LocalProcessExecutor implements Executor {
  constructor(private readonly options: LocalProcessOptions) {
    if (!Number.isInteger(options.jobs) || options.jobs < 1) {
      throw new RangeError(`jobs must be a positive integer, got ${options.jobs}`);
    }
  }

  run(specs: readonly RunSpec[], events: ExecutorEvents = {}): Promise<RunOutcome[]> {
    if (specs.length === 0) return Promise.resolve([]);
    const outcomes: (RunOutcome | undefined)[] = new Array(specs.length).fill(undefined);
    const slots = new Set<WorkerSlot>();
    let next = 0;
    let done = 0;
    const workerModule = this.options.workerModule ?? workerModulePath();
    const args = this.options.trainModule ? [this.options.trainModule] : [];

    return new Promise<RunOutcome[]>((resolvePromise) => {
      // A signal stops every worker after its run's next checkpoint (see util/interrupt.ts); no
      // further run starts, and this promise never settles: the interrupt handler ends the command.
      let stopping = false;
      const killAll = () => {
        for (const slot of slots) {
          slot.stopped = true;
          if (slot.child.exitCode === null && slot.child.signalCode === null) slot.child.kill("SIGTERM");
        }
      };
      const onExit = () => killAll();
      const detach = () => process.off("exit", onExit);
      process.on("exit", onExit);

      const finish = (index: number, outcome: RunOutcome) => {
        if (outcomes[index] !== undefined) return;
        outcomes[index] = outcome;
        done++;
        events.onEnd?.(outcome, index, specs.length);
        if (done === specs.length && !stopping) {
          for (const slot of slots) {
            slot.stopped = true;
            send(slot.child, { type: "stop" });
          }
          detach();
          resolvePromise(outcomes as RunOutcome[]);
        }
      };

      const dispatch = (slot: WorkerSlot) => {
        if (next >= specs.length || stopping) {
          slot.stopped = true;
          send(slot.child, { type: "stop" });
          return;
        }
        const index = next++;
        const spec = specs[index] as RunSpec;
        slot.current = { spec, index };
        events.onStart?.(spec, index, specs.length);
        send(slot.child, { type: "run", id: index, spec, progress: this.options.progress !== false });
      };

      const spawn = () => {
        const child = fork(workerModule, args, {
          stdio: ["ignore", "pipe", "pipe", "ipc"],
          execArgv: [],
          env: sharedProcessEnv(this.options.processes ?? this.options.jobs),
        });
        const slot: WorkerSlot = { child, current: undefined, stopped: false, started: false };
        slots.add(slot);
        const unregister = registerInterruptible({
          stop: (signal) => {
            stopping = true;
            slot.stopped = true;
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          },
          kill: () => child.kill("SIGKILL"),
          stopped: new Promise((settle) => child.once("exit", settle)),
        });
        for (const stream of [child.stdout, child.stderr]) {
          if (!stream) continue;
          createInterface({ input: stream }).on("line", (line) => {
            if (line.trim().length > 0) events.onOutput?.(line, slot.current?.spec);
          });
        }
        // Send failures (a worker that just died) surface through its "exit" event.
        child.on("error", () => {});
        child.on("message", (message: WorkerMessage) => {
          if (message.type === "ready") {
            slot.started = true;
            dispatch(slot);
          } else if (message.type === "progress") {
            const spec = specs[message.id];
            if (spec && outcomes[message.id] === undefined)
              events.onProgress?.(spec, message.id, message.bars);
          } else if (message.type === "result") {
            slot.current = undefined;
            finish(message.id, message.outcome);
            dispatch(slot);
          }
        });
        child.on("exit", (code, signal) => {
          slots.delete(slot);
          unregister();
          if (stopping) {
            if (slots.size === 0) detach();
            return;
          }
          const current = slot.current;
          slot.current = undefined;
          if (current) {
            finish(current.index, {
              name: current.spec.name,
              runDir: current.spec.runDir,
              status: "failed",
              seconds: 0,
              error: `worker process exited (${signal ?? `code ${code}`}) during the run`,
            });
          }
          if (!slot.stopped && slot.started && next < specs.length) spawn();
          else if (slots.size === 0 && done < specs.length) {
            // Every worker died before taking the remaining specs (e.g. the worker cannot start).
            for (let i = next; i < specs.length; i++) {
              const spec = specs[i] as RunSpec;
              finish(i, {
                name: spec.name,
                runDir: spec.runDir,
                status: "failed",
                seconds: 0,
                error: `no worker could run it (last worker exited with ${signal ?? `code ${code}`})`,
              });
            }
            next = specs.length;
          }
        });
      };

      const count = Math.min(this.options.jobs, specs.length);
      for (let i = 0; i < count; i++) spawn();
    });
  }

  /**
   * Scores in a worker process (the library's `score()`, not the CLI), whose output lines go to
   * `events.onOutput`. A signal stops the worker (waited for); so does this process disappearing.
   */
  score(sweep: ScoreSweep, events: ScoreEvents = {}): Promise<ScoredId[]> {
    return new Promise<ScoredId[]>((resolvePromise, reject) => {
      const child = fork(workerModulePath("score-worker.js"), [], {
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        execArgv: [],
      });
      const tail: string[] = [];
      for (const stream of [child.stdout, child.stderr]) {
        if (!stream) continue;
        createInterface({ input: stream }).on("line", (line) => {
          if (!line.trim()) return;
          tail.push(line);
          if (tail.length > 20) tail.shift();
          events.onOutput?.(line);
        });
      }
      const unregister = registerInterruptible({
        stop: (signal) => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        },
        kill: () => child.kill("SIGKILL"),
        stopped: new Promise((settle) => child.once("exit", settle)),
      });
      let answer: ScoreWorkerMessage | undefined;
      child.on("message", (message: ScoreWorkerMessage) => {
        answer = message;
      });
      child.on("error", () => {});
      child.on("spawn", () => child.send({ type: "score", sweep }, (error) => void error));
      child.on("exit", (code, signal) => {
        unregister();
        if (interruptRequested() !== null) return; // the interrupt handler ends the command
        if (answer?.type === "result" && code === 0) resolvePromise(answer.scores);
        else if (answer?.type === "error") reject(new CurriculaError(answer.message));
        else
          reject(
            new CurriculaError(
              `the scoring process exited (${signal ?? `code ${code}`}): ${tail.slice(-3).join(" | ")}`,
            ),
          );
      });
    });
  }
}

export interface LocalExecutorOptions {
  /** Runs at once (default 1: in this process; more: worker processes). */
  jobs?: number;
  /** Where the trainer's log lines of a run in this process go (default stderr; null: only the file). */
  log?: ((line: string) => void) | null;
  /** Show progress (default true). */
  progress?: boolean;
}

/**
 * The default executor: runs in this process when one job is to run at a time (or one run is
 * left), else in worker processes; scores in this process.
 */
export class LocalExecutor implements Executor {
  constructor(private readonly options: LocalExecutorOptions = {}) {}

  run(specs: readonly RunSpec[], events: ExecutorEvents = {}): Promise<RunOutcome[]> {
    const jobs = Math.max(1, Math.min(this.options.jobs ?? 1, specs.length));
    const progress = this.options.progress ?? true;
    const executor =
      jobs === 1
        ? new InProcessExecutor({
            log: this.options.log === undefined ? writeLine : this.options.log,
            progress,
          })
        : new LocalProcessExecutor({ jobs, progress });
    return executor.run(specs, events);
  }

  score(sweep: ScoreSweep): Promise<ScoredId[]> {
    return scoreHere(sweep);
  }
}

/**
 * The compiled worker module forked by the local executor. From `dist/` it is the sibling file;
 * from the TypeScript sources (tests) it is the built copy in `dist/`, which `npm test` builds first.
 */
export function workerModulePath(file = "worker.js"): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = here.replace(/local\.(ts|js)$/, file);
  if (here.endsWith(".js") && existsSync(sibling)) return sibling;
  return join(PACKAGE_ROOT, "dist", "experiments", "executors", file);
}
