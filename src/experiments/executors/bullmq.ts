import { type Job, Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { CurriculaError, UsageError } from "../../util/errors.js";
import { textSha256 } from "../../util/fingerprint.js";
import { writeLine } from "../../util/progress.js";
import { maskUrl, redactCredentials } from "../../util/secrets.js";
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
    throw new UsageError(`--redis: expected a redis:// or rediss:// URL, got '${maskUrl(url)}'`);
  }
  return url;
}

/**
 * A connection for BullMQ (workers need maxRetriesPerRequest: null). Its errors (a refused
 * reconnect while Redis restarts) go to `onError`, not to the console: the caller says what they
 * mean once, in words.
 */
export function connect(url: string, onError: (error: Error) => void = () => {}): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
  client.on("error", onError);
  return client;
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
      `cannot reach Redis at ${maskUrl(url)}: ${redactCredentials(reason, [url])} ` +
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
  /** How long Redis may stay unreachable before the runs fail (ms; default 5 minutes). */
  unreachableMs?: number;
  /** How often the queued jobs are checked for a Redis that lost them (ms; default 10 s). */
  checkMs?: number;
}

/** How often a run's job may be lost by Redis and queued again before the run fails. */
const MAX_REQUEUES = 3;

/**
 * Queues each spec as a job and waits for all of them, reporting starts and ends as workers take
 * and finish them. Outcomes are the workers' (the same as a local run's).
 *
 * Redis holds the queue only in memory unless it persists it: a Redis restarted without
 * persistence comes back empty. After every reconnect (and every `checkMs`) the jobs still awaited
 * are looked up; a job Redis no longer has is queued again under its id (the run folder keeps what
 * was trained: the run resumes from its checkpoint, or is found finished), at most MAX_REQUEUES
 * times. A Redis unreachable for `unreachableMs` fails the runs with a message saying so.
 */
export class BullMQExecutor implements Executor {
  constructor(private readonly options: BullMQExecutorOptions) {}

  /** Queues the scoring sweep as a flow (the correlation job waits for every score) and waits. */
  async score(sweep: ScoreSweep): Promise<null> {
    const { runScoresBullMQ } = await import("./score-jobs.js");
    await runScoresBullMQ(sweep, this.options);
    return null;
  }

  async run(specs: readonly RunSpec[], events: ExecutorEvents = {}): Promise<RunOutcome[]> {
    if (specs.length === 0) return [];
    await checkRedis(this.options.url);
    const write = this.options.log === undefined ? writeLine : this.options.log;
    const url = this.options.url;
    const log = write && ((line: string) => write(redactCredentials(line, [url])));
    const name = this.options.queue ?? DEFAULT_QUEUE;
    const unreachableMs = this.options.unreachableMs ?? 5 * 60_000;
    const checkMs = this.options.checkMs ?? 10_000;

    // The link to Redis: when it went down, what the last error said, and when it came back.
    let downSince: number | null = null;
    let lastError = "";
    const onError = (error: Error) => {
      lastError = error.message;
      downSince ??= Date.now();
    };
    const connection = connect(url, onError);
    const eventsConnection = connect(url, onError);
    connection.on("close", () => {
      downSince ??= Date.now();
    });
    const queue = new Queue<QueueJobData, RunOutcome>(name, { connection });
    const queueEvents = new QueueEvents(name, { connection: eventsConnection });
    queue.on("error", onError);
    queueEvents.on("error", onError);

    const ids = specs.map((s) => runJobId(s));
    const index = new Map(ids.map((id, i) => [id, i]));
    const outcomes: (RunOutcome | undefined)[] = specs.map(() => undefined);
    const requeues = specs.map(() => 0);
    let settle: (() => void) | undefined;
    let fail: ((error: Error) => void) | undefined;
    const done = new Promise<void>((resolvePromise, reject) => {
      settle = resolvePromise;
      fail = reject;
    });
    const finish = (i: number, outcome: RunOutcome) => {
      if (outcomes[i]) return;
      outcomes[i] = outcome;
      events.onEnd?.(outcome, i, specs.length);
      if (outcomes.every(Boolean)) settle?.();
    };
    const failed = (i: number, id: string, reason: string): RunOutcome => {
      const spec = specs[i] as RunSpec;
      return {
        name: spec.name,
        runDir: spec.runDir,
        status: "failed",
        seconds: 0,
        job: id,
        error: `queue job ${id} failed after its tries: ${redactCredentials(reason, [url])}`,
      };
    };

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
    queueEvents.on("completed", ({ jobId, returnvalue }) => {
      const i = index.get(jobId);
      if (i !== undefined) finish(i, returnvalue as unknown as RunOutcome);
    });
    queueEvents.on("failed", ({ jobId, failedReason }) => {
      const i = index.get(jobId);
      if (i !== undefined) finish(i, failed(i, jobId, failedReason));
    });

    // Looks up every awaited job: finished ones whose event was missed end, lost ones are queued again.
    let checking = false;
    const check = async () => {
      if (checking || downSince !== null || outcomes.every(Boolean)) return;
      checking = true;
      try {
        const lost: number[] = [];
        for (const [i, id] of ids.entries()) {
          if (outcomes[i]) continue;
          const state = await queue.getJobState(id);
          if (state === "completed" || state === "failed") {
            const job = await queue.getJob(id);
            if (!job) lost.push(i);
            else if (state === "completed") finish(i, job.returnvalue);
            else finish(i, failed(i, id, job.failedReason));
          } else if (state === "unknown") lost.push(i);
        }
        if (lost.length === 0) return;
        log?.(
          `Redis no longer has ${lost.length} queued run(s) (was it restarted without persistence?); ` +
            "queueing them again (their run folders keep what was trained)",
        );
        for (const i of lost) {
          const spec = specs[i] as RunSpec;
          const id = ids[i] as string;
          if (++(requeues[i] as number) > MAX_REQUEUES) {
            finish(i, failed(i, id, `Redis lost the job ${MAX_REQUEUES + 1} times`));
            continue;
          }
          started.delete(i);
          await addRunJob(queue, spec, id, this.options.jobOptions);
        }
      } catch (error) {
        // Redis went away again mid-check: the next reconnect checks again.
        onError(error as Error);
      } finally {
        checking = false;
      }
    };
    connection.on("ready", () => {
      if (downSince === null) return;
      downSince = null;
      log?.(`reconnected to Redis at ${maskUrl(url)}; checking the queued runs`);
      void check();
    });
    const watchdog = setInterval(() => {
      if (downSince !== null && Date.now() - downSince > unreachableMs) {
        fail?.(
          new CurriculaError(
            `lost Redis at ${maskUrl(url)} for ${Math.round((Date.now() - downSince) / 1000)} s` +
              `${lastError ? ` (${redactCredentials(lastError, [url])})` : ""}; ` +
              "the runs' folders keep what was trained: run the command again once Redis is back",
          ),
        );
        return;
      }
      void check();
    }, checkMs);

    try {
      await queueEvents.waitUntilReady();
      log?.(`queueing ${specs.length} run(s) on ${name} at ${maskUrl(url)}`);
      for (const [i, spec] of specs.entries()) {
        await addRunJob(queue, spec, ids[i] as string, this.options.jobOptions);
      }
      log?.(`queued ${specs.length} run(s); waiting for workers (curricula worker --redis ${maskUrl(url)})`);
      if (!outcomes.every(Boolean)) await done;
      return outcomes as RunOutcome[];
    } finally {
      clearInterval(watchdog);
      await Promise.allSettled([queueEvents.close(), queue.close()]);
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
