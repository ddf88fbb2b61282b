import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { PACKAGE_ROOT } from "../../config/package.js";
import { sharedProcessEnv } from "../../engine/threads.js";
import { clearLiveLines, type ProgressSnapshot } from "../../util/progress.js";
import { type ExecuteOptions, executeSpec, type RunOutcome, type RunSpec } from "../run-spec.js";
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

export interface Executor {
  /** Runs every spec; one failing run does not stop the others. Outcomes are in spec order. */
  run(specs: readonly RunSpec[], events?: ExecutorEvents): Promise<RunOutcome[]>;
}

/** Runs specs one after the other in this process (the trainer's log and progress bar show). */
export class InProcessExecutor implements Executor {
  constructor(private readonly options: ExecuteOptions = {}) {}

  async run(specs: readonly RunSpec[], events: ExecutorEvents = {}): Promise<RunOutcome[]> {
    const outcomes: RunOutcome[] = [];
    for (const [index, spec] of specs.entries()) {
      events.onStart?.(spec, index, specs.length);
      const outcome = await executeSpec(spec, this.options);
      outcomes.push(outcome);
      events.onEnd?.(outcome, index, specs.length);
    }
    return outcomes;
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
 * worker that dies mid-run fails that run only and is replaced. Ctrl-C / SIGTERM / exit of this
 * process kill the workers too; rerunning the same command then resumes (finished runs are
 * skipped, crashed ones continue from their last checkpoint).
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
      const killAll = () => {
        for (const slot of slots) {
          slot.stopped = true;
          if (slot.child.exitCode === null && slot.child.signalCode === null) slot.child.kill("SIGTERM");
        }
      };
      const onSignal = (signal: NodeJS.Signals) => {
        killAll();
        detach();
        clearLiveLines();
        process.stderr.write(
          `\nInterrupted (${signal}): workers stopped. Run the same command again to resume.\n`,
        );
        process.kill(process.pid, signal);
      };
      const onExit = () => killAll();
      const detach = () => {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        process.off("SIGHUP", onSignal);
        process.off("exit", onExit);
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      process.on("SIGHUP", onSignal);
      process.on("exit", onExit);

      const finish = (index: number, outcome: RunOutcome) => {
        if (outcomes[index] !== undefined) return;
        outcomes[index] = outcome;
        done++;
        events.onEnd?.(outcome, index, specs.length);
        if (done === specs.length) {
          for (const slot of slots) {
            slot.stopped = true;
            send(slot.child, { type: "stop" });
          }
          detach();
          resolvePromise(outcomes as RunOutcome[]);
        }
      };

      const dispatch = (slot: WorkerSlot) => {
        if (next >= specs.length) {
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
}

/** The default executor: in-process for one job, worker processes for more. */
export function createExecutor(jobs: number, options: ExecuteOptions = {}): Executor {
  return jobs <= 1
    ? new InProcessExecutor(options)
    : new LocalProcessExecutor({ jobs, progress: options.progress });
}

/**
 * The compiled worker module forked by the local executor. From `dist/` it is the sibling file;
 * from the TypeScript sources (tests) it is the built copy in `dist/`, which `npm test` builds first.
 */
export function workerModulePath(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = here.replace(/local\.(ts|js)$/, "worker.js");
  if (here.endsWith(".js") && existsSync(sibling)) return sibling;
  return join(PACKAGE_ROOT, "dist", "experiments", "executors", "worker.js");
}
