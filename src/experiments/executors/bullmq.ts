import { type Job, Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { CurriculaError, UsageError } from "../../util/errors.js";
import { textSha256 } from "../../util/fingerprint.js";
import { writeLine } from "../../util/progress.js";
import type { RunOutcome, RunSpec } from "../run-spec.js";
import type { Executor, ExecutorEvents, ScoreSweep } from "./local.js";
import type { ClusterCommand } from "./slurm.js";

/**
 * The worker-pool executor: runs become jobs of a BullMQ queue on Redis, and `curricula worker`
 * processes on any number of machines (sharing the results folder) train them. A run's job id is
 * derived from its run folder, so submitting a run twice (two submitters, a rerun) queues it once;
 * a job whose worker dies is taken over by another worker once its lock expires, and the trainer
 * resumes from the run's last checkpoint. Redis holds only the queue: results live in the run
 * folders, and losing Redis loses nothing but the queue.
 */

export const DEFAULT_QUEUE = "curricula";

/** What a queue job carries. */
export type QueueJobData =
  | { kind: "run"; spec: RunSpec }
  | { kind: "command"; command: ClusterCommand; cwd: string }
  | { kind: "phase"; phase: number; study: StudyPhaseData };

/** A study phase job (see src/study/cluster.ts): plans its stages' work when a worker takes it. */
export interface StudyPhaseData {
  file: string | null;
  cwd: string;
  configPath?: string;
  /** The phase's stage names. */
  stages: string[];
}

/** The Redis URL: the flag, else CURRICULA_REDIS_URL; a usage error when neither is set. */
export function redisUrl(flag: string | undefined): string {
  const url = flag ?? process.env.CURRICULA_REDIS_URL;
  if (!url) {
    throw new UsageError(
      "--executor bullmq needs --redis <url> (or CURRICULA_REDIS_URL), e.g. redis://host:6379",
    );
  }
  if (!/^rediss?:\/\//.test(url)) {
    throw new UsageError(`--redis: expected a redis:// or rediss:// URL, got '${url}'`);
  }
  return url;
}

/** A connection for BullMQ (workers need maxRetriesPerRequest: null). */
export function connect(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/** Fails with a clear error unless Redis answers PING within `timeoutMs`. Writes nothing. */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // The socket's own error (ECONNREFUSED, ENOTFOUND, ...) says more than the client's "closed".
  let socketError: Error | undefined;
  client.on("error", (error: Error) => {
    socketError ??= error;
  });
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== "PONG") throw new Error(`PING answered '${pong}'`);
  } catch (error) {
    const reason = socketError?.message || (error as Error).message || String(error);
    throw new CurriculaError(
      `cannot reach Redis at ${url}: ${reason} ` +
        "(start redis-server, or pass the right --redis / CURRICULA_REDIS_URL)",
    );
  } finally {
    client.disconnect();
  }
}

/** The job id of a run: stable per run folder, so a run is queued at most once. */
export function runJobId(spec: RunSpec): string {
  return `run-${textSha256(spec.runDir).slice(0, 32)}`;
}

export interface JobOptionsConfig {
  /** Tries per job (first try included). */
  attempts: number;
  /** First retry delay (ms); doubles each retry. */
  backoffMs: number;
}

export const DEFAULT_JOB_OPTIONS: JobOptionsConfig = { attempts: 3, backoffMs: 5000 };

export function jobOptions(config: JobOptionsConfig = DEFAULT_JOB_OPTIONS) {
  return {
    attempts: config.attempts,
    backoff: { type: "exponential" as const, delay: config.backoffMs },
    // Finished jobs stay a day for late submitters to read; the run folders are the record.
    removeOnComplete: { age: 24 * 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

export interface BullMQExecutorOptions {
  url: string;
  queue?: string;
  jobOptions?: JobOptionsConfig;
  log?: ((line: string) => void) | null;
}

/**
 * Queues each spec as a job and waits for all of them, reporting starts and ends as workers take
 * and finish them. Outcomes are the workers' (the same as a local run's).
 */
export class BullMQExecutor implements Executor {
  constructor(private readonly options: BullMQExecutorOptions) {}

  /** Queues the scoring sweep as a flow (the correlation job waits for every score) and waits. */
  async score(sweep: ScoreSweep): Promise<null> {
    const { runScoresBullMQ } = await import("./score-jobs.js");
    await runScoresBullMQ({
      overrides: sweep.overrides,
      configName: sweep.configName ?? "curriculum",
      ...(sweep.configPath ? { configPath: sweep.configPath } : {}),
      ...(sweep.cwd ? { cwd: sweep.cwd } : {}),
      url: this.options.url,
      ...(this.options.queue ? { queue: this.options.queue } : {}),
      ...(this.options.log ? { log: this.options.log } : {}),
    });
    return null;
  }

  async run(specs: readonly RunSpec[], events: ExecutorEvents = {}): Promise<RunOutcome[]> {
    if (specs.length === 0) return [];
    await checkRedis(this.options.url);
    const log = this.options.log === undefined ? writeLine : this.options.log;
    const name = this.options.queue ?? DEFAULT_QUEUE;
    const connection = connect(this.options.url);
    const eventsConnection = connect(this.options.url);
    const queue = new Queue<QueueJobData, RunOutcome>(name, { connection });
    const queueEvents = new QueueEvents(name, { connection: eventsConnection });
    try {
      await queueEvents.waitUntilReady();
      const ids = specs.map((s) => runJobId(s));
      const index = new Map(ids.map((id, i) => [id, i]));
      const started = new Set<number>();
      queueEvents.on("active", ({ jobId }) => {
        const i = index.get(jobId);
        if (i === undefined || started.has(i)) return;
        started.add(i);
        events.onStart?.(specs[i] as RunSpec, i, specs.length);
      });
      queueEvents.on("stalled", ({ jobId }) => {
        const i = index.get(jobId);
        if (i !== undefined)
          log?.(`  ${specs[i]?.name}: its worker stopped answering; another worker takes it over`);
      });
      queueEvents.on("retries-exhausted", () => {});
      log?.(`queueing ${specs.length} run(s) on ${name} at ${this.options.url}`);
      const jobs: Job<QueueJobData, RunOutcome>[] = [];
      for (const [i, spec] of specs.entries()) {
        jobs.push(await addRunJob(queue, spec, ids[i] as string, this.options.jobOptions));
      }
      log?.(
        `queued ${jobs.length} run(s); waiting for workers (curricula worker --redis ${this.options.url})`,
      );
      return await Promise.all(
        jobs.map(async (job, i) => {
          const spec = specs[i] as RunSpec;
          let outcome: RunOutcome;
          try {
            outcome = (await job.waitUntilFinished(queueEvents)) as RunOutcome;
          } catch (error) {
            outcome = {
              name: spec.name,
              runDir: spec.runDir,
              status: "failed",
              seconds: 0,
              job: job.id,
              error: `queue job ${job.id} failed after its tries: ${(error as Error).message}`,
            };
          }
          events.onEnd?.(outcome, i, specs.length);
          return outcome;
        }),
      );
    } finally {
      await queueEvents.close();
      await queue.close();
      connection.disconnect();
      eventsConnection.disconnect();
    }
  }
}

/**
 * Adds a run's job unless it is queued or running already (then that job is returned). A finished
 * or failed job of the same run left from earlier is replaced: the run folder decides whether the
 * run still needs training, and the caller only queues runs that do.
 */
export async function addRunJob(
  queue: Queue<QueueJobData, RunOutcome>,
  spec: RunSpec,
  id: string,
  config?: JobOptionsConfig,
): Promise<Job<QueueJobData, RunOutcome>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await queue.getJob(id);
    if (existing) {
      const state = await existing.getState();
      if (state !== "completed" && state !== "failed") return existing;
      await existing.remove().catch(() => {});
      continue;
    }
    return queue.add("run", { kind: "run", spec }, { ...jobOptions(config), jobId: id });
  }
  throw new CurriculaError(`${spec.name}: could not replace its earlier queue job ${id}`);
}

/** Job counts of a queue by state (for `curricula status --redis`). */
export async function queueCounts(url: string, name = DEFAULT_QUEUE): Promise<Record<string, number>> {
  await checkRedis(url);
  const connection = connect(url);
  const queue = new Queue(name, { connection });
  try {
    return await queue.getJobCounts(
      "waiting",
      "active",
      "delayed",
      "waiting-children",
      "completed",
      "failed",
    );
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
