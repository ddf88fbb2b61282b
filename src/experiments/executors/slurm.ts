import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { PACKAGE_ROOT } from "../../config/package.js";
import { isRunFinished } from "../../results/run-folder.js";
import { writeFileAtomicSync } from "../../util/atomic.js";
import { CurriculaError } from "../../util/errors.js";
import { writeLine } from "../../util/progress.js";
import type { RunOutcome, RunSpec } from "../run-spec.js";
import type { Executor, ExecutorEvents, ScoreSweep } from "./local.js";
import { ACTIVE_STATES, checkPartitions, type JobState, queryJobs, sbatch } from "./slurm-commands.js";
import { arraySpec, batchScript, parseSlurmSettings, type SlurmSettings } from "./slurm-script.js";

/**
 * The SLURM executor: one `sbatch` job array per batch of runs. Each batch gets a folder
 * `<experiment>/jobs/slurm/<batch>/` with its inputs (`batch.json`: the run specs or commands and
 * which task runs which), the batch script `job.sh`, the job id (`submitted.json`), one log per task
 * (`logs/task-<n>.out`), the task states (`tasks/<n>.json`) and one outcome per finished run
 * (`outcomes/<n>.json`). Those files are what `curricula status` and `--wait` read, besides squeue.
 */

export type BatchKind = "runs" | "commands";

/** A curricula command line run by one array task (the study's stages, scoring sweeps). */
export interface ClusterCommand {
  /** Short label (e.g. the study stage). */
  name: string;
  /** Arguments after `curricula`. */
  args: string[];
}

export interface BatchFile {
  version: 1;
  kind: BatchKind;
  created: string;
  /** Folder relative paths start from. */
  cwd: string;
  label: string;
  specs: RunSpec[];
  commands: ClusterCommand[];
  /** Spec (or command) indices per array task. */
  tasks: number[][];
}

export interface SubmittedFile {
  jobId: string;
  submitted: string;
  dependencies: string[];
  tasks: number;
}

export interface TaskFile {
  /** `cancelled`: stopped by scancel (or a preemption); `failed` includes the time limit. */
  state: "running" | "done" | "failed" | "requeued" | "cancelled";
  host: string;
  pid: number;
  started: string;
  ended?: string;
  message?: string;
}

/** `<experiment>/jobs/slurm`. */
export function slurmJobsDir(experimentDir: string): string {
  return join(experimentDir, "jobs", "slurm");
}

/** The experiment folder of a run folder (`<experiment>/training/<run>`). */
export function experimentOfRun(runDir: string): string {
  return dirname(dirname(runDir));
}

/** The compiled task runner each array task starts. */
export function slurmTaskModule(): string {
  return join(PACKAGE_ROOT, "dist", "experiments", "executors", "slurm-task.js");
}

export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

export function writeJson(path: string, value: unknown): void {
  writeFileAtomicSync(path, `${JSON.stringify(value, null, 1)}\n`);
}

/** A batch folder as found on disk. */
export interface Batch {
  dir: string;
  batch: BatchFile;
  submitted: SubmittedFile | undefined;
}

/** Every submitted batch of an experiment, oldest first. */
export function listBatches(experimentDir: string): Batch[] {
  const root = slurmJobsDir(experimentDir);
  if (!existsSync(root)) return [];
  const out: Batch[] = [];
  for (const name of readdirSync(root).sort()) {
    if (name.startsWith(".")) continue;
    const dir = join(root, name);
    const batch = readJson<BatchFile>(join(dir, "batch.json"));
    if (!batch) continue;
    out.push({ dir, batch, submitted: readJson<SubmittedFile>(join(dir, "submitted.json")) });
  }
  return out;
}

export function taskId(jobId: string, task: number): string {
  return `${jobId}_${task}`;
}

export function taskLog(batchDir: string, task: number): string {
  return join(batchDir, "logs", `task-${task}.out`);
}

/**
 * Why SLURM stopped a task with SIGTERM, from its log: before it signals a job, slurmstepd writes
 * `*** JOB <id> ON <node> CANCELLED AT <time>[ DUE TO <reason>] ***` to the job's output. Without a
 * reason (scancel) or due to a preemption the task is cancelled; due to the time limit or a node
 * failure, or without that line (a plain kill), it failed.
 */
export function stopReason(log: string): { state: "cancelled" | "failed"; message: string } {
  const line = [
    ...log.matchAll(/\*\*\* (?:JOB|STEP) \S+ ON \S+ CANCELLED AT \S+(?: DUE TO ([^*]+?))? \*\*\*/g),
  ].at(-1);
  if (!line) return { state: "failed", message: "stopped by SIGTERM" };
  const due = line[1]?.trim();
  if (!due) return { state: "cancelled", message: "cancelled (scancel)" };
  return {
    state: /PREEMPT/i.test(due) ? "cancelled" : "failed",
    message: `stopped by SLURM due to ${due.toLowerCase()}`,
  };
}

export function outcomePath(batchDir: string, index: number): string {
  return join(batchDir, "outcomes", `${index}.json`);
}

export interface SubmitBatchOptions {
  experimentDir: string;
  kind: BatchKind;
  label: string;
  cwd: string;
  settings: SlurmSettings;
  specs?: RunSpec[];
  commands?: ClusterCommand[];
  /** Items per task (runs_per_task for runs; one command per task). */
  perTask: number;
  /** afterok dependencies (job ids). */
  dependencies?: readonly string[];
  /** Cap on running tasks (`%K`); overrides settings.max_parallel. */
  maxParallel?: number;
}

/**
 * Writes a batch folder and submits it as one job array. The folder is complete before sbatch
 * runs (written under a temporary name, then renamed) and removed again when sbatch refuses it.
 */
export function submitBatch(options: SubmitBatchOptions): Batch {
  const specs = options.specs ?? [];
  const commands = options.commands ?? [];
  const count = options.kind === "runs" ? specs.length : commands.length;
  if (count === 0) throw new RangeError("submitBatch: nothing to submit");
  const tasks: number[][] = [];
  for (let i = 0; i < count; i += options.perTask) {
    tasks.push(Array.from({ length: Math.min(options.perTask, count - i) }, (_, k) => i + k));
  }
  const root = slurmJobsDir(options.experimentDir);
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
  const name = `${stamp}-${options.label.replace(/[^\w.-]+/g, "_")}-${randomBytes(3).toString("hex")}`;
  const dir = join(root, name);
  const tmp = join(root, `.${name}.tmp`);
  const batch: BatchFile = {
    version: 1,
    kind: options.kind,
    created: new Date().toISOString(),
    cwd: options.cwd,
    label: options.label,
    specs,
    commands,
    tasks,
  };
  const experiment = basename(options.experimentDir);
  const script = batchScript({
    settings: options.settings,
    jobName: `${options.settings.job_name}-${experiment}-${options.label}`.slice(0, 120),
    tasks: tasks.length,
    cwd: options.cwd,
    command: [process.execPath, slurmTaskModule(), dir],
    requeue: options.kind === "runs",
  });
  mkdirSync(join(tmp, "logs"), { recursive: true });
  mkdirSync(join(tmp, "outcomes"), { recursive: true });
  mkdirSync(join(tmp, "tasks"), { recursive: true });
  writeJson(join(tmp, "batch.json"), batch);
  writeFileAtomicSync(join(tmp, "job.sh"), script);
  renameSync(tmp, dir);
  const dependencies = [...new Set(options.dependencies ?? [])];
  const args = [
    `--array=${arraySpec(tasks.length, options.maxParallel ?? options.settings.max_parallel)}`,
    `--output=${join(dir, "logs", "task-%a.out")}`,
    ...(dependencies.length > 0
      ? [`--dependency=afterok:${dependencies.join(":")}`, "--kill-on-invalid-dep=yes"]
      : []),
  ];
  let jobId: string;
  try {
    jobId = sbatch({ script: join(dir, "job.sh"), args, cwd: options.cwd });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const submitted: SubmittedFile = {
    jobId,
    submitted: new Date().toISOString(),
    dependencies,
    tasks: tasks.length,
  };
  writeJson(join(dir, "submitted.json"), submitted);
  return { dir, batch, submitted };
}

/** Where each run of still-active batches is queued: run folder → array task id. */
export function activeRunJobs(experimentDirs: readonly string[]): Map<string, string> {
  const batches = experimentDirs
    .flatMap((d) => listBatches(d))
    .filter((b) => b.submitted && b.batch.kind === "runs");
  const out = new Map<string, string>();
  if (batches.length === 0) return out;
  const states = queryJobs([...new Set(batches.map((b) => (b.submitted as SubmittedFile).jobId))]);
  for (const b of batches) {
    const jobId = (b.submitted as SubmittedFile).jobId;
    b.batch.tasks.forEach((items, t) => {
      const state = states.get(taskId(jobId, t));
      if (!state || !ACTIVE_STATES.has(state.state)) return;
      for (const i of items) {
        const spec = b.batch.specs[i];
        if (spec && !isRunFinished(spec.runDir)) out.set(resolve(spec.runDir), taskId(jobId, t));
      }
    });
  }
  return out;
}

export interface SlurmExecutorOptions {
  /** `slurm:` settings for specs that carry none (validated). */
  settings?: Record<string, unknown>;
  /** Where the settings came from (error messages). */
  source?: string;
  /** Wait for the jobs and report real outcomes; otherwise return once submitted. */
  wait?: boolean;
  /** Cap on running tasks per array (`--jobs`); default slurm.max_parallel. */
  maxParallel?: number;
  /** afterok dependencies of every array. */
  dependencies?: readonly string[];
  /** Poll interval while waiting (ms). */
  pollMs?: number;
  /** Batch label (folder name part). */
  label?: string;
  log?: ((line: string) => void) | null;
}

/**
 * Runs specs as SLURM job arrays, one array per distinct `slurm:` settings. Runs already queued or
 * running in an earlier, still-active array are not submitted again (their outcome is `submitted`
 * with that job). `jobIds` lists every job the specs depend on after `run` (new and reused), for
 * chaining further jobs with afterok.
 */
export class SlurmExecutor implements Executor {
  readonly jobIds: string[] = [];
  readonly batches: Batch[] = [];

  constructor(private readonly options: SlurmExecutorOptions = {}) {}

  private settingsOf(spec: RunSpec): SlurmSettings {
    const raw = { ...(this.options.settings ?? {}), ...(spec.slurm ?? {}) };
    return parseSlurmSettings(raw, this.options.source ?? `${spec.name}: config`);
  }

  /**
   * Submits the scoring sweep: a job array with one task per scoring config, then the correlation
   * job after it; with `wait`, waits for them. The scores are computed later (null).
   */
  async score(sweep: ScoreSweep): Promise<null> {
    const { submitScoresSlurm } = await import("./score-jobs.js");
    await submitScoresSlurm(sweep, this.options);
    return null;
  }

  async run(specs: readonly RunSpec[], events: ExecutorEvents = {}): Promise<RunOutcome[]> {
    if (specs.length === 0) return [];
    const log = this.options.log === undefined ? writeLine : this.options.log;
    // Everything is validated before anything is written.
    const settings = specs.map((s) => this.settingsOf(s));
    checkPartitions(
      settings.map((s) => s.partition),
      this.options.source ?? "slurm settings",
    );
    const experiments = [...new Set(specs.map((s) => experimentOfRun(s.runDir)))];
    const active = activeRunJobs(experiments);
    const outcomes: (RunOutcome | undefined)[] = new Array(specs.length).fill(undefined);
    const groups = new Map<string, { settings: SlurmSettings; indices: number[]; experiment: string }>();
    specs.forEach((spec, i) => {
      const queued = active.get(resolve(spec.runDir));
      if (queued) {
        outcomes[i] = { name: spec.name, runDir: spec.runDir, status: "submitted", seconds: 0, job: queued };
        this.jobIds.push(queued.split("_")[0] as string);
        log?.(`queued ${spec.name} (already in job ${queued})`);
        return;
      }
      const experiment = experimentOfRun(spec.runDir);
      const key = JSON.stringify([experiment, settings[i]]);
      const group = groups.get(key) ?? { settings: settings[i] as SlurmSettings, indices: [], experiment };
      group.indices.push(i);
      groups.set(key, group);
    });
    const submitted: { batch: Batch; indices: number[] }[] = [];
    for (const group of groups.values()) {
      const batch = submitBatch({
        experimentDir: group.experiment,
        kind: "runs",
        label: this.options.label ?? "train",
        cwd: specs[group.indices[0] as number]?.cwd ?? process.cwd(),
        settings: group.settings,
        specs: group.indices.map((i) => specs[i] as RunSpec),
        perTask: group.settings.runs_per_task,
        dependencies: this.options.dependencies,
        maxParallel: this.options.maxParallel,
      });
      const jobId = (batch.submitted as SubmittedFile).jobId;
      this.jobIds.push(jobId);
      this.batches.push(batch);
      submitted.push({ batch, indices: group.indices });
      log?.(
        `submitted job array ${jobId} (${batch.batch.tasks.length} task(s), ${group.indices.length} run(s)); ` +
          `logs: ${join(batch.dir, "logs")}`,
      );
      batch.batch.tasks.forEach((items, t) => {
        for (const item of items) {
          const i = group.indices[item] as number;
          const spec = specs[i] as RunSpec;
          outcomes[i] = {
            name: spec.name,
            runDir: spec.runDir,
            status: "submitted",
            seconds: 0,
            job: taskId(jobId, t),
          };
        }
      });
    }
    if (!this.options.wait) {
      outcomes.forEach((o, i) => {
        events.onEnd?.(o as RunOutcome, i, specs.length);
      });
      return outcomes as RunOutcome[];
    }
    await this.waitForRuns(specs, outcomes as RunOutcome[], events);
    return outcomes as RunOutcome[];
  }

  /** Polls squeue and the outcome files until every run ended; fills in the outcomes. */
  private async waitForRuns(
    specs: readonly RunSpec[],
    outcomes: RunOutcome[],
    events: ExecutorEvents,
  ): Promise<void> {
    const pollMs = this.options.pollMs ?? 2000;
    const pending = new Set(outcomes.map((_, i) => i));
    const started = new Set<number>();
    const where = new Map<number, { dir: string; item: number; task: number; jobId: string }>();
    for (const { dir, batch, submitted } of this.batches) {
      batch.tasks.forEach((items, task) => {
        for (const item of items) {
          const spec = batch.specs[item] as RunSpec;
          const i = specs.findIndex((s) => s.runDir === spec.runDir);
          if (i >= 0) where.set(i, { dir, item, task, jobId: (submitted as SubmittedFile).jobId });
        }
      });
    }
    const unseen = new Map<string, number>();
    while (pending.size > 0) {
      const jobIds = [...new Set(outcomes.filter((_, i) => pending.has(i)).map((o) => jobOf(o.job)))];
      let states: Map<string, JobState>;
      try {
        states = queryJobs(jobIds);
      } catch (error) {
        this.options.log?.(`squeue: ${(error as Error).message} (retrying)`);
        await sleep(pollMs);
        continue;
      }
      for (const i of [...pending]) {
        const outcome = outcomes[i] as RunOutcome;
        const spec = specs[i] as RunSpec;
        const at = where.get(i);
        const saved = at ? readJson<RunOutcome>(outcomePath(at.dir, at.item)) : undefined;
        if (saved && !saved.interrupted) {
          outcomes[i] = saved;
          pending.delete(i);
          events.onEnd?.(saved, i, specs.length);
          continue;
        }
        const id = outcome.job as string;
        const state = states.get(id);
        if (state?.state === "RUNNING" && !started.has(i)) {
          started.add(i);
          events.onStart?.(spec, i, specs.length);
        }
        if (state && ACTIVE_STATES.has(state.state)) continue;
        // Ended (or unknown to SLURM) without an outcome: give the file system a moment first.
        const misses = (unseen.get(id) ?? 0) + 1;
        unseen.set(id, misses);
        if (misses < 3 && !(at === undefined && isRunFinished(spec.runDir))) continue;
        const finished = isRunFinished(spec.runDir);
        const log = at ? taskLog(at.dir, at.task) : "(no log: queued by an earlier submission)";
        outcomes[i] = finished
          ? { name: spec.name, runDir: spec.runDir, status: "trained", seconds: 0, job: id }
          : {
              name: spec.name,
              runDir: spec.runDir,
              status: "failed",
              seconds: 0,
              job: id,
              error: `SLURM task ${id} ended ${state ? state.state : "(no longer known to SLURM)"} without finishing the run; log: ${log}`,
            };
        pending.delete(i);
        events.onEnd?.(outcomes[i] as RunOutcome, i, specs.length);
      }
      if (pending.size > 0) await sleep(pollMs);
    }
  }
}

function jobOf(id: string | undefined): string {
  return String(id ?? "").split("_")[0] as string;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits until none of the jobs is pending or running; returns the jobs (or array tasks) that did
 * not end COMPLETED, with their states.
 */
export async function waitForJobs(
  jobIds: readonly string[],
  options: { pollMs?: number; onPoll?: (states: Map<string, JobState>) => void } = {},
): Promise<JobState[]> {
  const ids = [...new Set(jobIds)];
  if (ids.length === 0) return [];
  for (;;) {
    let states: Map<string, JobState>;
    try {
      states = queryJobs(ids);
    } catch {
      await sleep(options.pollMs ?? 2000);
      continue;
    }
    options.onPoll?.(states);
    const active = [...states.values()].some((s) => ACTIVE_STATES.has(s.state));
    if (!active) {
      return [...states.values()].filter((s) => s.state !== "COMPLETED");
    }
    await sleep(options.pollMs ?? 2000);
  }
}

/** Submits curricula command lines as one job array (one command per task). */
export function submitCommands(options: {
  experimentDir: string;
  label: string;
  cwd: string;
  settings: SlurmSettings;
  commands: ClusterCommand[];
  dependencies?: readonly string[];
}): Batch {
  return submitBatch({ ...options, kind: "commands", perTask: 1 });
}

/** The batch folders' job ids that are still pending or running, by batch label. */
export function activeBatches(experimentDir: string): { batch: Batch; states: JobState[] }[] {
  const batches = listBatches(experimentDir).filter((b) => b.submitted);
  if (batches.length === 0) return [];
  const states = queryJobs([...new Set(batches.map((b) => (b.submitted as SubmittedFile).jobId))]);
  const out: { batch: Batch; states: JobState[] }[] = [];
  for (const batch of batches) {
    const jobId = (batch.submitted as SubmittedFile).jobId;
    const own = [...states.values()].filter((s) => s.job === jobId);
    if (own.some((s) => ACTIVE_STATES.has(s.state))) out.push({ batch, states: own });
  }
  return out;
}

/** Reads a batch's task state files. */
export function readTaskFile(batchDir: string, task: number): TaskFile | undefined {
  return readJson<TaskFile>(join(batchDir, "tasks", `${task}.json`));
}

/** A CurriculaError for a failed wait, naming the jobs and their logs. */
export function jobFailures(failed: readonly JobState[], batches: readonly Batch[]): CurriculaError {
  const lines = failed.map((s) => {
    const batch = batches.find((b) => b.submitted?.jobId === s.job);
    const log = batch && s.task !== null ? ` (log: ${taskLog(batch.dir, s.task)})` : "";
    return `${s.id} ${s.state}${s.reason && s.reason !== "None" ? ` (${s.reason})` : ""}${log}`;
  });
  return new CurriculaError(`${failed.length} SLURM job(s) did not complete:\n  ${lines.join("\n  ")}`);
}
