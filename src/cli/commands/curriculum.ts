import { relative } from "node:path";
import type { Command } from "commander";
import { score } from "../../scoring/score.js";
import { addExecutorOptions, checkExecutorFlags, type ExecutorFlags } from "./executor-flags.js";

export interface CurriculumCommandOptions extends ExecutorFlags {
  configName: string;
  configPath?: string;
  force?: boolean;
}

/**
 * `curricula curriculum [overrides...]` (alias `score`): computes difficulty scores from
 * conf/curriculum.yaml, e.g. `curricula curriculum curriculum/scoring=CELoss,Random
 * curriculum.scoring.run_name=<run>`.
 */
export function register(program: Command): void {
  const command = program
    .command("curriculum")
    .alias("score")
    .description("score the difficulty of every training sample (sweeps curriculum/scoring=A,B,...)")
    .argument(
      "[overrides...]",
      "key=value overrides; comma lists sweep, e.g. curriculum/scoring=CELoss,Random",
    )
    .option("--config-name <name>", "entry config", "curriculum")
    .option("--config-path <dir>", "local config folder searched before the packaged configs (default: conf)")
    .option(
      "-f, --force",
      "recompute a score id made from another config or other runs (the old files are kept under <type>/_replaced/)",
    );
  addExecutorOptions(command).action(async (overrides: string[], options: CurriculumCommandOptions) => {
    checkExecutorFlags(options);
    if (options.executor !== "local") {
      const jobs = await import("../../experiments/executors/score-jobs.js");
      const common = { overrides, configName: options.configName, configPath: options.configPath };
      if (options.executor === "slurm") await jobs.submitScoresSlurm({ ...common, wait: options.wait });
      else {
        const { redisUrl } = await import("../../experiments/executors/bullmq.js");
        await jobs.runScoresBullMQ({ ...common, url: redisUrl(options.redis), queue: options.queue });
      }
      return;
    }
    const results = await score({
      overrides,
      configName: options.configName,
      configPath: options.configPath,
      force: options.force,
    });
    for (const { id, type, result } of results) {
      process.stdout.write(`${type}/${id}: ${relative(process.cwd(), result.scoreFile)}\n`);
      for (const matrix of result.matrices) {
        process.stdout.write(
          `  ${matrix.name}: ${relative(process.cwd(), matrix.csv)} (${matrix.ids.length} scores)\n`,
        );
      }
    }
  });
}
