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
 * time as the parent hands them out and reports each outcome. It exits when the parent says
 * so or disappears (IPC disconnect), so no worker outlives a killed sweep.
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
let stopping = false;
process.on("disconnect", () => {
  releaseHeldLocks();
  process.exit(stopping ? 0 : 1);
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    releaseHeldLocks();
    process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
  });
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
    // Progress goes to the parent, which prints a status line per run.
    const progress = message.progress !== false;
    setProgressEnabled(progress);
    setProgressSink(progress ? (bars) => send({ type: "progress", id: message.id, bars }) : null);
    void executeSpec(message.spec, { train, log: null, progress }).then((outcome) => {
      setProgressSink(null);
      send({ type: "result", id: message.id, outcome });
    });
  }
});

send({ type: "ready" });
