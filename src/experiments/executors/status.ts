import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { experimentDir, trainingDir } from "../../config/layout.js";
import { listRuns } from "../../results/experiment.js";
import { isRunFinished } from "../../results/run-folder.js";
import { processAlive } from "../../util/atomic.js";
import { CurriculaError } from "../../util/errors.js";
import { lockPath } from "../run-spec.js";
import { listBatches, readTaskFile, type SubmittedFile, taskId, taskLog } from "./slurm.js";
import { ACTIVE_STATES, type JobState, queryJobs } from "./slurm-commands.js";

/**
 * What `curricula status` shows: every run of an experiment (its folder, or a SLURM batch that will
 * create it) and every study stage job, as queued, running, done or failed. States come from the
 * run folders (metrics.csv, locks), the SLURM job files and squeue/sacct; without SLURM commands
 * the files alone decide.
 */

export type ItemState = "queued" | "running" | "done" | "failed" | "cancelled" | "unfinished";

export interface StatusItem {
  kind: "run" | "stage";
  name: string;
  state: ItemState;
  job?: string;
  detail?: string;
}

export interface ExperimentStatus {
  items: StatusItem[];
  counts: Record<ItemState, number>;
  /** Why cluster states could not be read (e.g. no squeue here), if so. */
  warning?: string;
}

function lockHolder(runDir: string): string | undefined {
  const path = lockPath(runDir);
  if (!existsSync(path)) return undefined;
  try {
    const info = JSON.parse(readFileSync(path, "utf8")) as { pid: number; host: string };
    if (info.host === hostname() && !processAlive(info.pid)) return undefined;
    return `pid ${info.pid} on ${info.host}`;
  } catch {
    return undefined;
  }
}

function fromJob(state: JobState): ItemState {
  if (state.state === "PENDING" || state.state === "REQUEUED" || state.state.startsWith("REQUEUE"))
    return "queued";
  if (ACTIVE_STATES.has(state.state)) return "running";
  if (state.state === "CANCELLED" || state.state === "PREEMPTED") return "cancelled";
  return state.state === "COMPLETED" ? "done" : "failed";
}

export function experimentStatus(resultsDir: string, experimentId: string): ExperimentStatus {
  const exp = resolve(experimentDir(resultsDir, experimentId));
  if (!existsSync(exp)) throw new CurriculaError(`${exp}: no such experiment folder`);
  const batches = listBatches(exp).filter((b) => b.submitted);
  let states = new Map<string, JobState>();
  let warning: string | undefined;
  if (batches.length > 0) {
    try {
      states = queryJobs([...new Set(batches.map((b) => (b.submitted as SubmittedFile).jobId))]);
    } catch (error) {
      warning = `SLURM job states unavailable (${(error as Error).message}); states from job files only`;
    }
  }
  const runs = new Map<string, StatusItem>();
  const stages = new Map<string, StatusItem>();
  // Newest batch last, so its entry for a run wins.
  for (const b of batches) {
    const jobId = (b.submitted as SubmittedFile).jobId;
    b.batch.tasks.forEach((items, t) => {
      const id = taskId(jobId, t);
      const job = states.get(id);
      const file = readTaskFile(b.dir, t);
      let state: ItemState;
      if (job) state = fromJob(job);
      else if (file?.state === "done") state = "done";
      else if (file?.state === "failed") state = "failed";
      else if (file?.state === "cancelled") state = "cancelled";
      else state = warning ? "unfinished" : "failed";
      const detail =
        state === "queued" && job?.reason && job.reason !== "None"
          ? `waiting: ${job.reason}`
          : state === "failed" || state === "cancelled"
            ? `log: ${taskLog(b.dir, t)}`
            : undefined;
      if (b.batch.kind === "commands") {
        for (const i of items) {
          const name = b.batch.commands[i]?.name ?? b.batch.label;
          stages.set(name, { kind: "stage", name, state, job: id, ...(detail ? { detail } : {}) });
        }
        return;
      }
      for (const i of items) {
        const spec = b.batch.specs[i];
        if (!spec) continue;
        let runState = state;
        if (isRunFinished(spec.runDir)) runState = "done";
        else if (runState === "done") runState = "failed";
        runs.set(resolve(spec.runDir), {
          kind: "run",
          name: spec.name,
          state: runState,
          job: id,
          ...(runState !== "done" && detail ? { detail } : {}),
        });
      }
    });
  }
  const trainingRoot = trainingDir(resultsDir, experimentId);
  for (const name of listRuns(resultsDir, experimentId)) {
    const dir = resolve(trainingRoot, name);
    const known = runs.get(dir);
    const holder = lockHolder(dir);
    if (isRunFinished(dir)) {
      runs.set(dir, { ...(known ?? { kind: "run", name }), state: "done", detail: undefined });
    } else if (holder && known?.state !== "running") {
      runs.set(dir, {
        ...(known ?? { kind: "run", name }),
        state: "running",
        detail: `trained by ${holder}`,
      });
    } else if (!known) {
      runs.set(dir, { kind: "run", name, state: "unfinished", detail: "no job: train it again to resume" });
    }
  }
  const items = [...[...runs.values()].sort((a, b) => a.name.localeCompare(b.name)), ...stages.values()];
  const counts: Record<ItemState, number> = {
    queued: 0,
    running: 0,
    done: 0,
    failed: 0,
    cancelled: 0,
    unfinished: 0,
  };
  for (const item of items) counts[item.state]++;
  return { items, counts, ...(warning ? { warning } : {}) };
}

/** The status as printable lines. */
export function formatStatus(status: ExperimentStatus): string[] {
  const width = Math.max(4, ...status.items.map((i) => i.name.length));
  const lines = status.items.map((i) =>
    `${i.state.padEnd(10)} ${i.kind.padEnd(5)} ${i.name.padEnd(width)} ${i.job ?? ""}${i.detail ? `  ${i.detail}` : ""}`.trimEnd(),
  );
  const runs = status.items.filter((i) => i.kind === "run").length;
  const stages = status.items.length - runs;
  const c = status.counts;
  lines.push(
    `${runs} run(s)${stages ? `, ${stages} stage job(s)` : ""}: ${c.queued} queued, ${c.running} running, ` +
      `${c.done} done, ${c.failed} failed${c.cancelled ? `, ${c.cancelled} cancelled` : ""}` +
      `${c.unfinished ? `, ${c.unfinished} unfinished` : ""}`,
  );
  if (status.warning) lines.push(status.warning);
  return lines;
}
