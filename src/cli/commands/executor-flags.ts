import { type Command, Option } from "commander";
import type { ExecutorName } from "../../experiments/executors/index.js";

/**
 * The `--executor`, `--wait`, `--redis` and `--queue` options of train, curriculum and study; the
 * executor they name comes from `createExecutor` (experiments/executors/index.ts).
 */
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
