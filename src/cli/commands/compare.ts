import type { Command } from "commander";
import { computeLine, verdictLine } from "../../experiments/comparison.js";
import { compareExperiment } from "../../experiments/postprocess.js";
import { out } from "../shared.js";

/** `curricula compare <results_dir> <experiment_id> [--by KEY...] [--metric M...] [--reference R]`. */
export function register(program: Command): void {
  program
    .command("compare")
    .description(
      "paired comparisons over seeds: each condition against the reference (mean difference, bootstrap interval, sign-flip p, Holm, seeds needed) and the samples to reach the reference's best",
    )
    .argument("<results_dir>", "results folder (e.g. results)")
    .argument("<experiment_id>", "experiment id (e.g. default)")
    .option("--by <keys...>", "naming keys that make a condition (default: the curriculum's)")
    .option("--metric <metrics...>", "test metrics to compare (default: all, e.g. accuracy)")
    .option("--reference <condition>", "the reference condition, by label or name (default: the baseline)")
    .addHelpText("after", "\nExample:\n  curricula compare results default --metric accuracy")
    .action(
      (
        resultsDir: string,
        experimentId: string,
        options: { by?: string[]; metric?: string[]; reference?: string },
      ) => {
        const result = compareExperiment(resultsDir, experimentId, {
          by: options.by,
          metrics: options.metric,
          reference: options.reference,
        });
        if (result.comparisons.length === 0) {
          out(
            "No comparison: no context holds the reference condition and another condition" +
              (result.unmatched.length > 0 ? ` (no reference in: ${result.unmatched.join(", ")})` : ""),
          );
          return;
        }
        for (const context of new Set(result.comparisons.map((c) => c.context))) {
          out(context);
          for (const row of result.comparisons.filter((c) => c.context === context))
            out(`  ${verdictLine(row)}`);
          for (const row of result.compute.filter((c) => c.context === context)) out(`  ${computeLine(row)}`);
        }
      },
    );
}
