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

/** `threads` as configured: a count, or auto (null means auto). */
export type ThreadsSetting = number | "auto" | null;

/** Set by a parent for the processes it runs at once (the local executor's `--jobs`, a worker's concurrency). */
export const PROCESSES_ENV = "CURRICULA_PROCESSES";

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

function positiveInt(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value.trim())) return null;
  const n = Number(value.trim());
  return n >= 1 ? n : null;
}

/** The cores this process may use, and why. */
export function coreShare(inputs: Omit<ThreadInputs, "requested">): { share: number; reason: string } {
  const cores = Math.max(1, Math.floor(inputs.cores));
  const slurm = positiveInt(inputs.env.SLURM_CPUS_PER_TASK);
  const base = slurm ?? cores;
  const baseWhy = slurm ? `SLURM_CPUS_PER_TASK=${slurm}` : `${cores} core${cores === 1 ? "" : "s"}`;
  const processes = positiveInt(inputs.env[PROCESSES_ENV]) ?? 1;
  const share = Math.max(1, Math.floor(base / processes));
  const reason = processes > 1 ? `${baseWhy} shared by ${processes} processes` : baseWhy;
  return { share, reason };
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
