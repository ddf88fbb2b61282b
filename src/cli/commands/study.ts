import { relative } from "node:path";
import type { Command } from "commander";
import { positiveInt } from "../shared.js";

interface StudyCommandOptions {
  jobs: number;
  dryRun?: boolean;
  configPath?: string;
}

/** `curricula study [study.yaml]`: train → score → curriculum-train → report in one command. */
export function register(program: Command): void {
  program
    .command("study")
    .description(
      "run a whole study (baseline, scores and their seed ensembles, correlation, curriculum comparison, report)",
    )
    .argument("[file]", "study file (default: the packaged default study on Digits)")
    .option("-j, --jobs <n>", "processes to run at once", positiveInt("--jobs"), 2)
    .option("--dry-run", "list the stages and whether they would run")
    .option("--config-path <dir>", "project config folder the study may use (default: conf)")
    .action(async (file: string | undefined, options: StudyCommandOptions) => {
      // Loaded on use: keeps every other command's start-up fast.
      const { study } = await import("../../study/index.js");
      const result = await study({
        file,
        jobs: options.jobs,
        dryRun: options.dryRun,
        configPath: options.configPath,
      });
      if (result.report)
        process.stdout.write(`Report: ${relative(process.cwd(), result.report) || result.report}\n`);
    });
}
