import { setProgressEnabled } from "../../util/progress.js";
import { describeError, releaseHeldLocks } from "../run-spec.js";
import { type ScoredId, type ScoreSweep, scoreHere } from "./local.js";

/**
 * The scoring process of the local executor (forked with an IPC channel): it receives one scoring
 * sweep, runs the library's `score()` on it and answers with the scores computed (or the error).
 * Its log goes to stderr, which the parent reads line by line.
 *
 * It stops on SIGINT, SIGTERM or SIGHUP (the parent forwards its own) and when the parent
 * disappears (IPC disconnect): score files are written atomically, so it releases its locks and
 * exits; the next `score` recomputes what is unfinished.
 */
export type ScoreParentMessage = { type: "score"; sweep: ScoreSweep };
export type ScoreWorkerMessage = { type: "result"; scores: ScoredId[] } | { type: "error"; message: string };

if (!process.send) {
  process.stderr.write("curricula score worker: must be started by the executor (child_process.fork)\n");
  process.exit(2);
}

const SIGNAL_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    releaseHeldLocks();
    process.exit(SIGNAL_CODES[signal]);
  });
}
let answered = false;
process.on("disconnect", () => {
  releaseHeldLocks();
  process.exit(answered ? 0 : 1);
});

const answer = (message: ScoreWorkerMessage) =>
  new Promise<void>((resolvePromise) => {
    answered = true;
    if (!process.connected) return resolvePromise();
    process.send?.(message, undefined, {}, () => resolvePromise());
  });

process.once("message", (message: ScoreParentMessage) => {
  if (message.type !== "score") return;
  // As `curricula --no-progress curriculum`: the output is read line by line, not drawn.
  setProgressEnabled(false);
  void (async () => {
    let code = 0;
    try {
      await answer({ type: "result", scores: await scoreHere(message.sweep) });
    } catch (error) {
      code = 1;
      await answer({ type: "error", message: describeError(error) });
    }
    // Engine thread pools must not keep a finished worker alive.
    process.stderr.write("", () => process.exit(code));
  })();
});
