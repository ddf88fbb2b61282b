import { pathToFileURL } from "node:url";
import { type ProgressSnapshot, setProgressEnabled, setProgressSink } from "../../util/progress.js";
import {
  describeError,
  executeSpec,
  type RunSpec,
  releaseHeldLocks,
  type TrainFunction,
} from "../run-spec.js";

/**
 * A worker process of the local executor (forked with an IPC channel). It runs one spec at a
 * time as the parent hands them out and reports each outcome. It exits when the parent says so,
 * and stops (at a safe point) on a signal or when the parent disappears (IPC disconnect), so no
 * worker outlives a killed sweep.
 *
 * argv[2] (optional): a module whose `trainRun` export replaces the real trainer (tests).
 */
export type ParentMessage = { type: "run"; id: number; spec: RunSpec; progress?: boolean } | { type: "stop" };
export type WorkerMessage =
  | { type: "ready" }
  | { type: "progress"; id: number; bars: ProgressSnapshot[] }
  | { type: "result"; id: number; outcome: import("../run-spec.js").RunOutcome };

if (!process.send) {
  process.stderr.write("curricula worker: must be started by the executor (child_process.fork)\n");
  process.exit(2);
}

/**
 * Sends to the parent unless it is gone. With a callback a failed send is not an 'error' event: an
 * unhandled one would kill the worker before it releases its run's lock (a progress message sent
 * while the parent is being killed).
 */
const send = (message: WorkerMessage) => {
  if (process.connected) process.send?.(message, undefined, {}, (error) => void error);
};
/**
 * A stop request: SIGINT, SIGTERM or SIGHUP (the parent forwards its own) or the parent gone (IPC
 * disconnect, e.g. it was SIGKILLed). An idle worker exits at once; a running one stops its run at
 * the next safe point (after a checkpoint, as on SLURM's signal before the time limit), reports it
 * and exits, so that no temporary folder is left half-written.
 */
let stopRequested = false;
/** The parent said "stop" (every spec done): the disconnect that follows is no failure. */
let stopping = false;
let running = false;
let exitCode = 0;
const exitNow = () => {
  releaseHeldLocks();
  process.exit(exitCode);
};
const requestStop = (code: number) => {
  if (!stopRequested) exitCode = code;
  stopRequested = true;
  if (!running) exitNow();
};
process.on("disconnect", () => requestStop(stopping ? 0 : 1));
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => requestStop(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1)));
}
let train: TrainFunction | undefined;
const trainModule = process.argv[2];
if (trainModule) {
  try {
    const mod = (await import(pathToFileURL(trainModule).href)) as { trainRun?: TrainFunction };
    if (typeof mod.trainRun !== "function") throw new Error(`${trainModule} does not export trainRun`);
    train = mod.trainRun;
  } catch (error) {
    process.stderr.write(`curricula worker: ${describeError(error)}\n`);
    process.exit(1);
  }
}

process.on("message", (message: ParentMessage) => {
  if (message.type === "stop") {
    stopping = true;
    // The parent may have closed the channel already; disconnecting twice throws.
    if (process.connected) process.disconnect();
    else process.exit(0);
    return;
  }
  if (message.type === "run") {
    if (stopRequested) return exitNow();
    // Progress goes to the parent, which prints a status line per run.
    const progress = message.progress !== false;
    setProgressEnabled(progress);
    setProgressSink(progress ? (bars) => send({ type: "progress", id: message.id, bars }) : null);
    running = true;
    void executeSpec(message.spec, { train, log: null, progress, shouldStop: () => stopRequested }).then(
      (outcome) => {
        running = false;
        setProgressSink(null);
        if (!stopRequested) return send({ type: "result", id: message.id, outcome });
        // Stopped on request: report the run (if the parent still listens), then exit.
        if (!process.connected) return exitNow();
        process.send?.({ type: "result", id: message.id, outcome }, undefined, {}, () => exitNow());
      },
    );
  }
});

send({ type: "ready" });
