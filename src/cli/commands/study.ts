import { relative } from "node:path";
import type { Command } from "commander";
import { checkExecutorSettings } from "../../experiments/executors/index.js";
import { positiveInt } from "../shared.js";
import { addExecutorOptions, type ExecutorFlags } from "./executor-flags.js";

interface StudyCommandOptions extends ExecutorFlags {
  stage?: string;
  jobs: number;
  dryRun?: boolean;
  configPath?: string;
}

/** `curricula study [study.yaml]`: train → score → curriculum-train → report in one command. */
export function register(program: Command): void {
  const command = program
    .command("study")
    .description(
      "run a whole study (baseline, scores and their seed ensembles, correlation, curriculum comparison, report)",
    )
    .argument("[file]", "study file (default: the packaged default study on Digits)")
    .option("-j, --jobs <n>", "processes to run at once", positiveInt("--jobs"), 2)
    .option("--dry-run", "list the stages and whether they would run")
    .option("--config-path <dir>", "project config folder the study may use (default: conf)")
    .option("--stage <name>", "run only this stage (what cluster jobs run), with the configs planned before");
  addExecutorOptions(command).action(async (file: string | undefined, options: StudyCommandOptions) => {
    checkExecutorSettings(options);
    // Loaded on use: keeps every other command's start-up fast.
    const { study } = await import("../../study/index.js");
    const result = await study({
      file,
      jobs: options.jobs,
      dryRun: options.dryRun,
      configPath: options.configPath,
      executor: options.executor,
      ...(options.wait ? { wait: true } : {}),
      ...(options.redis ? { redis: options.redis } : {}),
      queue: options.queue,
      ...(options.stage ? { stage: options.stage } : {}),
    });
    const queued = result.stages.some((s) => s.status === "pending");
    if (result.report && !queued)
      process.stdout.write(`Report: ${relative(process.cwd(), result.report) || result.report}\n`);
  });
}
