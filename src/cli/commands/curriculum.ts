import { relative } from "node:path";
import type { Command } from "commander";
import { createExecutor } from "../../experiments/executors/index.js";
import { CurriculaError } from "../../util/errors.js";
import { addExecutorOptions, type ExecutorFlags } from "./executor-flags.js";

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
    const executor = await createExecutor(options);
    if (!executor.score) throw new CurriculaError(`the ${options.executor} executor cannot score`);
    const scores = await executor.score({
      overrides,
      configName: options.configName,
      ...(options.configPath ? { configPath: options.configPath } : {}),
      ...(options.force ? { force: true } : {}),
    });
    for (const { id, type, scoreFile, matrices } of scores ?? []) {
      process.stdout.write(`${type}/${id}: ${relative(process.cwd(), scoreFile)}\n`);
      for (const matrix of matrices) {
        process.stdout.write(
          `  ${matrix.name}: ${relative(process.cwd(), matrix.csv)} (${matrix.count} scores)\n`,
        );
      }
    }
  });
}
