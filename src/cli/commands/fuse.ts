import { relative } from "node:path";
import type { Command } from "commander";
import { fuse } from "../../experiments/fusion.js";
import { out, say } from "../shared.js";

function format(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join(", ");
}

/** `curricula fuse <results_dir> <experiment_id> <name>... [--id NAME]`: late fusion of test outputs. */
export function register(program: Command): void {
  program
    .command("fuse")
    .description(
      "late fusion: average the test softmax outputs of runs (or aggregated names, each expanding to its seeds) and write fusion/<id>/",
    )
    .argument("<results_dir>", "results folder (e.g. results)")
    .argument("<experiment_id>", "experiment id (e.g. default)")
    .argument("<names...>", "training run names or aggregated names (…_#)")
    .option("--id <name>", "folder name under fusion/", "late-fusion")
    .addHelpText(
      "after",
      "\nExample:\n  curricula fuse results study 'Digits_FFNN_Adam_0.001_32_step_340_None_None_C_B_CELoss_Linear_0.2_0.8_#' \\\n" +
        "    'Digits_FFNN_Adam_0.001_32_step_340_None_None_N_N_None_None_1_0_#' --id curriculum-and-baseline",
    )
    .action(async (resultsDir: string, experimentId: string, names: string[], options: { id: string }) => {
      const result = await fuse(resultsDir, experimentId, names, { id: options.id });
      say(`fused ${result.members.length} run(s): ${format(result.metrics)}`);
      if ("metrics" in result.baseline) {
        say(`baseline ensemble of ${result.baseline.size} seed(s): ${format(result.baseline.metrics)}`);
      } else {
        say(`no equal-size baseline ensemble: ${result.baseline.reason}`);
      }
      out(relative(process.cwd(), result.dir) || result.dir);
    });
}
