/**
 * How many threads a process computes with (`threads: auto`, the default): each process gets its
 * share of the cores, and the thread pools inside it are sized together so that their product never
 * exceeds that share. Pure functions: the inputs (cores, environment) are passed in.
 *
 * The share: the cores (or SLURM's `SLURM_CPUS_PER_TASK`) divided among the processes started
 * together (`CURRICULA_PROCESSES`, set by `--jobs N` for its worker processes and by a BullMQ worker
 * for its `--concurrency`). Other programs' load does not shrink it: libtorch's OpenMP threads wait
 * passively (OMP_WAIT_POLICY=PASSIVE, set as the addon loads), so a thread without a core costs
 * little, while a load-based cap gave up a free core (bench/threads.ts, docs/engine.md). Inside the
 * share: libtorch's intra-op threads,
 * one inter-op thread (curricula runs one op at a time), OpenBLAS's threads with intra × BLAS ≤ the
 * share, and the k-NN's worker threads × the threads one product uses ≤ the share.
 */
import { coreShare, PROCESSES_ENV, positiveInt } from "../util/cores.js";

export { coreShare, PROCESSES_ENV };

/** `threads` as configured: a count, or auto (null means auto). */
export type ThreadsSetting = number | "auto" | null;

export interface ThreadInputs {
  /** Cores this process may run on (os.availableParallelism()). */
  cores: number;
  /** The environment (SLURM_CPUS_PER_TASK, CURRICULA_PROCESSES). */
  env: Readonly<Record<string, string | undefined>>;
  /** threads as configured. */
  requested: ThreadsSetting;
}

export interface ThreadPlan {
  /** "auto", or the count asked for. */
  requested: "auto" | number;
  /** Cores this process may use. */
  share: number;
  /** libtorch's intra-op threads. */
  intraOp: number;
  /** libtorch's inter-op threads. */
  interOp: number;
  /** OpenBLAS's threads (intraOp × blas ≤ share). */
  blas: number;
  /** Why: where the share came from and what was chosen. */
  reason: string;
}

/** The thread pools of one process: see the module comment. */
export function planThreads(inputs: ThreadInputs): ThreadPlan {
  const { share, reason } = coreShare(inputs);
  if (typeof inputs.requested === "number") {
    const intraOp = inputs.requested;
    const blas = Math.max(1, Math.floor(share / intraOp));
    return {
      requested: intraOp,
      share,
      intraOp,
      interOp: 1,
      blas,
      reason: `threads=${intraOp} as configured (share ${share}: ${reason})`,
    };
  }
  return {
    requested: "auto",
    share,
    intraOp: share,
    interOp: 1,
    blas: 1,
    reason: `auto: ${share} thread${share === 1 ? "" : "s"} (${reason})`,
  };
}

/**
 * The environment for a child process that runs beside `processes - 1` others started together:
 * CURRICULA_PROCESSES multiplied into what this process already shares (nested executors).
 */
export function sharedProcessEnv(
  processes: number,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string | undefined> {
  if (processes <= 1) return { ...env };
  const inherited = positiveInt(env[PROCESSES_ENV]) ?? 1;
  return { ...env, [PROCESSES_ENV]: String(inherited * processes) };
}
