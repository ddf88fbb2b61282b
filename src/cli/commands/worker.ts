import type { Command } from "commander";
import { positiveInt } from "../shared.js";

interface WorkerFlags {
  redis?: string;
  queue: string;
  concurrency: number;
  lockSeconds: number;
}

/** `curricula worker --redis URL [--concurrency N]`: a BullMQ worker of the pool. */
export function register(program: Command): void {
  program
    .command("worker")
    .description(
      "take runs and study stages from a BullMQ queue and run them (any number of machines sharing the results folder)",
    )
    .option("--redis <url>", "the Redis URL (default CURRICULA_REDIS_URL)")
    .option("--queue <name>", "the queue name", "curricula")
    .option(
      "-c, --concurrency <n>",
      "jobs run at once, each in its own process",
      positiveInt("--concurrency"),
      1,
    )
    .option(
      "--lock-seconds <s>",
      "how long a job stays locked to a worker that stopped answering before another takes it over",
      positiveInt("--lock-seconds"),
      30,
    )
    .addHelpText(
      "after",
      "\nExamples:\n  curricula worker --redis redis://queue-host:6379 --concurrency 2\n" +
        "  CURRICULA_REDIS_URL=redis://queue-host:6379 curricula worker\n" +
        "Stop a worker with Ctrl-C or SIGTERM: its runs stop and another worker resumes them from their checkpoints.",
    )
    .action(async (flags: WorkerFlags) => {
      const { redisUrl } = await import("../../experiments/executors/bullmq.js");
      const { startWorker } = await import("../../experiments/executors/bullmq-worker.js");
      const { runPhaseJob } = await import("../../study/cluster.js");
      const url = redisUrl(flags.redis);
      const lockMs = flags.lockSeconds * 1000;
      const handle = await startWorker({
        url,
        queue: flags.queue,
        concurrency: flags.concurrency,
        lockMs,
        stalledMs: Math.max(1000, Math.round(lockMs / 2)),
        phase: runPhaseJob,
      });
      await new Promise<void>((resolvePromise) => {
        const stop = (signal: NodeJS.Signals) => {
          process.stderr.write(`worker: ${signal}, stopping (unfinished jobs go back to the queue)\n`);
          void handle.worker.close(true).finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
          setTimeout(() => process.exit(signal === "SIGINT" ? 130 : 143), 3000).unref();
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        handle.worker.on("closed", () => resolvePromise());
      });
    });
}
