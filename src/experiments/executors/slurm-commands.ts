import { spawnSync } from "node:child_process";
import { CurriculaError } from "../../util/errors.js";

/**
 * The SLURM client commands curricula uses (sbatch, squeue, sacct, sinfo, scontrol), run as child
 * processes, with their output parsed defensively: lines that do not parse are ignored, a missing
 * command is a clear error.
 */

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a SLURM command; a command that is not installed is a CurriculaError naming it. */
export function slurmCommand(command: string, args: readonly string[], timeoutMs = 30_000): CommandResult {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: timeoutMs });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new CurriculaError(
        `--executor slurm: the SLURM command '${command}' was not found on PATH; run on a machine ` +
          "with the SLURM client commands (sbatch, squeue, sinfo, scontrol), e.g. a cluster's login node",
      );
    }
    throw new CurriculaError(`${command} ${args.join(" ")}: ${result.error.message}`);
  }
  return { code: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/** Runs a command and returns its stdout; a non-zero exit is an error quoting its stderr. */
function checked(command: string, args: readonly string[], what: string): string {
  const r = slurmCommand(command, args);
  if (r.code !== 0) {
    const message = (r.stderr || r.stdout).trim().replace(/\n+/g, "; ");
    throw new CurriculaError(`${what}: ${command} failed (exit ${r.code}): ${message}`);
  }
  return r.stdout;
}

/** Checks that the client commands exist and the controller answers; returns the partitions. */
export function slurmPartitions(): { name: string; isDefault: boolean; state: string }[] {
  for (const command of ["sbatch", "squeue", "scontrol"]) {
    const probe = slurmCommand(command, ["--version"]);
    if (probe.code !== 0) throw new CurriculaError(`${command} --version failed: ${probe.stderr.trim()}`);
  }
  const out = checked("sinfo", ["-h", "-o", "%P|%a"], "listing the SLURM partitions");
  return parsePartitions(out);
}

/** Parses `sinfo -h -o '%P|%a'` (a trailing `*` marks the default partition). */
export function parsePartitions(text: string): { name: string; isDefault: boolean; state: string }[] {
  const out = new Map<string, { name: string; isDefault: boolean; state: string }>();
  for (const line of text.split("\n")) {
    const [rawName, state] = line.trim().split("|");
    if (!rawName) continue;
    const isDefault = rawName.endsWith("*");
    const name = isDefault ? rawName.slice(0, -1) : rawName;
    if (!/^[\w.-]+$/.test(name)) continue;
    out.set(name, { name, isDefault, state: state ?? "" });
  }
  return [...out.values()];
}

/** Fails unless every named partition exists (checked before anything is written). */
export function checkPartitions(wanted: readonly (string | undefined)[], source: string): void {
  const partitions = slurmPartitions();
  for (const name of new Set(wanted)) {
    if (name === undefined) {
      if (!partitions.some((p) => p.isDefault)) {
        throw new CurriculaError(
          `${source}: slurm.partition is not set and the cluster has no default partition; ` +
            `set one of: ${partitions.map((p) => p.name).join(", ") || "(none)"}`,
        );
      }
      continue;
    }
    if (!partitions.some((p) => p.name === name)) {
      throw new CurriculaError(
        `${source}: slurm.partition: unknown partition '${name}'; the cluster has ` +
          `${partitions.map((p) => p.name).join(", ") || "no partitions"}`,
      );
    }
  }
}

export interface SubmitOptions {
  script: string;
  /** sbatch options given on the command line (array, dependency, output, ...). */
  args: readonly string[];
  cwd: string;
}

/** Submits a batch script; returns the job id. */
export function sbatch(options: SubmitOptions): string {
  const r = spawnSync("sbatch", ["--parsable", ...options.args, options.script], {
    encoding: "utf8",
    cwd: options.cwd,
    timeout: 60_000,
  });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === "ENOENT") slurmCommand("sbatch", ["--version"]);
    throw new CurriculaError(`sbatch: ${r.error.message}`);
  }
  if (r.status !== 0) {
    const message = (r.stderr || r.stdout).trim().replace(/\n+/g, "; ");
    throw new CurriculaError(`sbatch refused the job ${options.script}: ${message}`);
  }
  const id = /^(\d+)/.exec(r.stdout.trim())?.[1];
  if (!id) throw new CurriculaError(`sbatch printed no job id (got '${r.stdout.trim()}')`);
  return id;
}

/** A job's (or array task's) state as SLURM reports it, e.g. PENDING, RUNNING, COMPLETED. */
export interface JobState {
  /** `<job>` or `<array job>_<task>`. */
  id: string;
  job: string;
  task: number | null;
  state: string;
  reason: string;
}

/** States of jobs that have not ended. */
export const ACTIVE_STATES = new Set([
  "PENDING",
  "RUNNING",
  "CONFIGURING",
  "COMPLETING",
  "REQUEUED",
  "REQUEUE_FED",
  "REQUEUE_HOLD",
  "RESIZING",
  "SUSPENDED",
  "SIGNALING",
  "STAGE_OUT",
  "STOPPED",
  "RESV_DEL_HOLD",
]);

/**
 * Parses `squeue -h -r -t all -o '%i|%T|%r'` or `sacct -n -P -X -o JobID,State`: one line per job or
 * array task (`12`, `12_3`, `12_[4-9%2]` for pending tasks not yet split off). Unparseable lines are
 * skipped; `CANCELLED by 0` becomes CANCELLED.
 */
export function parseJobStates(text: string): JobState[] {
  const out: JobState[] = [];
  for (const line of text.split("\n")) {
    const [id, rawState, reason] = line.trim().split("|");
    if (!id || !rawState) continue;
    const state = rawState.trim().split(/\s+/)[0]?.toUpperCase() ?? "";
    if (!/^[A-Z_]+$/.test(state)) continue;
    const single = /^(\d+)(?:_(\d+))?(?:\.\w+)?$/.exec(id.trim());
    if (single) {
      if (/\.\w+$/.test(id.trim())) continue; // job steps (sacct without -X)
      out.push({
        id: id.trim(),
        job: single[1] as string,
        task: single[2] === undefined ? null : Number(single[2]),
        state,
        reason: reason?.trim() ?? "",
      });
      continue;
    }
    const range = /^(\d+)_\[([\d,\-%]+)\]$/.exec(id.trim());
    if (!range) continue;
    const job = range[1] as string;
    const body = (range[2] as string).split("%")[0] as string;
    for (const part of body.split(",")) {
      const [a, b] = part.split("-").map(Number);
      if (a === undefined || !Number.isInteger(a)) continue;
      const end = b === undefined || !Number.isInteger(b) ? a : b;
      for (let t = a; t <= end && t - a < 100_000; t++) {
        out.push({ id: `${job}_${t}`, job, task: t, state, reason: reason?.trim() ?? "" });
      }
    }
  }
  return out;
}

/**
 * States of the given jobs (and all their array tasks). squeue knows pending, running and recently
 * ended jobs; for jobs it no longer lists, sacct is asked when accounting is available. Jobs
 * neither knows are absent from the result (ended long ago). Throws when squeue fails.
 */
export function queryJobs(jobIds: readonly string[]): Map<string, JobState> {
  const states = new Map<string, JobState>();
  if (jobIds.length === 0) return states;
  const r = slurmCommand("squeue", ["-h", "-r", "-t", "all", "-j", jobIds.join(","), "-o", "%i|%T|%r"]);
  // squeue exits non-zero for job ids it no longer knows; its stdout still lists the known ones.
  if (r.code !== 0 && !/Invalid job id/i.test(r.stderr)) {
    throw new CurriculaError(`squeue failed (exit ${r.code}): ${r.stderr.trim()}`);
  }
  for (const s of parseJobStates(r.stdout)) states.set(s.id, s);
  const known = new Set([...states.values()].map((s) => s.job));
  const missing = jobIds.filter((j) => !known.has(j));
  if (missing.length > 0) {
    const acct = slurmCommand("sacct", ["-n", "-P", "-X", "-j", missing.join(","), "-o", "JobID,State"]);
    if (acct.code === 0)
      for (const s of parseJobStates(acct.stdout)) if (!states.has(s.id)) states.set(s.id, s);
  }
  return states;
}

/** Cancels jobs (ignores jobs that ended already). */
export function scancel(jobIds: readonly string[]): void {
  if (jobIds.length > 0) slurmCommand("scancel", [...jobIds]);
}
