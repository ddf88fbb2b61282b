import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../../config/package.js";
import { writeLine } from "../../util/progress.js";
import { describeError, executeSpec, type RunOutcome, type RunSpec, releaseHeldLocks } from "../run-spec.js";
import {
  type BatchFile,
  outcomePath,
  readJson,
  stopReason,
  type TaskFile,
  taskLog,
  writeJson,
} from "./slurm.js";
import { REQUEUE_EXIT_CODE } from "./slurm-script.js";

/**
 * What one SLURM array task runs: `node slurm-task.js <batch folder>` with the task number in
 * SLURM_ARRAY_TASK_ID. A run batch trains its runs one after the other (finished ones are skipped,
 * crashed ones resume); on SIGUSR2 (the batch script's translation of SLURM's signal before the
 * time limit) the current run checkpoints at its next evaluation and the runner exits with
 * REQUEUE_EXIT_CODE, so the script requeues the task. A command batch runs one curricula command.
 */

const batchDir = process.argv[2];
const task = Number(process.env.SLURM_ARRAY_TASK_ID ?? "0");
/** When this try of the task began (its task file's `started`). */
let started = new Date().toISOString();

function taskFile(state: TaskFile["state"], started: string, message?: string): void {
  const value: TaskFile = { state, host: hostname(), pid: process.pid, started };
  if (state !== "running") value.ended = new Date().toISOString();
  if (message) value.message = message;
  writeJson(join(batchDir as string, "tasks", `${task}.json`), value);
}

async function runBatch(): Promise<number> {
  if (!batchDir) {
    writeLine("usage: slurm-task.js <batch folder> (with SLURM_ARRAY_TASK_ID set)");
    return 2;
  }
  const batch = readJson<BatchFile>(join(batchDir, "batch.json"));
  const items = batch?.tasks[task];
  if (!batch || !items) {
    writeLine(`${batchDir}: no batch.json or no task ${task} in it`);
    return 1;
  }
  started = new Date().toISOString();
  taskFile("running", started);
  if (batch.kind === "commands") {
    const code = await runCommands(batch, items);
    taskFile(code === 0 ? "done" : "failed", started, code === 0 ? undefined : `exit ${code}`);
    return code;
  }
  let stop = false;
  process.on("SIGUSR2", () => {
    stop = true;
    writeLine("signal before the time limit: checkpointing at the next evaluation");
  });
  let failed = 0;
  for (const index of items) {
    const spec = batch.specs[index] as RunSpec;
    const previous = readJson<RunOutcome>(outcomePath(batchDir, index));
    if (previous && (previous.status === "trained" || previous.status === "skipped")) continue;
    if (stop) {
      taskFile("requeued", started);
      return REQUEUE_EXIT_CODE;
    }
    writeLine(`run ${spec.name}`);
    const outcome = await executeSpec(spec, {
      log: (line) => writeLine(`  ${line}`),
      progress: false,
      shouldStop: () => stop,
    });
    if (outcome.interrupted) {
      taskFile("requeued", started);
      writeLine(`  ${outcome.error}`);
      return REQUEUE_EXIT_CODE;
    }
    writeJson(outcomePath(batchDir, index), outcome);
    if (outcome.status === "failed" || outcome.status === "busy") {
      failed++;
      writeLine(`  ${outcome.status.toUpperCase()}: ${outcome.error}`);
    } else writeLine(`  ${outcome.status} in ${outcome.seconds.toFixed(1)}s`);
  }
  taskFile(failed === 0 ? "done" : "failed", started, failed ? `${failed} run(s) failed` : undefined);
  return failed === 0 ? 0 : 1;
}

/** Runs the task's curricula command lines one after the other (stops at the first failure). */
async function runCommands(batch: BatchFile, items: number[]): Promise<number> {
  const bin = join(PACKAGE_ROOT, "bin", "curricula.js");
  for (const index of items) {
    const command = batch.commands[index];
    if (!command) return 1;
    writeLine(`curricula ${command.args.join(" ")}`);
    const code = await new Promise<number>((resolvePromise) => {
      const child = spawn(process.execPath, [bin, "--no-progress", ...command.args], {
        cwd: batch.cwd,
        stdio: "inherit",
      });
      const forward = () => child.kill("SIGTERM");
      process.on("SIGTERM", forward);
      child.on("error", (error) => {
        writeLine(describeError(error));
        resolvePromise(1);
      });
      child.on("close", (c, signal) => {
        process.off("SIGTERM", forward);
        resolvePromise(c ?? (signal ? 128 + 15 : 1));
      });
    });
    if (code !== 0) return code;
  }
  return 0;
}

// scancel, the time limit or a preemption: the task file says which (see stopReason).
process.on("SIGTERM", () => {
  releaseHeldLocks();
  if (batchDir) {
    let log = "";
    try {
      log = readFileSync(taskLog(batchDir, task), "utf8").slice(-64 * 1024);
    } catch {
      // no log: a plain kill
    }
    const why = stopReason(log);
    taskFile(why.state, started, why.message);
  }
  process.exit(143);
});

let code: number;
try {
  code = await runBatch();
} catch (error) {
  writeLine(`task ${task}: ${describeError(error)}`);
  code = 1;
}
process.stdout.write("", () => process.exit(code));
