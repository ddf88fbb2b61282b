/**
 * The cores a process may use: the machine's cores (or SLURM's `SLURM_CPUS_PER_TASK`) divided among
 * the processes started together (`CURRICULA_PROCESSES`). Here, below every layer, because the
 * engine sizes its thread pools from it (src/engine/threads.ts) and the data layer its decoding
 * workers. A pure function: the inputs (cores, environment) are passed in.
 */

/** Set by a parent for the processes it runs at once (the local executor's `--jobs`, a worker's concurrency). */
export const PROCESSES_ENV = "CURRICULA_PROCESSES";

/** A positive integer from an environment variable, or null. */
export function positiveInt(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value.trim())) return null;
  const n = Number(value.trim());
  return n >= 1 ? n : null;
}

/** The cores this process may use, and why. */
export function coreShare(inputs: {
  /** Cores this process may run on (os.availableParallelism()). */
  cores: number;
  /** The environment (SLURM_CPUS_PER_TASK, CURRICULA_PROCESSES). */
  env: Readonly<Record<string, string | undefined>>;
}): { share: number; reason: string } {
  const cores = Math.max(1, Math.floor(inputs.cores));
  const slurm = positiveInt(inputs.env.SLURM_CPUS_PER_TASK);
  const base = slurm ?? cores;
  const baseWhy = slurm ? `SLURM_CPUS_PER_TASK=${slurm}` : `${cores} core${cores === 1 ? "" : "s"}`;
  const processes = positiveInt(inputs.env[PROCESSES_ENV]) ?? 1;
  const share = Math.max(1, Math.floor(base / processes));
  const reason = processes > 1 ? `${baseWhy} shared by ${processes} processes` : baseWhy;
  return { share, reason };
}
