import type { Command } from "commander";
import { out } from "../shared.js";

/** `curricula status <results_dir> <experiment_id>`: queued, running, done and failed runs and stage jobs. */
export function register(program: Command): void {
  program
    .command("status")
    .description("show which runs and study stage jobs of an experiment are queued, running, done or failed")
    .argument("<results_dir>", "the results folder")
    .argument("<experiment_id>", "the experiment")
    .option("--redis <url>", "also show the counts of a BullMQ queue (default CURRICULA_REDIS_URL if set)")
    .option("--queue <name>", "the BullMQ queue", "curricula")
    .action(async (resultsDir: string, experimentId: string, flags: { redis?: string; queue: string }) => {
      const { experimentStatus, formatStatus } = await import("../../experiments/executors/status.js");
      for (const line of formatStatus(experimentStatus(resultsDir, experimentId))) out(line);
      const url = flags.redis ?? process.env.CURRICULA_REDIS_URL;
      if (url) {
        const { queueCounts } = await import("../../experiments/executors/bullmq.js");
        const counts = await queueCounts(url, flags.queue);
        out(
          `queue ${flags.queue}: ${Object.entries(counts)
            .map(([k, v]) => `${v} ${k}`)
            .join(", ")}`,
        );
      }
    });
}
