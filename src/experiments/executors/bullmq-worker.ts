import { spawn } from "node:child_process";
import { join } from "node:path";
import { type Job, Worker } from "bullmq";
import { PACKAGE_ROOT } from "../../config/package.js";
import { CurriculaError } from "../../util/errors.js";
import { writeLine } from "../../util/progress.js";
import { maskUrl, redactCredentials } from "../../util/secrets.js";
import type { RunOutcome } from "../run-spec.js";
import { checkRedis, connect, DEFAULT_QUEUE, type QueueJobData } from "./bullmq.js";
import { LocalProcessExecutor } from "./local.js";

/**
 * `curricula worker`: takes jobs from the queue and runs them, `concurrency` at a time. Each run
 * trains in its own child process (the local executor's worker), so this process keeps renewing
 * the job's lock however long an epoch takes; when this process dies, its children stop too (they
 * watch their IPC channel) and the jobs are taken over by other workers after `lockMs`.
 */

export interface WorkerOptions {
  url: string;
  queue?: string;
  concurrency?: number;
  /** How long a job stays locked to a worker that stopped renewing (ms; BullMQ lockDuration). */
  lockMs?: number;
  /** How often stalled jobs are looked for (ms; BullMQ stalledInterval). */
  stalledMs?: number;
  /** Handlers for study phase jobs (set by the CLI: the study module sits above this one). */
  phase?: (job: Job<QueueJobData>, token: string | undefined, url: string) => Promise<unknown>;
  log?: (line: string) => void;
}

/** Runs a curricula command line as a child process; rejects on a non-zero exit. */
export function runCurricula(
  args: readonly string[],
  cwd: string,
  log: (line: string) => void,
): Promise<void> {
  const bin = join(PACKAGE_ROOT, "bin", "curricula.js");
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, "--no-progress", ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const tail: string[] = [];
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (!line.trim()) continue;
        log(`  ${line}`);
        tail.push(line);
        if (tail.length > 5) tail.shift();
      }
    };
    child.stdout.on("data", forward);
    child.stderr.on("data", forward);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolvePromise();
      else
        reject(
          new CurriculaError(`curricula ${args.join(" ")}: ${signal ?? `exit ${code}`}: ${tail.join(" | ")}`),
        );
    });
  });
}

/** Starts a worker; resolves with a handle to stop it. */
export async function startWorker(
  options: WorkerOptions,
): Promise<{ worker: Worker; close(): Promise<void> }> {
  await checkRedis(options.url);
  const write = options.log ?? writeLine;
  // Nothing this worker prints (its runs' output and errors included) shows the Redis password.
  const log = (line: string) => write(redactCredentials(line, [options.url]));
  const name = options.queue ?? DEFAULT_QUEUE;
  const connection = connect(options.url);
  const worker = new Worker<QueueJobData, unknown>(
    name,
    async (job, token) => {
      const data = job.data;
      if (data.kind === "run") {
        const spec = data.spec;
        log(`run ${spec.name} (job ${job.id}, try ${job.attemptsMade + 1})`);
        const [outcome] = (await new LocalProcessExecutor({ jobs: 1 }).run([spec], {
          onOutput: (line) => log(`  ${line}`),
        })) as [RunOutcome];
        outcome.job = job.id;
        if (outcome.status === "failed" || outcome.status === "busy") {
          log(`  ${outcome.status}: ${outcome.error}`);
          throw new CurriculaError(outcome.error ?? outcome.status);
        }
        log(`  ${outcome.status} ${spec.name} in ${outcome.seconds.toFixed(1)}s`);
        return outcome;
      }
      if (data.kind === "command") {
        log(`curricula ${data.command.args.join(" ")} (job ${job.id})`);
        await runCurricula(data.command.args, data.cwd, log);
        return { name: data.command.name, status: "done" };
      }
      if (data.kind === "phase") {
        if (!options.phase) throw new CurriculaError(`job ${job.id}: this worker cannot run study phases`);
        return options.phase(job, token, options.url);
      }
      throw new CurriculaError(`job ${job.id}: unknown kind ${(data as { kind?: string }).kind}`);
    },
    {
      connection,
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockMs ?? 30_000,
      stalledInterval: options.stalledMs ?? 30_000,
      maxStalledCount: 3,
    },
  );
  // A Redis that restarts makes every reconnect attempt fail: said once, and again when it is back.
  let lastError = "";
  worker.on("error", (error) => {
    if (error.message === lastError) return;
    lastError = error.message;
    log(`worker: ${error.message}`);
  });
  connection.on("ready", () => {
    if (!lastError) return;
    lastError = "";
    log(`worker: connected to Redis at ${maskUrl(options.url)} again`);
  });
  worker.on("failed", (job, error) => {
    if (job) log(`job ${job.id} failed (try ${job.attemptsMade}): ${error.message}`);
  });
  await worker.waitUntilReady();
  log(
    `worker ${process.pid} on queue ${name} at ${maskUrl(options.url)} (concurrency ${options.concurrency ?? 1})`,
  );
  return {
    worker,
    close: async () => {
      await worker.close();
      connection.disconnect();
    },
  };
}
