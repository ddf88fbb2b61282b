import { UsageError } from "../../util/errors.js";
import { type Executor, LocalExecutor, LocalProcessExecutor } from "./local.js";

/**
 * The one way to choose where work runs, for `train`, `curriculum` (scoring) and `study`: the
 * settings of the `--executor`, `--jobs`, `--wait`, `--redis` and `--queue` options give an
 * `Executor`, which trains run specs (`run`) and computes scoring sweeps (`score`). Cluster modules
 * load on use.
 */

export type ExecutorName = "local" | "slurm" | "bullmq";

export interface ExecutorSettings {
  /** Where work runs (default local). */
  executor?: ExecutorName;
  /** local: runs at once; slurm: the cap on running array tasks. */
  jobs?: number;
  /** local: always in worker processes (a study runs several stages at once), scoring included. */
  processes?: boolean;
  /** slurm: wait until the submitted jobs ended. */
  wait?: boolean;
  /** bullmq: the Redis URL (default CURRICULA_REDIS_URL). */
  redis?: string;
  /** bullmq: the queue name. */
  queue?: string;
  /** Messages (default stderr; null: none). */
  log?: ((line: string) => void) | null;
}

/** Refuses settings that only make sense with another executor. */
export function checkExecutorSettings(settings: ExecutorSettings): void {
  const name = settings.executor ?? "local";
  if (settings.wait && name !== "slurm") throw new UsageError("--wait only applies to --executor slurm");
  if (settings.redis && name !== "bullmq") throw new UsageError("--redis only applies to --executor bullmq");
}

/** The executor the settings name (checked first; a BullMQ executor checks that Redis answers). */
export async function createExecutor(settings: ExecutorSettings = {}): Promise<Executor> {
  checkExecutorSettings(settings);
  const jobs = settings.jobs;
  if (settings.executor === "slurm") {
    const { SlurmExecutor } = await import("./slurm.js");
    return new SlurmExecutor({
      wait: settings.wait,
      ...(jobs && jobs > 1 ? { maxParallel: jobs } : {}),
      ...(settings.log !== undefined ? { log: settings.log } : {}),
    });
  }
  if (settings.executor === "bullmq") {
    const { BullMQExecutor, checkRedis, redisUrl } = await import("./bullmq.js");
    const url = redisUrl(settings.redis);
    await checkRedis(url);
    return new BullMQExecutor({
      url,
      queue: settings.queue,
      ...(settings.log !== undefined ? { log: settings.log } : {}),
    });
  }
  if (settings.processes) return new LocalProcessExecutor({ jobs: Math.max(1, jobs ?? 1) });
  return new LocalExecutor({ jobs: jobs ?? 1, ...(settings.log !== undefined ? { log: settings.log } : {}) });
}
