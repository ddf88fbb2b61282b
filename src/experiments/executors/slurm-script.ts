import { z } from "zod";
import { parseConfig } from "../../config/parse.js";

/**
 * The `slurm:` settings of a training config or a study file, and the batch script of one job
 * array built from them. Pure functions: no SLURM command runs here.
 */

/** SLURM time limits: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
const TIME = /^(\d+-)?\d+(:\d{1,2}){0,2}$/;

export const SlurmSettingsSchema = z
  .object({
    /** `--partition`; default the cluster's default partition. */
    partition: z.string().min(1).optional(),
    /** `--time`: minutes, or e.g. "02:00:00" or "1-00:00:00". */
    time: z
      .union([
        z.number().int().positive(),
        z.string().regex(TIME, "a SLURM time limit such as 30, 02:00:00 or 1-00:00:00"),
      ])
      .transform(String)
      .optional(),
    /** `--cpus-per-task`. */
    cpus: z.number().int().positive().default(1),
    /** `--mem`: megabytes, or e.g. "4G". */
    mem: z
      .union([
        z
          .number()
          .int()
          .positive()
          .transform((mb) => `${mb}M`),
        z.string().regex(/^\d+[KMGT]?$/, "a memory size such as 4000M or 4G"),
      ])
      .optional(),
    /** `--gpus` (a count, or type:count such as "a100:1"). */
    gpus: z.union([z.number().int().positive(), z.string().regex(/^[\w.-]+:\d+$|^\d+$/)]).optional(),
    /** More `#SBATCH` lines, with or without the `#SBATCH` prefix (e.g. "--account=abc"). */
    extra: z.array(z.string().min(1)).default([]),
    /** Shell lines run before curricula in every job (`module load ...`, `source venv/bin/activate`). */
    setup: z.array(z.string()).default([]),
    /** Runs one array task trains one after the other (packs many small runs into one task). */
    runs_per_task: z.number().int().positive().default(1),
    /** At most this many tasks of one array run at a time (`--array=0-N%K`); default no cap. */
    max_parallel: z.number().int().positive().optional(),
    /** Seconds before the time limit SLURM signals the task: the run checkpoints and requeues. */
    signal_seconds: z.number().int().positive().max(65535).default(300),
    /** Job name prefix. */
    job_name: z
      .string()
      .regex(/^[\w.-]+$/, "letters, digits, '.', '_' and '-'")
      .default("curricula"),
  })
  .strict();

export type SlurmSettings = z.infer<typeof SlurmSettingsSchema>;

/** Validates a `slurm:` section; errors name the file (if given) and the key. */
export function parseSlurmSettings(raw: unknown, file?: string): SlurmSettings {
  return parseConfig(SlurmSettingsSchema, raw ?? {}, { file, key: "slurm" });
}

/** Single-quotes a string for bash. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface BatchScriptOptions {
  settings: SlurmSettings;
  jobName: string;
  /** Number of array tasks (≥ 1). */
  tasks: number;
  /** The folder the job runs in. */
  cwd: string;
  /** The command of each task (argv; run with the task id in SLURM_ARRAY_TASK_ID). */
  command: string[];
  /** Requeue the task when the command exits with REQUEUE_EXIT_CODE (after a checkpoint). */
  requeue: boolean;
}

/** Exit code of a task runner that checkpointed on SLURM's signal and wants to be requeued. */
export const REQUEUE_EXIT_CODE = 75;

/** The `#SBATCH` lines of the settings (array, dependency and output go on sbatch's command line). */
export function sbatchLines(settings: SlurmSettings): string[] {
  const lines: string[] = [];
  if (settings.partition) lines.push(`--partition=${settings.partition}`);
  if (settings.time) lines.push(`--time=${settings.time}`);
  lines.push(`--cpus-per-task=${settings.cpus}`);
  if (settings.mem) lines.push(`--mem=${settings.mem}`);
  if (settings.gpus !== undefined) lines.push(`--gpus=${settings.gpus}`);
  for (const extra of settings.extra) lines.push(extra.replace(/^#SBATCH\s+/, "").trim());
  return lines.map((l) => `#SBATCH ${l}`);
}

/** `--array=0-N%K`. */
export function arraySpec(tasks: number, maxParallel: number | undefined): string {
  if (!Number.isInteger(tasks) || tasks < 1) throw new RangeError(`a job array needs ≥ 1 task, got ${tasks}`);
  return `0-${tasks - 1}${maxParallel ? `%${maxParallel}` : ""}`;
}

/**
 * The batch script. The command runs in the background so that the shell can pass SLURM's
 * signal (`--signal=B:USR1@<s>`, sent to the batch shell) on as SIGUSR2; a runner that then
 * checkpoints and exits with REQUEUE_EXIT_CODE gets its task requeued, and the requeued task
 * resumes from the checkpoint.
 */
export function batchScript(options: BatchScriptOptions): string {
  const { settings } = options;
  const header = [
    "#!/bin/bash",
    `#SBATCH --job-name=${options.jobName}`,
    "#SBATCH --open-mode=append",
    ...sbatchLines(settings),
  ];
  if (options.requeue) header.push(`#SBATCH --signal=B:USR1@${settings.signal_seconds}`, "#SBATCH --requeue");
  // biome-ignore lint/suspicious/noTemplateCurlyInString: bash parameter expansion
  const task = '"${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}${SLURM_ARRAY_TASK_ID:+_$SLURM_ARRAY_TASK_ID}"';
  const banner =
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash parameter expansion
    'echo "[$(date -Is)] task ${SLURM_ARRAY_TASK_ID:-0} of job ${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID} on $(hostname) (restart ${SLURM_RESTART_COUNT:-0})"';
  return `${[
    ...header,
    "",
    "# Written by curricula; the folder of this script holds the job's inputs, logs and task states.",
    "set -u",
    banner,
    ...settings.setup,
    `cd ${shellQuote(options.cwd)} || exit 1`,
    "interrupted=0",
    `trap 'interrupted=1; kill -USR2 "$child" 2>/dev/null' USR1`,
    `trap 'kill -TERM "$child" 2>/dev/null' TERM`,
    `${options.command.map(shellQuote).join(" ")} &`,
    "child=$!",
    'wait "$child"; rc=$?',
    "# A trapped signal interrupts wait; wait again for the command's own exit status.",
    'while [ "$rc" -gt 128 ] && [ "$interrupted" = 1 ]; do interrupted=0; wait "$child"; rc=$?; done',
    ...(options.requeue
      ? [
          `if [ "$rc" -eq ${REQUEUE_EXIT_CODE} ]; then`,
          '  echo "[$(date -Is)] checkpointed before the time limit; requeueing"',
          `  scontrol requeue ${task} && exit 0`,
          "  exit 1",
          "fi",
        ]
      : []),
    'exit "$rc"',
  ].join("\n")}\n`;
}
