import type { Command } from "commander";
import { checkExecutorSettings, createExecutor } from "../../experiments/executors/index.js";
import { preprocess, train } from "../../experiments/train.js";
import { CurriculaError } from "../../util/errors.js";
import { positiveInt } from "../shared.js";
import { addExecutorOptions, type ExecutorFlags } from "./executor-flags.js";

interface TrainFlags extends ExecutorFlags {
  configName: string;
  configPath?: string;
  jobs: number;
  dryRun?: boolean;
}

const OVERRIDES_HELP =
  "key=value overrides: dotted keys (optimizer.weight_decay=0.01), groups (dataset=MNIST, " +
  "curriculum/scoring=CELoss); comma lists sweep (seed=1,2,3); quote to keep commas ('a,b'); [1,2] is a list";

/** `curricula train [overrides...]` and `curricula preprocess [overrides...]`. */
export function register(program: Command): void {
  const command = program
    .command("train")
    .description("train every run of the config's grid (finished runs are skipped, crashed ones resume)")
    .argument("[overrides...]", OVERRIDES_HELP)
    .option("--config-name <name>", "entry config (also -cn)", "config")
    .option(
      "--config-path <dir>",
      "local config folder searched before the packaged configs (also -cp; default conf)",
    )
    .option("-j, --jobs <n>", "worker processes running grid points in parallel", positiveInt("--jobs"), 1)
    .option("--dry-run", "list the runs that would train, train nothing");
  addExecutorOptions(command)
    .addHelpText(
      "after",
      "\nExamples:\n  curricula train\n  curricula train dataset=Digits model=FFNN seed=1,2,3 --jobs 2\n" +
        "  curricula train -cn my_experiment iterations=20 learning_rate=0.01,0.001\n" +
        "  curricula train seed=1,2,3,4 --executor slurm slurm.partition=gpu   # one job array\n" +
        "  curricula train seed=1,2,3,4 --executor bullmq --redis redis://host:6379",
    )
    .action(async (overrides: string[], flags: TrainFlags) => {
      checkExecutorSettings(flags);
      const executor = flags.dryRun ? undefined : await createExecutor({ ...flags, jobs: flags.jobs });
      const summary = await train({
        ...(executor ? { executor } : {}),
        overrides,
        configName: flags.configName,
        configPath: flags.configPath,
        jobs: flags.jobs,
        dryRun: flags.dryRun,
      });
      if (summary.failed.length > 0) {
        throw new CurriculaError(
          `${summary.failed.length} of ${summary.runs.length} run(s) failed (listed above).`,
        );
      }
    });

  program
    .command("preprocess")
    .description("preprocess the datasets of the config's grid (AudioFolder log-mel feature cache)")
    .argument("[overrides...]", OVERRIDES_HELP)
    .option("--config-name <name>", "entry config (also -cn)", "config")
    .option("--config-path <dir>", "local config folder (also -cp; default conf)")
    .action(async (overrides: string[], flags: Omit<TrainFlags, "jobs" | keyof ExecutorFlags>) => {
      await preprocess({ overrides, configName: flags.configName, configPath: flags.configPath });
    });
}
