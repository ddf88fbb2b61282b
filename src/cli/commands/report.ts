import { type Command, InvalidArgumentError } from "commander";
import { out } from "../shared.js";

function nonNegativeInt(text: string): number {
  if (!/^\d+$/.test(text.trim()))
    throw new InvalidArgumentError(`--thumbnails expects an integer ≥ 0, got '${text}'.`);
  return Number(text);
}

/** `curricula report <results_dir> <experiment_id>`: one self-contained HTML page; prints its path. */
export function register(program: Command): void {
  program
    .command("report")
    .description(
      "write a self-contained HTML report of an experiment (opens without network) and print its path",
    )
    .argument("<results_dir>", "results folder (e.g. results)")
    .argument("<experiment_id>", "experiment id (e.g. default)")
    .option(
      "-o, --output <file>",
      "where to write the report (default <results_dir>/<experiment_id>/report.html)",
    )
    .option(
      "--thumbnails <n>",
      "easiest and hardest samples shown per class for image datasets (0: none)",
      nonNegativeInt,
      4,
    )
    .addHelpText("after", "\nExample:\n  curricula report results default")
    .action(
      async (resultsDir: string, experimentId: string, options: { output?: string; thumbnails: number }) => {
        // Loaded on use: keeps every other command's start-up fast.
        const { writeReport } = await import("../../report/report.js");
        const path = await writeReport(resultsDir, experimentId, {
          outPath: options.output,
          thumbnails: options.thumbnails,
        });
        out(path);
      },
    );
}
