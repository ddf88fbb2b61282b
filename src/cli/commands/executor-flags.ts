import { type Command, Option } from "commander";
import type { Executor } from "../../experiments/executors/local.js";
import { UsageError } from "../../util/errors.js";

/** The `--executor`, `--wait` and `--redis` options of train, curriculum and study. */

export type ExecutorName = "local" | "slurm" | "bullmq";

export interface ExecutorFlags {
  executor: ExecutorName;
  wait?: boolean;
  redis?: string;
  queue?: string;
}

export function addExecutorOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--executor <name>",
        "where runs execute: local processes, a SLURM cluster, or a BullMQ worker pool",
      )
        .choices(["local", "slurm", "bullmq"])
        .default("local"),
    )
    .option("--wait", "slurm: wait until the submitted jobs ended (default: return once submitted)")
    .option("--redis <url>", "bullmq: the Redis URL (default CURRICULA_REDIS_URL)")
    .option("--queue <name>", "bullmq: the queue name", "curricula");
}

/** Checks flag combinations that only make sense with one executor. */
export function checkExecutorFlags(flags: ExecutorFlags): void {
  if (flags.wait && flags.executor !== "slurm")
    throw new UsageError("--wait only applies to --executor slurm");
  if (flags.redis && flags.executor !== "bullmq")
    throw new UsageError("--redis only applies to --executor bullmq");
}

/** The executor of a train command (undefined: the local default). Cluster modules load on use. */
export async function createCliExecutor(
  flags: ExecutorFlags,
  jobs: number | undefined,
): Promise<Executor | undefined> {
  checkExecutorFlags(flags);
  if (flags.executor === "slurm") {
    const { SlurmExecutor } = await import("../../experiments/executors/slurm.js");
    return new SlurmExecutor({ wait: flags.wait, ...(jobs && jobs > 1 ? { maxParallel: jobs } : {}) });
  }
  if (flags.executor === "bullmq") {
    const { BullMQExecutor, checkRedis, redisUrl } = await import("../../experiments/executors/bullmq.js");
    const url = redisUrl(flags.redis);
    await checkRedis(url);
    return new BullMQExecutor({ url, queue: flags.queue });
  }
  return undefined;
}
