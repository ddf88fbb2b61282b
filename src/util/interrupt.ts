import { clearLiveLines } from "./progress.js";

/**
 * Ctrl-C, SIGTERM or SIGHUP of a command that has work going on (worker processes, a run training
 * in this process): the signal is passed on to every piece of work, which stops at a safe point (a
 * training run after its next checkpoint); the command waits until all of it stopped, says so, and
 * then ends with the signal (exit 130 for Ctrl-C). A second signal stops the work at once.
 *
 * While nothing is registered, a signal keeps its default effect.
 */

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** A piece of work a signal has to stop: a child process, or a run in this process. */
export interface Interruptible {
  /** Asks it to stop at its next safe point (forwards the signal to a child process). */
  stop(signal: NodeJS.Signals): void;
  /** Stops it at once (second signal). */
  kill(): void;
  /** Settles once it stopped. */
  readonly stopped: Promise<unknown>;
}

const work = new Set<Interruptible>();
let requested: NodeJS.Signals | null = null;
let forced = false;

/** The signal asking this process to stop, once one came (polled by work that stops itself). */
export function interruptRequested(): NodeJS.Signals | null {
  return requested;
}

function onSignal(signal: NodeJS.Signals): void {
  if (requested !== null) {
    if (forced) return;
    forced = true;
    process.stderr.write(`\n${signal} again: stopping at once.\n`);
    for (const item of work) item.kill();
    return;
  }
  requested = signal;
  const pending = [...work];
  clearLiveLines();
  process.stderr.write(
    `\nInterrupted (${signal}): stopping ${pending.length === 1 ? "the running work" : `${pending.length} running jobs`} at a safe point (a run after its next checkpoint; ${signal} again stops at once)...\n`,
  );
  for (const item of pending) item.stop(signal);
  void Promise.allSettled(pending.map((item) => item.stopped)).then(() => {
    clearLiveLines();
    process.stderr.write(`Interrupted (${signal}): stopped. Run the same command again to resume.\n`);
    for (const s of SIGNALS) process.off(s, onSignal);
    process.kill(process.pid, signal);
  });
}

/**
 * Registers work that a signal must stop and wait for; returns the function that unregisters it
 * (when it ended by itself). The signal handlers are installed while something is registered.
 */
export function registerInterruptible(item: Interruptible): () => void {
  if (work.size === 0 && requested === null) for (const s of SIGNALS) process.on(s, onSignal);
  work.add(item);
  if (requested !== null) item.stop(requested);
  return () => {
    work.delete(item);
    // Stopping: the handlers stay until every stopped item settled and the signal is raised again.
    if (work.size === 0 && requested === null) for (const s of SIGNALS) process.off(s, onSignal);
  };
}

/**
 * What work returns once a signal stopped it: a promise that never settles, so that the command
 * does not go on (or print a summary) while the interrupt handler waits and then ends it.
 */
export function haltIfInterrupted<T>(value: T): Promise<T> {
  return requested === null ? Promise.resolve(value) : new Promise<T>(() => {});
}
